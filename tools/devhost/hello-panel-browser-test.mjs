// The browser test of hello-panel (examples/hello-panel), the second app
// built on the kit: a real Chromium opens the emulated Jira issue page where
// lodger and hello-panel are both installed, and checks hello-panel's panel.
//
//   node tools/devhost/hello-panel-browser-test.mjs <issue page URL> <hello-panel base URL> <screenshot path>
//
// Steps:
//   1. open the page; wait until connect-js reports both panels' bridges
//      established: lodger's checklist panel and hello-panel's `hello`;
//   2. in hello-panel's iframe, wait for the greeting: the page asked the
//      host who is looking with AP.request('/rest/api/3/myself');
//   3. read the account id the app's server put in the page (`data-sub`,
//      from the iframe token it verified); save a full-page screenshot.
//
// On success it prints one JSON line on stdout,
//   {"lodgerPanel": true, "greeting": "Hello, ...", "sub": "...", "frameUrl": "..."}
// and exits 0. On failure it says which step failed, saves the screenshot
// when it can, prints the browser console, and exits 1.
//
// The browser is Debian's chromium (`/usr/bin/chromium`, or $CHROMIUM),
// driven by playwright-core, which downloads no browser.

import { run } from './script.mjs';

const [pageUrl, appBaseUrl, screenshotPath] = process.argv.slice(2);
if (!pageUrl || !appBaseUrl || !screenshotPath) {
  console.error('usage: node hello-panel-browser-test.mjs <issue page URL> <hello-panel base URL> <screenshot path>');
  process.exit(2);
}

await run('hello-panel browser test', { overallMs: 60_000, stepMs: 30_000, failureShot: screenshotPath }, async (s) => {
  const page = await s.open({ height: 800 });

  s.step = `opening ${pageUrl}`;
  const response = await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
  if (!response || !response.ok()) throw new Error(`the issue page answered HTTP ${response ? response.status() : 'nothing'}`);

  s.step = 'finding both panels in the page view';
  const slots = await page.evaluate(() => {
    const view = document.getElementById('lodger-dev-view');
    const modules = view ? JSON.parse(view.textContent).modules || [] : [];
    const slot = (app, key) => (modules.find((m) => m.addonKey === app && m.moduleKey === key) || {}).slot;
    return { lodger: slot('lodger', 'checklist-panel'), hello: slot('hello-panel', 'hello') };
  });
  if (!slots.lodger || !slots.hello) throw new Error(`the page lacks a panel: ${JSON.stringify(slots)}`);

  s.step = 'waiting for connect-js to establish both panel bridges';
  for (const slot of [slots.lodger, slots.hello]) {
    await page.locator(`[id="${slot}"][data-established="true"]`).waitFor({ state: 'attached' });
  }

  s.step = "finding hello-panel's iframe";
  const frame = page.frames().find((f) => f.url().startsWith(`${appBaseUrl}/panel?`));
  if (!frame) throw new Error(`no frame loads ${appBaseUrl}/panel; frames: ${page.frames().map((f) => f.url()).join(', ')}`);

  s.step = 'waiting for the greeting (AP.request /rest/api/3/myself through connect-js)';
  await frame.locator('#greeting:not([data-state="loading"])').waitFor();
  const greeting = await frame.locator('#greeting').textContent();
  if ((await frame.locator('#greeting').getAttribute('data-state')) !== 'greeted') {
    throw new Error(`the panel shows: ${greeting}`);
  }
  const sub = await frame.locator('body').getAttribute('data-sub');

  s.step = 'saving the screenshot';
  await s.screenshot(screenshotPath);
  return { lodgerPanel: true, greeting, sub, frameUrl: frame.url().split('&jwt=')[0] };
});
