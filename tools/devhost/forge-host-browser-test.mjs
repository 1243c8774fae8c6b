// The browser test of the emulated Forge Custom UI host: a real Chromium
// opens the emulated Jira issue page where the fixture Forge app
// (crates/devhost/tests/fixtures/forge-bridge-app, its page bundled with the
// real @forge/bridge by esbuild) is installed, and drives the fixture's two
// frames (issue panel, issue context) through the bridge.
//
//   node tools/devhost/forge-host-browser-test.mjs <issue page URL> <resource origin>
//        <viewer account id> <admin page URL> <Confluence page URL> <screenshot path>
//
// Steps: wait for both frames' bridge; getContext; requestJira PUT then GET
// of an issue property; a call outside the manifest's scopes and one
// outside the REST API; view.theme.enable() and the page's theme toggle; invokeRemote;
// events.emit from the panel, received by the issue context; showFlag; an
// unknown bridge call; the panel's height following its content; a Modal
// (its context, size and title, one at a time, view.close(payload) to the
// opener's onClose, Escape, the overlay, a missing resource); router.open,
// router.reload and router.navigate; then as
// the viewer, a PUT (refused by the viewer's permissions) and a GET; then
// the admin page; the Confluence page's macro and a requestConfluence. Rust asserts on the report (tests/forge_host.rs).
//
// On success it prints one JSON line on stdout with what each step saw and
// exits 0; on failure it says which step failed, saves the screenshot when
// it can, prints the browser console and exits 1.

import { openSlot } from './chromium.mjs';
import { run } from './script.mjs';

const OVERALL_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 20_000;
const PROPERTY = 'forge-fixture';

const [pageUrl, resourceOrigin, viewer, adminUrl, confluenceUrl, screenshotPath] = process.argv.slice(2);
if (!screenshotPath) {
  console.error('usage: node forge-host-browser-test.mjs <issue page URL> <resource origin> <viewer account id> <admin page URL> <Confluence page URL> <screenshot path>');
  process.exit(2);
}

let page;

// The Forge modules in the page's view JSON, by module key.
async function forgeSlots() {
  return page.evaluate(() => {
    const modules = JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || [];
    return Object.fromEntries(modules.filter((m) => m.forge).map((m) => [m.moduleKey, m.slot]));
  });
}

// The frame in `slot`, once its bridge said hello and the fixture is ready.
async function frameIn(slot) {
  await page.locator(`[id="${slot}"][data-established="true"]`).waitFor({ state: 'attached' });
  const frame = await (await page.locator(`[id="${slot}"] iframe`).elementHandle()).contentFrame();
  await frame.locator('#status[data-ready="true"]').waitFor({ state: 'attached' });
  return frame;
}

// The frame of the open Modal, once its fixture is ready.
async function modalFrame() {
  await page.locator('dialog.forge-modal[open] iframe').waitFor();
  const frame = await (await page.locator('dialog.forge-modal iframe').elementHandle()).contentFrame();
  await frame.locator('#status[data-ready="true"]').waitFor({ state: 'attached' });
  return frame;
}

// Whether the issue context in `slot` is expanded: shown, and its toggle says so.
async function contextExpanded(slot) {
  return await page.locator(`[id="${slot}"]`).isVisible()
    && (await page.locator(`[data-opens="${slot}"]`).getAttribute('aria-expanded')) === 'true';
}

async function frameHeight(slot) {
  const box = await page.locator(`[id="${slot}"] iframe`).boundingBox();
  return box ? Math.round(box.height) : 0;
}

async function waitForHeight(slot, test) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let height = await frameHeight(slot);
  while (!test(height)) {
    if (Date.now() > deadline) throw new Error(`the frame stayed ${height}px high`);
    await page.waitForTimeout(100);
    height = await frameHeight(slot);
  }
  return height;
}

