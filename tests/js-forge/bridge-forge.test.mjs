// The bridge seam (site/js/bridge.js) with its Forge adapter
// (site/forge/adapter.js) bundled with the real @forge/bridge 7.2.0 by the
// pinned esbuild (tools/forge/bundle.js), against a fake host half of
// `globalThis.__bridge.callBridge`. Needs `npm ci --prefix tools/forge`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fakeBridge, frame, plain, root, source } from '../js/harness.mjs';

const bundle = execFileSync('node', [fileURLToPath(new URL('tools/forge/bundle.js', root))], {
  input: source('site/forge/adapter.js'),
});

const JIRA_CONTEXT = {
  accountId: 'acc-1', cloudId: 'cloud-1', siteUrl: 'https://example.atlassian.net', localId: 'local-1',
  moduleKey: 'checklist-panel', locale: 'en-US', timezone: 'UTC', theme: { colorMode: 'dark' },
  license: { active: true },
  extension: { type: 'jira:issuePanel', issue: { id: '10001', key: 'LOD-1', type: 'Task' }, project: { id: '10000', key: 'LOD', type: 'software' } },
};

// The products' answers: by restPath.
function products(payload) {
  if (payload.restPath.includes('/404/')) {
    return { status: 404, statusText: 'Not Found', headers: {}, body: '{"errorMessages":["Issue does not exist"]}' };
  }
  if (payload.fetchRequestInit.method === 'PUT') return { status: 204, statusText: 'No Content', headers: {}, body: '' };
  return { status: 200, statusText: 'OK', headers: { 'content-type': 'application/json' }, body: '{"value":{"v":1}}' };
}

function forgePage(context = JIRA_CONTEXT, remote = () => ({ success: true, payload: { status: 200, headers: {}, body: { settings: {} } } })) {
  const bridge = fakeBridge({
    getContext: () => structuredClone(context),
    enableTheming: () => undefined,
    fetchProduct: products,
    invoke: remote,
    emit: () => undefined,
    on: () => undefined,
    showFlag: () => undefined,
    submit: () => true,
    close: () => true,
  });
  const page = frame({ bridge });
  page.run(bundle.toString('utf8'), 'forge-bridge.js');
  page.run(source('site/js/bridge.js'), 'bridge.js');
  return { lodger: page.window.lodger, calls: bridge.calls, page };
}

test('with __bridge the seam chooses Forge, enables theming and loads no Connect JS', async () => {
  const { lodger, calls, page } = forgePage();
  assert.equal(lodger.flavour, 'forge');
  await lodger.ready;
  assert.deepEqual(page.window.loaded, [], 'no all.js');
  assert.ok(calls.some((call) => call.name === 'enableTheming'));
  assert.deepEqual(plain(await lodger.context()), {
    product: 'jira', accountId: 'acc-1', issueId: '10001', issueKey: 'LOD-1', projectId: '10000', projectKey: 'LOD',
    contentId: null, macroId: 'local-1', title: null, surface: 'panel', licensed: true, locale: 'en-US',
    theme: { colorMode: 'dark' },
  });
});

test('Forge: host() goes through requestJira and maps status and json as Connect does', async () => {
  const { lodger, calls } = forgePage();
  assert.deepEqual(plain(await lodger.host({ url: '/rest/api/3/issue/1/properties/x' })), { status: 200, json: { value: { v: 1 } } });
  const put = await lodger.host({ url: '/rest/api/3/issue/1/properties/x', type: 'PUT', contentType: 'application/json', data: '{"a":1}' });
  assert.deepEqual(plain(put), { status: 204, json: null });
  await assert.rejects(lodger.host({ url: '/rest/api/3/issue/404/properties/x' }), (error) => {
    assert.equal(error.status, 404);
    assert.equal(error.message, 'The site answered HTTP 404: Issue does not exist');
    return true;
  });
  const fetches = calls.filter((call) => call.name === 'fetchProduct');
  assert.equal(fetches[0].payload.product, 'jira');
  assert.equal(fetches[0].payload.restPath, '/rest/api/3/issue/1/properties/x');
  assert.equal(fetches[0].payload.fetchRequestInit.method, 'GET');
  assert.equal(fetches[1].payload.fetchRequestInit.method, 'PUT');
  assert.equal(fetches[1].payload.fetchRequestInit.body, '{"a":1}');
  const headers = Object.fromEntries(fetches[1].payload.fetchRequestInit.headers);
  assert.equal(headers['content-type'], 'application/json');
});

