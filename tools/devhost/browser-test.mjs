// The browser test of the dev world: a real Chromium opens the emulated Jira
// issue page and checks the whole Connect round trip through the real
// connect-js bridge.
//
//   node tools/devhost/browser-test.mjs <issue page URL> <screenshot path>
//
// Steps:
//   1. open the page; wait until connect-js reports the checklist panel's
//      bridge established (the page sets data-established="true" on its slot);
//   2. in the panel iframe, wait for the checklist to show (it read the issue
//      property and the user's permissions with AP.request); ask the bridge
//      who is signed in (AP.user.getCurrentUser);
//   3. from inside the iframe, write the app property `browser-test` with
//      AP.request (PUT {"written": <nonce>}) and wait for the host's answer;
//   4. save a full-page screenshot.
//
// On success it prints one JSON line on stdout,
//   {"established": true, "accountId": "...", "nonce": 123, "appKey": "..."}
// and exits 0; the Rust test then reads the property through the host's REST
// API and expects the nonce. On failure it explains on stderr, saves the
// screenshot anyway when it can, prints the browser console it collected, and
// exits 1.
//
// The browser is Debian's chromium (`/usr/bin/chromium`, or $CHROMIUM),
// driven by playwright-core, which downloads no browser.

import { chromium } from 'playwright-core';
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const OVERALL_TIMEOUT_MS = 60_000;
const ESTABLISH_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 20_000;
const PANEL_MODULE_KEY = 'checklist-panel';
const PANEL_PATH = '/jira/issue-panel.html';

const [pageUrl, screenshotPath] = process.argv.slice(2);
if (!pageUrl || !screenshotPath) {
  console.error('usage: node browser-test.mjs <issue page URL> <screenshot path>');
  process.exit(2);
}

// What the browser said, from the page and every frame, for failure reports.
const consoleLines = [];
let browser;
let page;
let step = 'starting';
let finished = false;

function record(line) {
  consoleLines.push(line);
}

async function screenshot() {
  if (!page) return;
  try {
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true, timeout: 10_000 });
    console.error(`screenshot saved to ${screenshotPath}`);
  } catch (error) {
    console.error(`could not save the screenshot: ${error.message}`);
  }
}

