// The browser test of lodger's settings pages and the dev host features
// they rely on: headless Chromium drives the emulated Jira and Confluence
// with the real connect-js bridge.
//
//   node tools/devhost/pages-browser-test.mjs '<json config>'
//
// config: {"base": site URL, "pageUrl": Confluence page URL, "artifacts": dir,
//          "docs": dir, "appKey": Jira app key, "users": {"admin", "lead", "dev"}}
//
// Steps:
//   1. as the project admin (lead), open the project settings tab "Checklist
//      template", add three items, move one up, delete one, rename one, Save;
//      wait for "Saved" (the Rust side then reads the project property);
//   2. with the session switched to a plain user (dev) under the open page,
//      Save is refused by Jira and the page says why, and once reloaded the
//      page is read-only; opening the page as that user is refused (HTTP 403);
//   3. as the site admin, open "Checklist settings", turn "Show who ticked
//      each item" off and wait for "Saved" (the server's /api/settings);
//   4. on a Confluence page, click the checklist macro's Edit button; in the
//      editor dialog change the title and Save; the page reloads and frames
//      the macro with `title=<new title>` in its URL;
//   5. switch the product page to the dark theme and wait until the app's
//      iframe has html[data-color-mode="dark"] (AP.theming).
// Screenshots go to `artifacts` (and the three page shots to `docs`).
//
// Prints one JSON line on stdout and exits 0; on failure explains on stderr
// with the browser console and exits 1. Every wait is bounded.

import { chromium } from 'playwright-core';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const OVERALL_TIMEOUT_MS = 150_000;
const STEP_TIMEOUT_MS = 20_000;
const ESTABLISH_TIMEOUT_MS = 30_000;

const config = JSON.parse(process.argv[2] || '{}');
if (!config.base || !config.pageUrl || !config.artifacts) {
  console.error('usage: node pages-browser-test.mjs \'{"base": ..., "pageUrl": ..., "artifacts": ..., "users": {...}}\'');
  process.exit(2);
}

const consoleLines = [];
const result = {};
let browser;
let page;
let step = 'starting';
let finished = false;

async function shot(name, copyToDocs) {
  mkdirSync(config.artifacts, { recursive: true });
  const path = join(config.artifacts, name);
  await page.screenshot({ path, fullPage: true, timeout: 10_000 });
  if (copyToDocs && config.docs) {
    mkdirSync(config.docs, { recursive: true });
    copyFileSync(path, join(config.docs, name));
  }
}

async function fail(message) {
  if (finished) return;
  finished = true;
  console.error(`pages browser test failed while ${step}: ${message}`);
  try { if (page) await shot('pages-failure.png', false); } catch (_) { /* no screenshot */ }
  console.error('--- browser console ---\n' + consoleLines.join('\n') + '\n--- end ---');
  console.error('partial result: ' + JSON.stringify(result));
  await Promise.race([browser?.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
  process.exit(1);
}

const watchdog = setTimeout(() => fail(`no result within ${OVERALL_TIMEOUT_MS / 1000} s`), OVERALL_TIMEOUT_MS);

// Signs in as `account` and opens `path` (the dev host's user switcher).
async function openAs(account, path) {
  const url = `${config.base}/dev/login?account=${encodeURIComponent(account)}&next=${encodeURIComponent(path)}`;
  return page.goto(url, { waitUntil: 'domcontentloaded' });
}

// The frame whose URL contains `part`, once it exists.
async function frameWith(part) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const frame = page.frames().find((f) => f.url().includes(part));
    if (frame) return frame;
    if (Date.now() > deadline) {
      throw new Error(`no frame loads ${part}; frames: ${page.frames().map((f) => f.url()).join(', ')}`);
    }
    await page.waitForTimeout(100);
  }
}

async function established(moduleKey) {
  const slot = await page.evaluate((key) => {
    const modules = JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || [];
    const module = modules.find((m) => m.moduleKey === key);
    return module ? module.slot : null;
  }, moduleKey);
  if (!slot) throw new Error(`the page frames no ${moduleKey}`);
  await page.locator(`[id="${slot}"][data-established="true"]`).waitFor({ state: 'attached', timeout: ESTABLISH_TIMEOUT_MS });
}

