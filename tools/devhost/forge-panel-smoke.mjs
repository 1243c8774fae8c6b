// The Forge flavour's issue panel in a real Chromium, before the emulated
// Custom UI host exists: the exported resource folder (`lodger export
// --forge`, `resources/issue-panel/`) served under the Content-Security-
// Policy Forge gives Custom UI (scripts and styles from the resource only),
// with an in-frame fake of the host half of `globalThis.__bridge` injected
// before any script, as Forge's host does. The page half is the real
// `@forge/bridge`, bundled.
//
//   node tools/devhost/forge-panel-smoke.mjs '{"resource": "<folder>", "artifacts": "<dir>"}'
//
// Checks: the seam picks Forge, the panel renders, an added and a ticked
// item reach the issue property `lodger-checklist` through `fetchProduct`
// (the bulk conditional write, then a read), the settings come through
// `invoke` as `{"action": "getSettings"}`, and the browser reports no CSP
// violation or page error. Prints one JSON line; exits 1 on failure.
import { launch } from './chromium.mjs';
import { mkdirSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';

const config = JSON.parse(process.argv[2] || '{}');
const ORIGIN = 'https://forge-resource.invalid';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const watchdog = setTimeout(() => fail(new Error('no result within 60 s')), 60_000);
const problems = [];
let browser;

function fail(error) {
  console.error('forge panel smoke test failed: ' + (error && error.stack ? error.stack : error));
  console.error(problems.join('\n'));
  process.exit(1);
}

// The host half, in the frame: an issue with properties, permissions, users
// and the remote's settings. Shapes as @forge/bridge 7.2.0 sends them.
function fakeHost() {
  const properties = new Map();
  const calls = [];
  window.__host = { properties, calls };
  const json = (status, value) => ({ status, statusText: '', headers: { 'content-type': 'application/json' }, body: value === undefined ? '' : JSON.stringify(value) });
  const jira = (path, init) => {
    const url = new URL(path, 'https://jira.invalid');
    const one = /^\/rest\/api\/3\/issue\/10001\/properties\/([^/]+)$/.exec(url.pathname);
    if (one && init.method === 'GET') {
      const key = decodeURIComponent(one[1]);
      return properties.has(key) ? json(200, { key, value: properties.get(key) }) : json(404, { errorMessages: ['No property'] });
    }
    if (one && init.method === 'PUT') {
      properties.set(decodeURIComponent(one[1]), JSON.parse(init.body));
      return json(200, {});
    }
    const bulk = /^\/rest\/api\/3\/issue\/properties\/([^/]+)$/.exec(url.pathname);
    if (bulk && init.method === 'PUT') {
      const key = decodeURIComponent(bulk[1]);
      const { value, filter } = JSON.parse(init.body);
      const matches = filter.hasProperty === false ? !properties.has(key)
        : JSON.stringify(properties.get(key)) === JSON.stringify(filter.currentValue);
      if (matches) properties.set(key, value);
      return json(200, { id: 'task-1', status: 'COMPLETE' });
    }
    if (url.pathname === '/rest/api/3/mypermissions') return json(200, { permissions: { EDIT_ISSUES: { havePermission: true } } });
    if (url.pathname === '/rest/api/3/user') return json(200, { displayName: 'Ada Admin' });
    return json(404, { errorMessages: ['not emulated: ' + path] });
  };
  globalThis.__bridge = {
    callBridge: async (name, payload) => {
      calls.push({ name, payload: name === 'on' ? { event: payload.event } : payload });
      switch (name) {
        case 'getContext':
          return {
            accountId: 'acc-ada', cloudId: 'cloud-1', siteUrl: 'https://lodger-dev.atlassian.net', localId: 'local-1',
            moduleKey: 'checklist-panel', locale: 'en-US', timezone: 'UTC', environmentType: 'DEVELOPMENT',
            extension: { type: 'jira:issuePanel', issue: { id: '10001', key: 'LOD-1', type: 'Task' }, project: { id: '10000', key: 'LOD', type: 'software' } },
          };
        case 'fetchProduct': {
          const init = payload.fetchRequestInit;
          return jira(payload.restPath, { method: init.method || 'GET', body: init.body });
        }
        case 'invoke':
          return { success: true, payload: { status: 200, headers: {}, body: { settings: { applyTemplates: true, showWhoTicked: true } } } };
        default:
          return undefined; // enableTheming, emit, on
      }
    },
  };
}

async function main() {
  browser = await launch();
  const page = await browser.newPage();
  page.on('console', (message) => problems.push('console ' + message.type() + ': ' + message.text()));
  page.on('pageerror', (error) => problems.push('pageerror: ' + error.message));
  page.on('requestfailed', (request) => problems.push('requestfailed: ' + request.url()));
  await page.addInitScript(fakeHost);
  await page.route(ORIGIN + '/**', async (route) => {
    const path = normalize(decodeURIComponent(new URL(route.request().url()).pathname)).replace(/^\/+/, '') || 'index.html';
    try {
      const body = readFileSync(join(config.resource, path));
      await route.fulfill({ status: 200, body, headers: { 'content-type': TYPES[extname(path)] || 'application/octet-stream', 'content-security-policy': CSP } });
    } catch (_) {
      await route.fulfill({ status: 404, body: 'not in the resource: ' + path });
    }
  });
  await page.route((url) => !url.href.startsWith(ORIGIN), (route) => {
    problems.push('outside the resource: ' + route.request().url());
    return route.abort();
  });

  await page.goto(ORIGIN + '/index.html');
  const flavour = await page.evaluate(() => window.lodger && window.lodger.flavour);
  if (flavour !== 'forge') throw new Error('the seam chose ' + flavour);
  await page.waitForSelector('.add-input', { timeout: 15_000 });
  await page.fill('.add-input', 'Write the release notes');
  await page.press('.add-input', 'Enter');
  await page.waitForFunction(() => {
    const doc = window.__host.properties.get('lodger-checklist');
    return doc && JSON.stringify(doc).includes('Write the release notes');
  }, null, { timeout: 15_000 });
  await page.click('.item-check');
  await page.waitForFunction(() => JSON.stringify(window.__host.properties.get('lodger-checklist')).includes('"done":1'), null, { timeout: 15_000 });
  mkdirSync(config.artifacts, { recursive: true });
  await page.screenshot({ path: join(config.artifacts, 'forge-issue-panel.png') });
  const seen = await page.evaluate(() => ({
    stored: window.__host.properties.get('lodger-checklist'),
    invokes: window.__host.calls.filter((c) => c.name === 'invoke').map((c) => c.payload.body),
    names: [...new Set(window.__host.calls.map((c) => c.name))].sort(),
  }));
  const csp = problems.filter((p) => /Content Security Policy|Refused to/i.test(p) || p.startsWith('pageerror') || p.startsWith('outside'));
  if (csp.length) throw new Error('the page broke a rule:\n' + csp.join('\n'));
  clearTimeout(watchdog);
  await browser.close();
  console.log(JSON.stringify({ flavour, ...seen }));
}

main().catch(fail);
