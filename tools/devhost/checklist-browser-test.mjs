// The checklist, used as people use it, in a real Chromium on the dev world:
// the Jira issue panel and the Confluence macro with the real connect-js
// bridge, several people at once.
//
//   node tools/devhost/checklist-browser-test.mjs '<config JSON>'
//
// config: {
//   mode: "main" | "unlicensed",
//   flavour: "connect" | "forge",       which of lodger's flavours to drive (default connect)
//   seededUrl, seeded: [texts]          optional: an issue whose checklist the other flavour
//                                       wrote, and the items it must show, checked first
//   issueUrl, pageUrl,                  the emulated Jira issue and Confluence page
//   users: {admin, dev, viewer},        account ids, for the dev host's /dev/login
//   artifacts,                          where screenshots go
//   seed, rounds                        the concurrent editing's PRNG seed and rounds
// }
//
// "main": one person adds, ticks, renames, reorders (keyboard and drag),
// deletes and reloads; a save fails (the dev host's fault injection) and
// is retried; two people edit one issue at once in random
// interleavings; a viewer sees the list read-only; two people edit one
// macro at once until Confluence answers 409 at least once.
// "unlicensed": the panel shows the licence banner and no way to edit.
//
// Prints one JSON line with what it saw (the Rust test compares it with
// what the site stores) and exits 0; on failure explains on stderr and
// exits 1. Every wait is bounded; a watchdog ends the run.
//
// The browser is Debian's chromium (`/usr/bin/chromium`, or $CHROMIUM),
// driven by playwright-core, which downloads no browser.

import { launch, openSlot } from './chromium.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './prng.mjs';

const config = JSON.parse(process.argv[2] || '{}');
// The same steps for both flavours; only how a module's frame is found and
// what its URL or context says differ. Connect frames are lodger's pages
// (`/jira/issue-panel.html?…`); Forge frames are Custom UI resources
// (`/issue-panel/index.html`) on the app's own origin.
const FORGE = config.flavour === 'forge';
const PANEL = { key: 'checklist-panel', path: FORGE ? '/issue-panel/' : '/jira/issue-panel.html' };
const MACRO = { key: 'checklist', path: FORGE ? '/macro/' : '/confluence/macro.html' };
const SHOT = FORGE ? 'forge-' : '';
const OVERALL_TIMEOUT_MS = 240_000;
const STEP_TIMEOUT_MS = 20_000;
const log = [];
let browser;
let step = 'starting';

const watchdog = setTimeout(() => fail(new Error(`no result within ${OVERALL_TIMEOUT_MS / 1000} s`)), OVERALL_TIMEOUT_MS);

let current;
async function fail(error) {
  if (current) {
    const html = await current.frame.evaluate(() => document.body.outerHTML).catch((e) => e.message);
    console.error(`--- the ${current.name} frame at the failure ---\n${html}`);
    await current.page.screenshot({ path: join(config.artifacts || '.', 'failure.png') }).catch(() => {});
  }
  console.error(`checklist browser test failed while ${step}: ${error && error.stack ? error.stack : error}`);
  console.error('--- browser console (last 80 lines) ---\n' + log.slice(-80).join('\n'));
  await Promise.race([browser?.close().catch(() => {}), new Promise((r) => setTimeout(r, 5_000))]);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Opens `url` signed in as `account` in a fresh browser context, waits for
// the host to establish the module's iframe, and answers {page, frame, slot}.
async function open(name, account, url, module) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('console', (m) => log.push(`[${name} ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[${name} uncaught] ${e.message}`));
  const target = new URL(url);
  const login = `${target.origin}/dev/login?account=${encodeURIComponent(account)}&next=${encodeURIComponent(target.pathname)}`;
  const response = await page.goto(login, { waitUntil: 'domcontentloaded' });
  check(response && response.ok(), `${url} answered HTTP ${response && response.status()}`);
  return attach(name, page, module);
}

async function attach(name, page, module) {
  const found = await page.evaluate(({ key, path, forge }) => {
    const view = JSON.parse(document.getElementById('lodger-dev-view').textContent);
    const ours = (m) => forge ? m.forge === true : !m.forge && m.addonKey && m.addonKey.startsWith('lodger');
    const modules = (view.modules || []).filter(ours);
    const module = modules.find((m) => m.moduleKey === key) || modules.find((m) => String(m.url || '').includes(path));
    return module ? { slot: module.slot, context: module.context || null } : null;
  }, { ...module, forge: FORGE }).catch((error) => { log.push(`[${name}] ${error.message}`); return null; });
  check(found, `${name}: the page shows no lodger checklist module`);
  const { slot, context } = found;
  // The Forge issue panel is added with its quick-add button the first time
  // (pages/issue_view.rs); then it is on the issue for everyone.
  await openSlot(page, slot);
  await page.locator(`[id="${slot}"][data-established="true"]`).waitFor({ state: 'attached' });
  const frame = FORGE
    ? await (await page.locator(`[id="${slot}"] > iframe`).elementHandle()).contentFrame()
    : page.frames().find((f) => f.url().includes(module.path) && !f.url().includes('surface=glance'));
  check(frame, `${name}: no frame loads ${module.path}`);
  await frame.locator('.add-input, .banner, .state-error').first().waitFor();
  current = { name, page, frame, slot, context };
  return current;
}