async function fail(message) {
  if (finished) return;
  finished = true;
  console.error(`browser test failed while ${step}: ${message}`);
  await screenshot();
  if (consoleLines.length) {
    console.error('--- browser console (page and frames) ---');
    for (const line of consoleLines) console.error(line);
    console.error('--- end of browser console ---');
  } else {
    console.error('(the browser logged nothing)');
  }
  // Exiting anyway: do not let a stuck browser hold the process.
  await Promise.race([browser?.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  process.exit(1);
}

// The hard limit: whatever hangs, the test ends within a minute.
const watchdog = setTimeout(() => {
  fail(`no result within ${OVERALL_TIMEOUT_MS / 1000} s`);
}, OVERALL_TIMEOUT_MS);

async function main() {
  step = 'launching chromium';
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 20_000,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  // Console messages of the page and its frames (the app iframe included),
  // uncaught errors, failed requests and HTTP errors.
  page.on('console', (message) => {
    const where = message.location()?.url || '';
    record(`[${message.type()}] ${message.text()}${where ? `  (${where})` : ''}`);
  });
  page.on('pageerror', (error) => record(`[uncaught] ${error.message}`));
  page.on('requestfailed', (request) =>
    record(`[request failed] ${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) record(`[http ${response.status()}] ${response.request().method()} ${response.url()}`);
  });

  step = `opening ${pageUrl}`;
  const response = await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
  if (!response || !response.ok()) {
    throw new Error(`the issue page answered HTTP ${response ? response.status() : 'nothing'}`);
  }

  // The slot of the checklist panel, from the view the server put in the page.
  step = 'finding the checklist panel on the page';
  const slotId = await page.evaluate((moduleKey) => {
    const view = document.getElementById('lodger-dev-view');
    const modules = view ? JSON.parse(view.textContent).modules || [] : [];
    const module = modules.find((m) => m.moduleKey === moduleKey);
    return module ? module.slot : null;
  }, PANEL_MODULE_KEY);
  if (!slotId) {
    throw new Error(`the page shows no "${PANEL_MODULE_KEY}" module: is the app installed and enabled?`);
  }

  step = 'waiting for connect-js to establish the panel bridge';
  await page
    .locator(`[id="${slotId}"][data-established="true"]`)
    .waitFor({ state: 'attached', timeout: ESTABLISH_TIMEOUT_MS });

  step = 'finding the panel iframe';
  const frame = page.frames().find((f) => f.url().includes(PANEL_PATH));
  if (!frame) {
    throw new Error(`no frame loads ${PANEL_PATH}; frames: ${page.frames().map((f) => f.url()).join(', ')}`);
  }
  const appKey = await frame.evaluate(() => document.querySelector('meta[name="lodger-app-key"]').content);
  if (!appKey || appKey.includes('{')) throw new Error(`the panel page has no rendered app key: ${appKey}`);

  step = 'waiting for the checklist panel to load (AP.request reads the issue property and permissions)';
  // The panel ends showing the checklist (its add field) or an error.
  await frame.locator('.add-input, .state-error').first().waitFor();
  if (await frame.locator('.state-error').count()) {
    const shown = (await frame.locator('.state-error').first().textContent()) || '';
    throw new Error(`the panel shows an error: ${shown.trim() || '(no message)'}`);
  }

  step = 'asking the bridge who is signed in (AP.user.getCurrentUser)';
  const accountId = await frame.evaluate(() => new Promise((resolve) => {
    const answer = AP.user.getCurrentUser((user) => resolve(user && user.atlassianAccountId));
    if (answer && answer.then) answer.then((user) => resolve(user && user.atlassianAccountId));
  }));
  if (!accountId) throw new Error('the bridge knows no signed-in user');

  step = 'writing the app property "browser-test" with AP.request from the iframe';
  const nonce = randomInt(1, 2 ** 47);
  const written = await frame.evaluate(
    async ({ appKey, nonce }) => {
      try {
        const result = await AP.request({
          url: '/rest/atlassian-connect/1/addons/' + encodeURIComponent(appKey) + '/properties/browser-test',
          type: 'PUT',
          data: JSON.stringify({ written: nonce }),
          contentType: 'application/json',
        });
        return { ok: true, status: result && result.xhr && result.xhr.status };
      } catch (error) {
        return {
          ok: false,
          status: error && error.xhr && error.xhr.status,
          text: (error && (error.err || error.message)) || String(error),
        };
      }
    },
    { appKey, nonce },
  );
  if (!written.ok) {
    throw new Error(`AP.request PUT was rejected (HTTP ${written.status ?? '?'}): ${written.text}`);
  }

  // The glance is one compact entry beside the fields, its panel framed
  // only when opened, and then covering the rest (pages/issue_view.rs).
  step = 'opening the checklist glance';
  const glance = page.locator('.glance-open').filter({ hasText: 'Checklist' });
  if (page.frames().some((f) => f.url().includes('surface=glance'))) {
    throw new Error('the glance panel was framed before anyone opened the glance');
  }
  const glanceSlot = await glance.getAttribute('data-opens');
  await glance.click();
  await page
    .locator(`[id="${glanceSlot}"][data-established="true"]`)
    .waitFor({ state: 'attached', timeout: ESTABLISH_TIMEOUT_MS });
  if (!page.frames().some((f) => f.url().includes('surface=glance'))) throw new Error('the open glance frames no glance panel');
  if (await page.locator(`[id="${slotId}"]`).isVisible()) throw new Error('the open glance does not cover the panels beside the fields');
  step = 'closing the checklist glance';
  await page.locator('.glance-close').click();
  await page.locator(`[id="${slotId}"]`).waitFor({ state: 'visible' });
  if (!(await glance.isVisible())) throw new Error('the glance entry did not come back after closing its panel');

  step = 'saving the screenshot';
  mkdirSync(dirname(screenshotPath), { recursive: true });
  await page.screenshot({ path: screenshotPath, fullPage: true });

  finished = true;
  clearTimeout(watchdog);
  await browser.close();
  console.log(JSON.stringify({ established: true, accountId, nonce, appKey }));
}

main().catch((error) => fail(error && error.message ? error.message : String(error)));