async function main() {
  step = 'launching chromium';
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 20_000,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}  (${m.location()?.url || ''})`));
  page.on('pageerror', (e) => consoleLines.push(`[uncaught] ${e.message}`));
  // Leaving a page with unsaved changes asks "leave?" (beforeunload): leave.
  page.on('dialog', (dialog) => dialog.accept().catch(() => {}));
  page.on('response', (r) => { if (r.status() >= 400) consoleLines.push(`[http ${r.status()}] ${r.request().method()} ${r.url()}`); });

  const templatePath = `/plugins/servlet/ac/${config.appKey}/checklist-template?project.key=LOD`;

  // 1. The project admin edits the template.
  step = 'opening the project template page as the project admin';
  let response = await openAs(config.users.lead, templatePath);
  if (!response || response.status() !== 200) throw new Error(`the page answered HTTP ${response && response.status()}`);
  await established('checklist-template');
  let frame = await frameWith('/jira/project-template.html');
  await frame.locator('#editor:not([hidden]), #failure:not([hidden])').first().waitFor();
  if (await frame.locator('#failure:not([hidden])').count()) {
    throw new Error('the template page shows: ' + (await frame.locator('#failure-message').textContent()));
  }
  step = 'editing the template';
  for (const text of ['Write tests', 'Update the docs', 'Tell support']) {
    await frame.locator('#new-item').fill(text);
    await frame.locator('#add').click();
  }
  await frame.getByRole('button', { name: 'Move item 3 up' }).click();
  await frame.getByRole('button', { name: 'Delete item 1' }).click();
  await frame.getByRole('textbox', { name: 'Item 2' }).fill('Update the docs and the changelog');
  step = 'saving the template';
  await frame.locator('#save').click();
  await frame.locator('#status.status-saved, #status.status-error').first().waitFor();
  const saved = await frame.locator('#status').textContent();
  if (!(await frame.locator('#status.status-saved').count())) throw new Error(`the save failed: ${saved}`);
  result.template = saved;
  await shot('project-template.png', true);

  // 2. A plain user is refused the project settings page; and if the user
  // changes under an open page (here: the session cookie), Jira refuses the
  // write and the page says so.
  step = 'saving the template as someone who is no longer a project admin';
  await page.context().addCookies([{ name: 'lodger_dev_user', value: config.users.dev, url: config.base }]);
  await frame.locator('#new-item').fill('Not allowed');
  await frame.locator('#add').click();
  await frame.locator('#save').click();
  await frame.locator('#status.status-error').waitFor();
  result.refusedSave = await frame.locator('#status').textContent();
  step = 'reloading the template page as the plain user (it turns read-only)';
  await frame.evaluate(() => location.reload());
  await frame.locator('#read-only:not([hidden])').waitFor();
  result.readOnlyForPlainUser = await frame.locator('#save').isDisabled();

  step = 'opening the project template page as a plain user';
  response = await openAs(config.users.dev, templatePath);
  result.plainUserStatus = response ? response.status() : 0;

  // 3. The site admin turns a setting off.
  step = 'opening the settings page as the site admin';
  response = await openAs(config.users.admin, `/plugins/servlet/ac/${config.appKey}/checklist-settings`);
  if (!response || response.status() !== 200) throw new Error(`the admin page answered HTTP ${response && response.status()}`);
  await established('checklist-settings');
  frame = await frameWith('/jira/admin.html');
  await frame.locator('#settings:not([hidden]), #failure:not([hidden])').first().waitFor();
  if (await frame.locator('#failure:not([hidden])').count()) {
    result.settingsError = await frame.locator('#failure-message').textContent();
    await shot('admin.png', false);
  } else {
    step = 'turning "Show who ticked each item" off';
    const toggle = frame.getByRole('switch', { name: 'Show who ticked each item' });
    if (!(await toggle.isChecked())) await toggle.click(); // start from on
    await toggle.click();
    await frame.locator('#status.status-saved, #status.status-error').first().waitFor();
    result.settingsStatus = await frame.locator('#status').textContent();
    result.showWhoTicked = await toggle.isChecked();
    await shot('admin.png', true);
  }

  // 4. The macro editor changes the checklist's title.
  step = 'opening the Confluence page as the project admin';
  const pagePath = new URL(config.pageUrl).pathname;
  await openAs(config.users.lead, pagePath);
  const slot = await page.evaluate(() => {
    const modules = JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || [];
    const module = modules.find((m) => m.moduleKey === 'checklist' && m.editor);
    return module ? module.slot : null;
  });
  if (!slot) throw new Error('the page has no editable checklist macro');
  step = 'opening the macro editor';
  await page.locator(`button.macro-edit[data-slot="${slot}"]`).click();
  await page.locator('dialog.macro-editor[open]').waitFor();
  frame = await frameWith('/confluence/macro-editor.html');
  const title = frame.getByRole('textbox', { name: 'Title' });
  await frame.locator('#title:not([disabled])').waitFor();
  result.editorStartedWith = await title.inputValue();
  await title.fill('Release checklist');
  await shot('macro-editor.png', true);
  step = 'saving the macro (the page reloads)';
  await Promise.all([
    page.waitForEvent('load', { timeout: STEP_TIMEOUT_MS }),
    frame.locator('#save').click(),
  ]);
  result.macroUrl = await page.evaluate(() => {
    const modules = JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || [];
    const module = modules.find((m) => m.moduleKey === 'checklist');
    return module ? module.url : null;
  });
  result.macroFrameHasTitle = page.frames().some((f) => f.url().includes('title=Release%20checklist'));

  // 5. The dark theme reaches the app's iframe.
  step = 'switching the template page to the dark theme';
  await openAs(config.users.lead, templatePath);
  await established('checklist-template');
  frame = await frameWith('/jira/project-template.html');
  await frame.locator('#editor:not([hidden])').waitFor();
  await page.locator('#theme-toggle').click();
  step = 'waiting for the iframe to follow the dark theme';
  await frame.locator('html[data-color-mode="dark"]').waitFor({ state: 'attached' });
  result.hostTheme = await page.evaluate(() => document.documentElement.getAttribute('data-color-mode'));
  result.frameTheme = await frame.evaluate(() => document.documentElement.getAttribute('data-color-mode'));
  await shot('project-template-dark.png', false);
  // Back to light, for whoever opens the site next in this profile.
  await page.locator('#theme-toggle').click();
  await frame.locator('html[data-color-mode="light"]').waitFor({ state: 'attached' });
  result.frameThemeAfter = 'light';

  finished = true;
  clearTimeout(watchdog);
  console.log(JSON.stringify(result));
  await browser.close();
}

main().catch((error) => fail(error.message));
