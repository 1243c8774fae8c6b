// The Confluence half of the browser test: a real Chromium opens an emulated
// Confluence page, waits until connect-js establishes the test app's dynamic
// content macro, and from inside the macro iframe writes and reads a content
// property with AP.confluence and asks AP.context.getToken for a token.
//
//   node tools/devhost/confluence-browser-test.mjs <page URL> <macro module key>
//
// Prints one JSON line on stdout and exits 0, or explains on stderr and
// exits 1. The browser is Debian's chromium (`/usr/bin/chromium`, or $CHROMIUM).

import { chromium } from 'playwright-core';

const [pageUrl, moduleKey] = process.argv.slice(2);
const watchdog = setTimeout(() => { console.error('no result within 60 s'); process.exit(1); }, 60_000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  timeout: 20_000,
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  const log = [];
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
  const { slotId, frameUrl } = await page.evaluate((key) => {
    const modules = JSON.parse(document.getElementById('lodger-dev-view').textContent).modules || [];
    const module = modules.find((m) => m.moduleKey === key);
    // The page frames other apps' macros too (lodger's own): match this
    // macro's frame by its URL's origin and path, not by a fragment.
    const url = module ? new URL(module.url) : null;
    return { slotId: module ? module.slot : null, frameUrl: url ? url.origin + url.pathname : null };
  }, moduleKey);
  if (!slotId) throw new Error(`no macro ${moduleKey} on the page`);
  await page.locator(`[id="${slotId}"][data-established="true"]`).waitFor({ state: 'attached' }).catch((e) => {
    throw new Error(`${e.message}\n${log.join('\n')}`);
  });
  const frame = page.frames().find((f) => f.url().startsWith(frameUrl + '?'));
  if (!frame) throw new Error('no macro frame');
  const result = await frame.evaluate(async () => {
    const outcome = {};
    try {
      outcome.created = await AP.confluence.setContentProperty({ key: 'from-browser', value: { n: 1 }, version: { number: 1 } });
      outcome.read = await AP.confluence.getContentProperty('from-browser');
      try {
        await AP.confluence.setContentProperty({ key: 'from-browser', value: { n: 2 }, version: { number: 1 } });
        outcome.stale = 'accepted';
      } catch (error) {
        outcome.stale = error;
      }
      outcome.token = await AP.context.getToken();
    } catch (error) {
      outcome.error = error;
    }
    return outcome;
  });
  clearTimeout(watchdog);
  console.log(JSON.stringify(result));
  await browser.close();
} catch (error) {
  console.error(error.message);
  await browser.close();
  process.exit(1);
}
