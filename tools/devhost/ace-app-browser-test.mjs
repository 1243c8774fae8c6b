// The browser test of an unchanged atlassian-connect-express app
// (tools/ace-app, run by tests/ace_app.rs): a real Chromium opens the app's
// general page and the Jira issue page with its web panel on the emulated
// site, and reads what each iframe rendered.
//
//   node tools/devhost/ace-app-browser-test.mjs <general page URL> <issue page URL> <app base URL> <screenshot dir>
//
// For each of the two:
//   1. open the site's page; find the app's iframe (its URL starts with the
//      app's base URL) and wait until connect-js formed its bridge;
//   2. wait for `#myself`: the page asked the site who is looking with
//      AP.request('/rest/api/3/myself');
//   3. wait for `#whoami`: the page sent AP.context.getToken() to the app's
//      `/whoami`, which ACE's addon.checkValidToken() guards; it shows the
//      account id ACE verified.
//
// ACE's pages load all.js from Atlassian's CDN (its default `hostScriptUrl`).
// This machine is offline, so the browser serves that one URL with the
// site's own copy (`/atlassian-connect/all.js`, the same connect-js): the
// app keeps its default. Online, the CDN's all.js works as well.
//
// On success it prints one JSON line on stdout,
//   {"generalPage": {"myself", "myselfAccountId", "whoami", "whoamiAccountId"}, "webPanel": {...}}
// and exits 0. On failure it says which step failed, saves a screenshot
// when it can, prints the browser console, and exits 1.

import { join } from 'node:path';
import { run } from './script.mjs';

const OVERALL_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;
const CDN_ALL_JS = 'https://connect-cdn.atl-paas.net/all.js';

const [generalPageUrl, issuePageUrl, appBaseUrl, screenshotDir] = process.argv.slice(2);
if (!generalPageUrl || !issuePageUrl || !appBaseUrl || !screenshotDir) {
  console.error('usage: node ace-app-browser-test.mjs <general page URL> <issue page URL> <app base URL> <screenshot dir>');
  process.exit(2);
}

let s;

/** Opens `url`, finds the app's iframe loading `path`, reads what it rendered. */
async function check(url, path, name) {
  s.failureShot = join(screenshotDir, `${name}.png`);
  s.step = `opening ${url}`;
  const response = await s.page.goto(url, { waitUntil: 'domcontentloaded' });
  if (!response || !response.ok()) throw new Error(`the page answered HTTP ${response ? response.status() : 'nothing'}`);

  s.step = `waiting for connect-js to establish the bridge of ${path}`;
  await s.page.locator('[data-established="true"]').first().waitFor({ state: 'attached' });
  const frame = s.page.frames().find((f) => f.url().startsWith(`${appBaseUrl}${path}`));
  if (!frame) throw new Error(`no frame loads ${appBaseUrl}${path}; frames: ${s.page.frames().map((f) => f.url()).join(', ')}`);

  const seen = {};
  for (const id of ['myself', 'whoami']) {
    s.step = `waiting for #${id} in ${path}`;
    const element = frame.locator(`#${id}:not([data-state="loading"])`);
    await element.waitFor();
    const text = await element.textContent();
    if ((await element.getAttribute('data-state')) !== 'done') throw new Error(`#${id} shows: ${text}`);
    seen[id] = text;
    seen[`${id}AccountId`] = await element.getAttribute('data-account-id');
  }
  s.step = `saving the screenshot of ${path}`;
  await s.screenshot(s.failureShot);
  return seen;
}

await run('ACE app browser test', { overallMs: OVERALL_TIMEOUT_MS, stepMs: STEP_TIMEOUT_MS, failureShot: join(screenshotDir, 'ace-app-failure.png') }, async (script) => {
  s = script;
  const page = await s.open({ height: 800 });
  page.on('requestfailed', (request) => s.lines.push(`[failed] ${request.url()}: ${request.failure()?.errorText}`));

  s.step = "fetching the site's all.js for the offline CDN";
  const siteAllJs = new URL('/atlassian-connect/all.js', generalPageUrl).toString();
  const allJs = await fetch(siteAllJs);
  if (!allJs.ok) throw new Error(`${siteAllJs} answered HTTP ${allJs.status}`);
  const allJsBody = Buffer.from(await allJs.arrayBuffer());
  // On the browser context, so that it covers every frame of every page.
  await page.context().route(CDN_ALL_JS, (route) => {
    s.lines.push(`[offline CDN] ${route.request().url()} from ${siteAllJs}`);
    return route.fulfill({ status: 200, contentType: 'application/javascript', body: allJsBody });
  });

  const generalPage = await check(generalPageUrl, '/hello-world?', 'ace-app-general-page');
  const webPanel = await check(issuePageUrl, '/issue-panel?', 'ace-app-issue-panel');

  return { generalPage, webPanel };
});
