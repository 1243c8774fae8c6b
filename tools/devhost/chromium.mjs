// What the browser scripts share: Debian's chromium (`/usr/bin/chromium`,
// or $CHROMIUM), headless, driven by playwright-core, which downloads no
// browser; and a page that writes its console, uncaught errors and failed
// HTTP answers into `lines`, for the failure report.

import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 20_000,
  });
}

export async function loggingPage(browser, lines, { width = 1280, height = 800, timeout }) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(timeout);
  page.on('console', (message) => lines.push(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`[uncaught] ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) lines.push(`[http ${response.status()}] ${response.url()}`);
  });
  return page;
}

// Opens a module the issue view draws closed (a glance, an issue context,
// content not yet added: crates/devhost/src/pages/issue_view.rs) by
// clicking what a person clicks; a slot already framed is left alone.
export async function openSlot(page, slot) {
  if ((await page.locator(`[id="${slot}"][data-deferred="true"]`).count()) === 0) return;
  await page.locator(`[data-opens="${slot}"], [data-adds="${slot}"]`).first().click();
}