// What the host told the module: its URL's parameters (Connect) or the
// context `view.getContext()` answers (Forge).
function issueIdOf(who) {
  return FORGE ? who.context.extension.issue.id : new URL(who.frame.url()).searchParams.get('issueId');
}

function macroOf(who) {
  if (FORGE) return { contentId: who.context.extension.content.id, macroId: who.context.localId };
  const params = new URL(who.frame.url()).searchParams;
  return { contentId: params.get('contentId'), macroId: params.get('macroId') };
}

// Waits until the view has no save pending (bounded).
async function idle(who) {
  await who.frame.waitForFunction(() => !document.querySelector('.saving') && !document.querySelector('.not-saved'),
    null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
}

// Waits until the list has loaded (items or the empty state): a read-only
// banner shows at once, while the list is still loading.
async function loaded(who) {
  await who.frame.locator('.progress, .empty').first().waitFor();
}

// Waits until the host has resized the iframe to its content: a click
// aimed while the iframe still grows can land beside its target.
async function fitted(who) {
  await who.frame.waitForFunction(() => document.documentElement.scrollHeight <= window.innerHeight + 1,
    null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
}

async function texts(who) {
  return who.frame.locator('.item .item-text').allTextContents();
}

async function add(who, text) {
  const input = who.frame.locator('.add-input');
  await input.fill(text);
  await input.press('Enter');
}

function row(who, text) {
  return who.frame.locator('.item', { has: who.frame.locator('.item-text', { hasText: new RegExp(`^${text}$`) }) });
}

// Shows other people's edits: the view reloads and merges on window focus.
async function refresh(who) {
  await idle(who);
  await who.frame.evaluate(() => window.dispatchEvent(new Event('focus')));
  await sleep(300);
  await idle(who);
}

async function main() {
  step = 'launching chromium';
  browser = await launch();
  mkdirSync(config.artifacts, { recursive: true });
  if (config.mode === 'unlicensed') return unlicensed();

  const report = {};
  if (config.seededUrl) {
    step = 'reading the checklist the other flavour wrote';
    const reader = await open('reader', config.users.admin, config.seededUrl, PANEL);
    await reader.frame.locator('.item').first().waitFor();
    report.seededShown = await texts(reader);
    check(JSON.stringify(report.seededShown) === JSON.stringify(config.seeded),
      `the checklist the other flavour wrote shows as ${JSON.stringify(report.seededShown)}`);
    await reader.page.context().close();
  }
  step = 'opening the issue as admin';
  const ada = await open('admin', config.users.admin, config.issueUrl, PANEL);
  report.issueId = issueIdOf(ada);

  step = 'adding three items';
  for (const text of ['Write tests', 'Update docs', 'Ship it']) {
    await add(ada, text);
    await row(ada, text).waitFor();
  }
  check((await ada.frame.locator('.add-input').inputValue()) === '', 'the add field is cleared after adding');
  await idle(ada);
  // The iframe grew with each item: a click aimed while it still grows can
  // miss (a loaded CI run clicked the checkbox and saw no change).
  await fitted(ada);

  step = 'ticking an item';
  await row(ada, 'Write tests').locator('.item-check').check();
  await row(ada, 'Write tests').locator('.item-meta', { hasText: /^ticked by Ada Admin · / }).waitFor();

  step = 'renaming an item inline (click, type, Enter)';
  await row(ada, 'Update docs').locator('.item-text').click();
  await ada.frame.locator('.item-edit').fill('Update the docs');
  await ada.frame.locator('.item-edit').press('Enter');
  await row(ada, 'Update the docs').waitFor();

  step = 'renaming cancelled with Escape';
  await row(ada, 'Ship it').locator('.item-text').press('F2');
  await ada.frame.locator('.item-edit').fill('Never mind');
  await ada.frame.locator('.item-edit').press('Escape');
  await row(ada, 'Ship it').waitFor();

  step = 'reordering with the keyboard (Alt+ArrowUp)';
  await row(ada, 'Ship it').locator('.item-text').focus();
  await ada.page.keyboard.press('Alt+ArrowUp');
  await ada.frame.waitForFunction(() => [...document.querySelectorAll('.item-text')].map((n) => n.textContent).join('|') === 'Write tests|Ship it|Update the docs');
  await ada.frame.waitForFunction(() => /Moved “Ship it” to position 2 of 3/.test(document.querySelector('[aria-live]').textContent));

  step = 'reordering by drag and drop';
  // The keyboard move's save may still be in flight: when it lands it
  // re-renders the rows, and a drag across that re-render drops one row low
  // (seen on a loaded machine). Start the drag on a settled list.
  await idle(ada);
  await fitted(ada);
  const top = row(ada, 'Write tests');
  await row(ada, 'Update the docs').dragTo(top, { targetPosition: { x: 40, y: 3 } });
  await ada.frame.waitForFunction(() => [...document.querySelectorAll('.item-text')].map((n) => n.textContent).join('|') === 'Update the docs|Write tests|Ship it');

  step = 'deleting an item';
  await ada.frame.getByRole('button', { name: 'Delete “Ship it”' }).click();
  await row(ada, 'Ship it').waitFor({ state: 'detached' });
  await idle(ada);

  step = 'reloading the page';
  await ada.page.reload({ waitUntil: 'domcontentloaded' });
  Object.assign(ada, await attach('admin', ada.page, PANEL));
  await ada.frame.locator('.item').first().waitFor();
  const afterReload = await texts(ada);
  check(afterReload.join('|') === 'Update the docs|Write tests', `after reload the list is ${afterReload.join('|')}`);
  check(await row(ada, 'Write tests').locator('.item-check').isChecked(), 'the tick survives a reload');
  report.single = { texts: afterReload, done: ['Write tests'] };
  await add(ada, 'Tell the customer');
  await row(ada, 'Tell the customer').waitFor();
  await idle(ada);
  await ada.frame.locator('.add-input').blur();
  await sleep(300); // the host resizes the iframe after AP.resize()
  step = 'saving the panel screenshot';
  await ada.page.locator(`[id="${ada.slot}"]`).locator('xpath=..').screenshot({ path: join(config.artifacts, `${SHOT}panel.png`) });

  step = 'a save that fails: the edit stays, "Not saved", Retry';
  const faults = async (body) => {
    const answer = await fetch(`${new URL(config.issueUrl).origin}/dev/api/faults`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    check(answer.ok, `the dev host refused the faults setting: HTTP ${answer.status}`);
  };
  await faults({ rate: 1, kind: { serverError: 503 } });
  await add(ada, 'Written offline');
  await ada.frame.locator('.not-saved').waitFor();
  check(await row(ada, 'Written offline').count() === 1, 'the unsaved item stays on screen');
  await faults({ rate: 0 });
  await fitted(ada);
  await ada.frame.locator('.save-status').getByRole('button', { name: 'Retry' }).click();
  await idle(ada);

  // A save that finishes re-renders the list; a rename being typed must
  // survive that, neither saved early nor lost (a regression: Chrome calls
  // the re-render a blur, and blur saves).
  step = 'a save finishing while a rename is being typed';
  await faults({ rate: 1, kind: { slow: { millis: 1500 } } });
  await row(ada, 'Written offline').locator('.item-check').check();
  await ada.frame.locator('.saving').waitFor();
  await row(ada, 'Tell the customer').locator('.item-text').press('F2');
  await ada.frame.locator('.item-edit').fill('Half-typed');
  await idle(ada);
  await faults({ rate: 0 });
  check(await ada.frame.locator('.item-edit').inputValue() === 'Half-typed', 'the rename field keeps its text across a re-render');
  check(!(await texts(ada)).includes('Half-typed'), 'a re-render does not save a rename still being typed');
  await ada.frame.locator('.item-edit').press('Escape');
  await row(ada, 'Tell the customer').waitFor();
  await row(ada, 'Written offline').locator('.item-check:checked').waitFor();

  step = 'two people editing the issue at once';
  const dev = await open('dev', config.users.dev, config.issueUrl, PANEL);
  const rand = prng(config.seed || 1);
  const mine = { admin: [], dev: [] };
  const gone = new Set();
  const people = [ada, dev];
  for (let round = 0; round < (config.rounds || 20); round++) {
    const order = rand() < 0.5 ? people : [...people].reverse();
    await Promise.all(order.map(async (who, n) => {
      await sleep(Math.floor(rand() * 120) + n * Math.floor(rand() * 60));
      const roll = rand();
      const own = mine[who.name].filter((t) => !gone.has(t));
      if (roll < 0.2 && own.length) {
        const text = own[Math.floor(rand() * own.length)];
        if (await row(who, text).count()) {
          gone.add(text);
          await who.frame.getByRole('button', { name: `Delete “${text}”` }).click();
          return;
        }
      }
      if (roll < 0.4) {
        const boxes = who.frame.locator('.item-check');
        const count = await boxes.count();
        if (count) await boxes.nth(Math.floor(rand() * count)).click();
      }
      const text = `${who.name} round ${round}`;
      mine[who.name].push(text);
      await add(who, text);
    }));
    if (rand() < 0.3) await Promise.all(people.map(idle));
    if (rand() < 0.3) await refresh(people[Math.floor(rand() * 2)]);
  }
  await Promise.all(people.map(idle));
  await refresh(ada);
  await refresh(dev);
  const expected = [...mine.admin, ...mine.dev, 'Update the docs', 'Write tests', 'Tell the customer', 'Written offline'].filter((t) => !gone.has(t));
  for (const who of people) {
    const shown = new Set(await texts(who));
    const missing = expected.filter((t) => !shown.has(t));
    check(!missing.length, `${who.name} lost acknowledged items: ${missing.join(', ')}`);
    const resurrected = [...gone].filter((t) => shown.has(t));
    check(!resurrected.length, `${who.name} shows deleted items: ${resurrected.join(', ')}`);
  }
  report.concurrent = { expected, deleted: [...gone], shown: await texts(ada) };

  await dev.page.context().close();

  step = 'opening the issue as the viewer';
  const val = await open('viewer', config.users.viewer, config.issueUrl, PANEL);
  await val.frame.locator('.banner').waitFor();
  await loaded(val);
  report.viewer = {
    reason: (await val.frame.locator('.banner').textContent()).trim(),
    addable: await val.frame.locator('.add-input').count() > 0,
    disabled: await val.frame.locator('.item-check:disabled').count(),
    items: await val.frame.locator('.item').count(),
  };
  await val.page.context().close();

  step = 'two people editing one Confluence macro at once';
  const adaWiki = await open('admin-wiki', config.users.admin, config.pageUrl, MACRO);
  const devWiki = await open('dev-wiki', config.users.dev, config.pageUrl, MACRO);
  const wiki = [adaWiki, devWiki];
  const added = [];
  let conflicts = 0;
  for (let round = 0; round < 30 && (round < 8 || conflicts === 0); round++) {
    await Promise.all(wiki.map(async (who) => {
      const text = `${who.name} note ${round}`;
      added.push(text);
      await add(who, text);
    }));
    await Promise.all(wiki.map(idle));
    conflicts = 0;
    for (const who of wiki) conflicts += await who.frame.evaluate(() => window.lodgerConflicts || 0);
  }
  await refresh(adaWiki);
  await refresh(devWiki);
  for (const who of wiki) {
    const shown = new Set(await texts(who));
    const missing = added.filter((t) => !shown.has(t));
    check(!missing.length, `${who.name} lost macro items: ${missing.join(', ')}`);
  }
  check(conflicts > 0, 'Confluence never answered 409: the concurrent macro edits did not race');
  report.macro = { added, conflicts, ...macroOf(adaWiki) };
  step = 'saving the macro screenshot';
  await row(adaWiki, 'admin-wiki note 0').locator('.item-check').check();
  await idle(adaWiki);
  await adaWiki.frame.locator('.add-input').blur();
  await sleep(300);
  await adaWiki.page.locator(`[id="${adaWiki.slot}"]`).locator('xpath=..').screenshot({ path: join(config.artifacts, `${SHOT}macro.png`) });
  return report;
}

async function unlicensed() {
  step = 'opening the issue on an unlicensed site';
  const ada = await open('admin', config.users.admin, config.issueUrl, PANEL);
  if (FORGE) {
    check(ada.context.license && ada.context.license.active === false, `the context's license is ${JSON.stringify(ada.context.license)}`);
  } else {
    check(new URL(ada.frame.url()).searchParams.get('lic') === 'none', `the panel URL says lic=${new URL(ada.frame.url()).searchParams.get('lic')}`);
  }
  await ada.frame.locator('.banner').waitFor();
  await loaded(ada);
  return {
    banner: (await ada.frame.locator('.banner').textContent()).trim(),
    addable: await ada.frame.locator('.add-input').count() > 0,
    deletable: await ada.frame.locator('.item-delete').count() > 0,
  };
}

main().then(async (report) => {
  clearTimeout(watchdog);
  await browser.close();
  console.log(JSON.stringify(report));
}, fail);
