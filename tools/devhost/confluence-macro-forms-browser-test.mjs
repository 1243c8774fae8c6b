// The browser test of the emulated Confluence's macro editors
// (tests/confluence_macro_forms.rs): a real Chromium opens the Confluence
// page view and
// - drives the fixture Forge app's macro (its page bundled with the real
//   @forge/bridge): `submit` and `close` answer false from the macro itself;
//   its "Edit" button opens the config resource in a dialog, whose
//   getContext, a refused submit, `view.submit({config})` and `view.close()`
//   are recorded, then the macro's context after the page reloads;
// - fills Confluence's generated parameter form of a Connect macro without
//   an editor, saves it, and records the parameters the reloaded page holds.
//
//   node tools/devhost/confluence-macro-forms-browser-test.mjs <Confluence page URL>
//
// On success it prints one JSON line on stdout (what each step saw) and
// exits 0; on failure it names the step, prints the browser console and
// exits 1. Rust asserts on the report.

import { launch, loggingPage } from './chromium.mjs';

const STEP_TIMEOUT_MS = 20_000;
const [confluenceUrl] = process.argv.slice(2);
if (!confluenceUrl) {
  console.error('usage: node confluence-macro-forms-browser-test.mjs <Confluence page URL>');
  process.exit(2);
}

const consoleLines = [];
let browser;
let page;
let step = 'starting';

const view = () => page.evaluate(() => JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || []);

// The Forge frame in `slot`, once its bridge said hello and the fixture is ready.
async function frameIn(slot) {
  await page.locator(`[id="${slot}"][data-established="true"]`).waitFor({ state: 'attached' });
  const frame = await (await page.locator(`[id="${slot}"] iframe`).elementHandle()).contentFrame();
  await frame.locator('#status[data-ready="true"]').waitFor({ state: 'attached' });
  return frame;
}

// A bridge call as `@forge/bridge` makes it (`view.submit` is
// `callBridge('submit', payload)`, `view.close` is `callBridge('close')`).
const call = (frame, name, payload) => frame.evaluate(
  ([name, payload]) => globalThis.__bridge.callBridge(name, payload).then((v) => v, (e) => 'error: ' + (e && e.message || e)),
  [name, payload]);

async function main() {
  const report = {};
  step = 'launching chromium';
  browser = await launch();
  page = await loggingPage(browser, consoleLines, { height: 900, timeout: STEP_TIMEOUT_MS });
  step = `opening ${confluenceUrl}`;
  await page.goto(confluenceUrl, { waitUntil: 'domcontentloaded' });

  step = 'the Forge macro outside its config';
  const forgeSlot = (await view()).find((m) => m.forge && m.moduleKey === 'bridge-macro').slot;
  const macro = await frameIn(forgeSlot);
  report.submitFromMacro = await call(macro, 'submit', { config: { a: 1 } });
  report.closeFromMacro = await call(macro, 'close');

  step = 'the Forge macro config dialog';
  await page.locator(`button.macro-edit[data-slot="${forgeSlot}"]`).click();
  const dialogFrame = page.locator('dialog.forge-config iframe');
  await dialogFrame.waitFor({ state: 'attached' });
  const config = await (await dialogFrame.elementHandle()).contentFrame();
  await config.locator('#status[data-ready="true"]').waitFor({ state: 'attached' });
  report.configContext = await config.evaluate(() => window.fixture.context());
  report.submitUnwrapped = await call(config, 'submit', { title: 'not wrapped' });
  report.submit = await call(config, 'submit', { config: { title: 'From the config' } });
  // Closing takes the dialog's frame away, perhaps before its call returns
  // (the host answers, then removes the dialog): a detached frame is that
  // outcome, not a failure. The reload and the steps after it check the close.
  const closed = call(config, 'close').catch((error) => {
    if (!/detached/i.test(String(error && error.message))) throw error;
  });
  await Promise.all([page.waitForEvent('load'), closed]);

  step = 'the Forge macro after the page reloaded';
  const reloaded = await frameIn((await view()).find((m) => m.forge && m.moduleKey === 'bridge-macro').slot);
  report.macroContextAfter = await reloaded.evaluate(() => window.fixture.context());
  report.dialogsAfter = await page.locator('dialog').count();

  step = 'the generated parameter form of a Connect macro';
  const status = (await view()).find((m) => !m.forge && m.moduleKey === 'status');
  await page.locator(`button.macro-edit[data-slot="${status.slot}"]`).click();
  const form = page.locator('dialog.macro-form');
  await form.waitFor({ state: 'visible' });
  report.formLabels = await form.locator('label').allTextContents();
  await form.locator('input[name="label"]').fill('Done');
  await form.locator('select[name="colour"]').selectOption('red');
  await form.locator('input[name="big"]').check();
  await Promise.all([page.waitForEvent('load'), form.locator('button[type="submit"]').click()]);
  await page.waitForLoadState('domcontentloaded');
  report.savedParameters = (await view()).find((m) => !m.forge && m.moduleKey === 'status').parameters;

  await browser.close();
  console.log(JSON.stringify(report));
}

main().catch(async (error) => {
  console.error(`confluence macro forms browser test failed while ${step}: ${error && error.message || error}`);
  console.error('--- browser console ---');
  for (const line of consoleLines) console.error(line);
  await Promise.race([browser?.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  process.exit(1);
});