test('Forge: api() maps each server call to its invokeRemote action body', async () => {
  const { lodger, calls } = forgePage();
  await lodger.api('GET', '/api/settings');
  await lodger.api('PUT', '/api/settings', { applyTemplates: false, showWhoTicked: true });
  await lodger.api('GET', '/api/whoami');
  await lodger.api('POST', '/api/issues/10001/template');
  const invokes = calls.filter((call) => call.name === 'invoke').map((call) => plain(call.payload));
  assert.deepEqual(invokes.map((payload) => payload.body), [
    { action: 'getSettings' },
    { action: 'putSettings', settings: { applyTemplates: false, showWhoTicked: true } },
    { action: 'whoami' },
    { action: 'applyTemplate', issueId: '10001' },
  ]);
  for (const payload of invokes) {
    assert.equal(payload.method, 'POST');
    assert.equal(payload.invokeType, 'ui-remote-fetch');
    assert.ok(payload.path.startsWith('/'), payload.path);
    assert.equal(payload.headers.Authorization, undefined, 'Forge adds the invocation token');
  }
  await assert.rejects(lodger.api('DELETE', '/api/settings'), /no Forge action/);
});

test('Forge: the remote\'s refusals become ApiError with its message', async () => {
  const { lodger } = forgePage(JIRA_CONTEXT, (payload) => payload.body.action === 'putSettings'
    ? { success: true, payload: { status: 403, headers: {}, body: '{"error":"only site admins"}' } }
    : { success: false, error: { message: 'the remote did not answer' } });
  await assert.rejects(lodger.api('PUT', '/api/settings', {}), { status: 403, message: 'only site admins' });
  await assert.rejects(lodger.api('GET', '/api/settings'), { status: 0 });
});

test('Forge: Confluence, the glance and an inactive licence come from view.getContext()', async () => {
  const macro = forgePage({
    accountId: 'acc-2', localId: 'macro-1', locale: 'en-US', license: { active: false },
    extension: { type: 'macro', content: { id: '65537', type: 'page' }, space: { key: 'DOC' }, config: { title: 'Release' } },
  });
  const context = await macro.lodger.context();
  assert.deepEqual([context.product, context.contentId, context.macroId, context.title, context.licensed], ['confluence', '65537', 'macro-1', 'Release', false]);
  await macro.lodger.host({ url: '/rest/api/content/65537/property/k' });
  const fetch = macro.calls.find((call) => call.name === 'fetchProduct').payload;
  assert.deepEqual([fetch.product, fetch.restPath], ['confluence', '/wiki/rest/api/content/65537/property/k']);
  assert.deepEqual(plain(await macro.lodger.macro.config()), { title: 'Release' });
  await macro.lodger.macro.save({ title: 'Done' });
  assert.deepEqual(plain(macro.calls.find((call) => call.name === 'submit').payload), { config: { title: 'Done' } });

  const glance = forgePage({ ...JIRA_CONTEXT, license: undefined, extension: { ...JIRA_CONTEXT.extension, type: 'jira:issueContext' } });
  const g = await glance.lodger.context();
  assert.deepEqual([g.surface, g.licensed], ['glance', true]);
});

test('Forge: events and flags go to the bridge; resize is a no-op', async () => {
  const { lodger, calls } = forgePage();
  await lodger.events.emit('lodger-checklist-saved');
  await lodger.events.on('lodger-checklist-saved', () => {});
  await lodger.flag({ title: 'Saved', body: 'ok' });
  await lodger.resize();
  const names = calls.map((call) => call.name).filter((name) => ['emit', 'on', 'showFlag'].includes(name));
  assert.deepEqual(names, ['emit', 'on', 'showFlag']);
  // Tagged with the sending frame, which ignores its own events (the
  // browser test shows a save does not reload its own panel).
  const emitted = plain(calls.find((call) => call.name === 'emit').payload);
  assert.equal(emitted.event, 'lodger-checklist-saved');
  assert.match(emitted.payload.from, /^[a-z0-9]+$/);
  const flag = calls.find((call) => call.name === 'showFlag').payload;
  assert.deepEqual([flag.title, flag.description, flag.type], ['Saved', 'ok', 'info']);
});

test('without __bridge the bundle registers nothing and the page says it has no bridge', async () => {
  const page = frame({});
  assert.throws(() => page.run(bundle.toString('utf8'), 'forge-bridge.js'), /Custom UI bridge/);
  page.run(source('site/js/bridge.js'), 'bridge.js');
  assert.equal(page.window.lodger.flavour, 'connect');
  await assert.rejects(page.window.lodger.ready, /no connect bridge/);
});
