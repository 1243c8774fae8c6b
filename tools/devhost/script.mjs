// The skeleton the browser scripts share: the step being run, a watchdog
// over the whole run, and one way to end. On success the script prints one
// JSON line (what `main` returned) on stdout and exits 0; on failure it
// says which step failed, saves a screenshot when there is a page, prints
// the browser console (page and frames), and exits 1.
//
//   await run('hello-panel browser test', { overallMs, stepMs, failureShot }, async (s) => {
//     s.step = 'opening the page';
//     const page = await s.open({ height: 800 });
//     ...
//     return { greeting };
//   });
//
// `s.failureShot` (a path) may change as the script goes, so a failure
// keeps the screenshot of the page it was on.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { launch, loggingPage } from './chromium.mjs';

export async function run(name, { overallMs, stepMs, failureShot }, main) {
  const s = {
    step: 'starting',
    failureShot,
    lines: [],
    browser: null,
    page: null,
    // Launches chromium and opens one logging page.
    async open({ width, height } = {}) {
      s.step = 'launching chromium';
      s.browser = await launch();
      s.page = await loggingPage(s.browser, s.lines, { width, height, timeout: stepMs });
      return s.page;
    },
    // A full-page screenshot of the current page at `path`.
    async screenshot(path) {
      mkdirSync(dirname(path), { recursive: true });
      await s.page.screenshot({ path, fullPage: true, timeout: 10_000 });
    },
  };
  let finished = false;
  async function fail(message) {
    if (finished) return;
    finished = true;
    console.error(`${name} failed while ${s.step}: ${message}`);
    if (s.page && s.failureShot) await s.screenshot(s.failureShot).catch((error) => console.error(`no screenshot: ${error.message}`));
    console.error('--- browser console (page and frames) ---');
    for (const line of s.lines) console.error(line);
    console.error('--- end of browser console ---');
    await Promise.race([s.browser?.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    process.exit(1);
  }
  const watchdog = setTimeout(() => fail(`no result within ${overallMs / 1000} s`), overallMs);
  try {
    const result = await main(s);
    if (finished) return;
    finished = true;
    clearTimeout(watchdog);
    await s.browser?.close();
    console.log(JSON.stringify(result));
  } catch (error) {
    await fail(error && error.message ? error.message : String(error));
  }
}