await run('forge host browser test', { overallMs: OVERALL_TIMEOUT_MS, stepMs: STEP_TIMEOUT_MS, failureShot: screenshotPath }, async (s) => {
  const report = {};
  page = await s.open({ height: 900 });

  s.step = `opening ${pageUrl}`;
  const response = await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
  if (!response || !response.ok()) throw new Error(`the issue page answered HTTP ${response ? response.status() : 'nothing'}`);

  s.step = 'finding the Forge panel and issue context';
  const slots = await forgeSlots();
  if (!slots['bridge-panel'] || !slots['bridge-context']) throw new Error(`missing Forge modules: ${JSON.stringify(slots)}`);
  // The issue panel is added with its quick-add button, the issue context
  // expanded from its header (pages/issue_view.rs).
  await openSlot(page, slots['bridge-panel']);
  await openSlot(page, slots['bridge-context']);
  const panel = await frameIn(slots['bridge-panel']);
  const context = await frameIn(slots['bridge-context']);
  report.frameUrl = panel.url();
  report.frameOrigin = new URL(panel.url()).origin;
  if (report.frameOrigin !== resourceOrigin) throw new Error(`the panel is on ${report.frameOrigin}, not ${resourceOrigin}`);

  s.step = 'view.getContext()';
  report.context = await panel.evaluate(() => window.fixture.context());
  report.contextOfContext = await context.evaluate(() => window.fixture.context());
  const issueKey = report.context.extension.issue.key;

  s.step = 'requestJira PUT then GET of an issue property as the admin';
  report.put = await panel.evaluate(([key, name]) => window.fixture.put(key, name, { ticked: 2, by: 'forge' }), [issueKey, PROPERTY]);
  report.get = await panel.evaluate(([key, name]) => window.fixture.get(key, name), [issueKey, PROPERTY]);

  s.step = 'requestJira outside the manifest scopes';
  report.outsideScopes = await panel.evaluate(() => window.fixture.myself());

  s.step = 'requestJira to a path outside the REST API';
  report.escape = await panel.evaluate(() => window.fixture.escape());

  s.step = 'view.theme.enable() and the page theme toggle';
  report.themeEnabled = await panel.evaluate(() => window.fixture.theme());
  await page.locator('#theme-toggle').click();
  await panel.waitForFunction(() => document.documentElement.getAttribute('data-color-mode') === 'dark');
  report.themeToggled = await panel.evaluate(() => window.fixture.colorMode());
  await page.locator('#theme-toggle').click();

  s.step = 'invokeRemote';
  report.remote = await panel.evaluate(() => window.fixture.remote({ hello: 'remote' }));

  s.step = 'events.emit from the panel to the issue context';
  await panel.evaluate(() => window.fixture.emit({ n: 1, from: 'panel' }));
  await context.locator('#status[data-received="1"]').waitFor({ state: 'attached' });
  report.received = await context.evaluate(() => window.fixture.received);

  s.step = 'showFlag';
  await panel.evaluate(() => window.fixture.flag());
  await page.locator('#flags .flag', { hasText: 'Fixture flag' }).waitFor();
  report.flag = await page.locator('#flags .flag').first().textContent();

  s.step = 'an unknown bridge call';
  report.unknown = await panel.evaluate(() => window.fixture.unknown().then(() => 'resolved', (e) => e.message));

  s.step = 'the panel frame following its content';
  const slot = slots['bridge-panel'];
  report.heightBefore = await waitForHeight(slot, (h) => h > 0 && h < 200);
  await panel.evaluate(() => window.fixture.grow(420));
  report.heightGrown = await waitForHeight(slot, (h) => h >= 420);
  await panel.evaluate(() => window.fixture.grow(120));
  report.heightShrunk = await waitForHeight(slot, (h) => h >= 120 && h < 300);

  s.step = 'a Modal with a context, closed by view.close(payload)';
  report.modalOpened = await panel.evaluate(() => window.fixture.modal({ context: { pick: 'x' }, size: 'small', title: 'Fixture modal' }));
  let modal = await modalFrame();
  report.modalContext = await modal.evaluate(() => window.fixture.context());
  report.modalSize = await page.locator('dialog.forge-modal').getAttribute('data-size');
  report.modalWidth = Math.round((await page.locator('dialog.forge-modal').boundingBox()).width);
  report.modalFrameHeight = Math.round((await page.locator('dialog.forge-modal iframe').boundingBox()).height);
  report.modalTitle = await page.locator('dialog.forge-modal header').textContent();
  report.secondModal = await panel.evaluate(() => window.fixture.rawModal({}));
  await modal.evaluate(() => window.fixture.closeWith({ chosen: 42 }));
  await page.locator('dialog.forge-modal').waitFor({ state: 'detached' });
  await panel.locator('#status[data-closed="1"]').waitFor({ state: 'attached' });

  s.step = 'a Modal that Escape may not close, then closed without a payload';
  await panel.evaluate(() => window.fixture.modal({ closeOnEscape: false }));
  modal = await modalFrame();
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  report.modalStayedOnEscape = await page.locator('dialog.forge-modal[open]').count() === 1;
  await modal.evaluate(() => window.fixture.closeWith());
  await page.locator('dialog.forge-modal').waitFor({ state: 'detached' });
  await panel.locator('#status[data-closed="2"]').waitFor({ state: 'attached' });

  s.step = 'a Modal closed with Escape';
  await panel.evaluate(() => window.fixture.modal({}));
  await modalFrame();
  await page.keyboard.press('Escape');
  await page.locator('dialog.forge-modal').waitFor({ state: 'detached' });
  await panel.locator('#status[data-closed="3"]').waitFor({ state: 'attached' });

  s.step = 'a Modal closed by a click on its overlay, and one that stays';
  await panel.evaluate(() => window.fixture.modal({}));
  await modalFrame();
  report.untitledModalHeaderHidden = await page.locator('dialog.forge-modal header').isHidden();
  await page.mouse.click(5, 5);
  await page.locator('dialog.forge-modal').waitFor({ state: 'detached' });
  await panel.locator('#status[data-closed="4"]').waitFor({ state: 'attached' });
  await panel.evaluate(() => window.fixture.modal({ closeOnOverlayClick: false }));
  modal = await modalFrame();
  await page.mouse.click(5, 5);
  await page.waitForTimeout(300);
  report.modalStayedOnOverlayClick = await page.locator('dialog.forge-modal[open]').count() === 1;
  await modal.evaluate(() => window.fixture.closeWith('done'));
  await page.locator('dialog.forge-modal').waitFor({ state: 'detached' });
  await panel.locator('#status[data-closed="5"]').waitFor({ state: 'attached' });
  report.closed = await panel.evaluate(() => window.fixture.closed);
  report.missingResource = await panel.evaluate(() => window.fixture.rawModal({ resource: 'nope' }));
  report.modalsLeft = await page.locator('dialog.forge-modal').count();

  s.step = 'saving the screenshot';
  await s.screenshot(screenshotPath);

  s.step = 'router.open in a new tab';
  const [tab, opening] = await Promise.all([
    page.context().waitForEvent('page'),
    panel.evaluate(() => window.fixture.open({ target: 'issue', issueKey: 'LOD-3' })),
  ]);
  await tab.waitForLoadState('domcontentloaded');
  report.opened = [opening, new URL(tab.url()).pathname];
  await tab.close();

  s.step = 'router.reload';
  await page.evaluate(() => { window.beforeReload = true; });
  const [reloading] = await Promise.all([
    panel.evaluate(() => window.fixture.reload()),
    page.waitForEvent('load'),
  ]);
  report.reloaded = [reloading, await page.evaluate(() => window.beforeReload === undefined)];
  report.contextExpandedAfterReload = await contextExpanded(slots['bridge-context']);

  s.step = 'router.navigate to another issue';
  const reloadedPanel = await frameIn(slots['bridge-panel']);
  report.navigateDev = await reloadedPanel.evaluate(() => window.fixture.navigate('/dev/login?account=someone&next=/'));
  report.navigateScript = await reloadedPanel.evaluate(() => window.fixture.navigate('javascript:alert(1)'));
  report.navigateTarget = await reloadedPanel.evaluate(() => window.fixture.navigate({ target: 'dashboard', dashboardId: '1' }));
  report.navigated = await reloadedPanel.evaluate(() => window.fixture.navigate({ target: 'issue', issueKey: 'LOD-2' }));
  await page.waitForURL((url) => url.pathname === '/browse/LOD-2');
  report.navigatedTo = new URL(page.url()).pathname;

  s.step = 'switching to the viewer';
  const login = new URL('/dev/login', pageUrl);
  login.searchParams.set('account', viewer);
  login.searchParams.set('next', new URL(pageUrl).pathname);
  await page.goto(login.href, { waitUntil: 'domcontentloaded' });
  // The panel added by the admin is on the issue for the viewer too; the
  // issue context the admin expanded is collapsed for the viewer.
  const viewerPanel = await frameIn((await forgeSlots())['bridge-panel']);
  report.contextExpandedForViewer = await contextExpanded(slots['bridge-context']);
  report.viewerContext = await viewerPanel.evaluate(() => window.fixture.context());
  report.viewerPut = await viewerPanel.evaluate(([key, name]) => window.fixture.put(key, name, { by: 'viewer' }), [issueKey, PROPERTY]);
  report.viewerGet = await viewerPanel.evaluate(([key, name]) => window.fixture.get(key, name), [issueKey, PROPERTY]);

  s.step = 'the admin page, as the viewer and as the admin';
  const refused = await page.goto(adminUrl, { waitUntil: 'domcontentloaded' });
  report.adminPageAsViewer = refused ? refused.status() : 0;
  const back = new URL('/dev/login', pageUrl);
  back.searchParams.set('account', report.context.accountId);
  back.searchParams.set('next', new URL(adminUrl).pathname);
  await page.goto(back.href, { waitUntil: 'domcontentloaded' });
  const admin = await frameIn((await forgeSlots())['bridge-admin']);
  report.adminContext = await admin.evaluate(() => window.fixture.context());

  s.step = 'the project settings page, found in the site navigation';
  const settingsLink = page.locator('nav.sidebar a', { hasText: 'Bridge fixture project settings (Forge)' });
  report.projectSettingsPath = await settingsLink.getAttribute('href');
  // The click starts a navigation: wait for the new page before reading it.
  const target = new URL(report.projectSettingsPath, page.url()).pathname;
  await Promise.all([page.waitForURL((url) => url.pathname === target), settingsLink.click()]);
  await page.waitForLoadState('domcontentloaded');
  const settings = await frameIn((await forgeSlots())['bridge-project-settings']);
  report.projectSettingsContext = await settings.evaluate(() => window.fixture.context());

  s.step = 'the Confluence page and its Forge macro';
  await page.goto(confluenceUrl, { waitUntil: 'domcontentloaded' });
  const macro = await frameIn((await forgeSlots())['bridge-macro']);
  report.macroContext = await macro.evaluate(() => window.fixture.context());
  report.contentProperty = await macro.evaluate(
    (id) => window.fixture.contentProperty(id, 'forge-fixture'), report.macroContext.extension.content.id);

  return report;
});
