// The bridge seam (site/js/bridge.js) with its Connect adapter
// (site/js/connect.js) against a fake `AP`; and that no page but the
// adapters touches `AP` or `@forge/bridge`. The Forge half is in
// tests/js-forge/ (it needs tools/forge's esbuild).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { frame, plain, source } from './harness.mjs';

function fakeAP(log) {
  return {
    request: async (options) => {
      log.push(options);
      if (options.url.includes('/properties/lodger-installation')) {
        return { body: JSON.stringify({ value: { credential: 'sealed' } }), xhr: { status: 200 } };
      }
      if (options.url.startsWith('/rest/api/3/issue/404')) {
        throw { err: 'x', xhr: { status: 404, responseText: '{"errorMessages":["Issue does not exist"]}' } };
      }
      if (options.type === 'PUT') return { body: '', xhr: { status: 204 } };
      return { body: '{"value":{"v":1}}', xhr: { status: 200 } };
    },
    context: { getToken: (callback) => callback('token-1') },
    user: { getCurrentUser: (callback) => callback({ atlassianAccountId: 'acc-1' }) },
    events: { emit: (name) => log.push({ emit: name }), on: (name) => log.push({ on: name }) },
    resize: () => log.push('resize'),
    theming: { initializeTheming: () => log.push('theming') },
    flag: { create: (options) => log.push({ flag: options }) },
  };
}

function connectPage(search, fetch) {
  const log = [];
  const page = frame({ search, AP: fakeAP(log), fetch });
  page.run(source('site/js/connect.js'), 'connect.js');
  page.run(source('site/js/bridge.js'), 'bridge.js');
  return { lodger: page.window.lodger, log, page };
}

test('without __bridge the seam chooses Connect and loads all.js from the host', async () => {
  const { lodger, log, page } = connectPage('?xdm_e=http://127.0.0.1:2990&issueId=10001&issueKey=LOD-1&lic=active');
  assert.equal(lodger.flavour, 'connect');
  await lodger.ready;
  assert.deepEqual(page.window.loaded, ['http://127.0.0.1:2990/atlassian-connect/all.js']);
  assert.ok(log.includes('theming'));
  const context = await lodger.context();
  assert.equal(context.product, 'jira');
  assert.equal(context.accountId, 'acc-1');
  assert.equal(context.issueId, '10001');
  assert.equal(context.issueKey, 'LOD-1');
  assert.equal(context.licensed, true);
  assert.equal(context.surface, 'panel');
});

test('Connect: host() answers {status, json} and rejects with the site\'s message', async () => {
  const { lodger } = connectPage('');
  assert.deepEqual(plain(await lodger.host({ url: '/rest/api/3/issue/1/properties/x' })), { status: 200, json: { value: { v: 1 } } });
  assert.deepEqual(plain(await lodger.host({ url: '/rest/api/3/issue/1/properties/x', type: 'PUT', data: '{}' })), { status: 204, json: null });
  await assert.rejects(lodger.host({ url: '/rest/api/3/issue/404/properties/x' }), (error) => {
    assert.equal(error.status, 404);
    assert.equal(error.message, 'The site answered HTTP 404: Issue does not exist');
    assert.ok(error instanceof lodger.HostError);
    return true;
  });
});

test('Connect: api() sends a context token and the relayed credential', async () => {
  const calls = [];
  const fetch = async (path, init) => {
    calls.push({ path, init });
    return { status: path === '/api/settings' ? 200 : 403, json: async () => (path === '/api/settings' ? { settings: {} } : { error: 'only admins' }) };
  };
  const { lodger } = connectPage('', fetch);
  assert.deepEqual(plain(await lodger.api('GET', '/api/settings')), { settings: {} });
  assert.equal(calls[0].init.headers.Authorization, 'JWT token-1');
  assert.equal(calls[0].init.headers['X-Lodger-Installation'], 'sealed');
  await assert.rejects(lodger.api('PUT', '/api/other', { a: 1 }), { status: 403, message: 'only admins' });
  assert.equal(calls[1].init.body, '{"a":1}');
});

test('Connect: a glance, an unlicensed site and Confluence read from the URL', async () => {
  const glance = await connectPage('?surface=glance&lic=none').lodger.context();
  assert.equal(glance.surface, 'glance');
  assert.equal(glance.licensed, false);
  const wiki = await connectPage('?cp=/wiki&contentId=65537&macroId=m1&title=Release').lodger.context();
  assert.deepEqual([wiki.product, wiki.contentId, wiki.macroId, wiki.title], ['confluence', '65537', 'm1', 'Release']);
});

test('Connect: events, resize and flags go to AP', async () => {
  const { lodger, log } = connectPage('');
  await lodger.events.emit('lodger-checklist-saved');
  await lodger.events.on('lodger-checklist-saved', () => {});
  await lodger.resize();
  await lodger.flag({ title: 'Saved', body: 'ok' });
  assert.deepEqual(plain(log.filter((entry) => typeof entry === 'string' || !entry.url).slice(-4)), [
    { emit: 'lodger-checklist-saved' }, { on: 'lodger-checklist-saved' }, 'resize',
    { flag: { title: 'Saved', body: 'ok', type: 'info', close: 'auto' } },
  ]);
});

test('no page touches AP or @forge/bridge: only the adapters do', () => {
  const adapters = new Set(['connect.js']);
  const files = readdirSync(new URL('../../site/js/', import.meta.url)).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes('bridge.js') && files.length >= 8, files.join(' '));
  for (const file of files.filter((f) => !adapters.has(f))) {
    // Code only: comments may name what they replace.
    const code = source('site/js/' + file).split('\n').filter((line) => !line.trim().startsWith('//')).join('\n');
    assert.doesNotMatch(code, /\bAP\s*[.[]|window\.AP\b/, file + ' touches AP');
    assert.doesNotMatch(code, /@forge\/bridge|__bridge\.callBridge|requestJira|invokeRemote/, file + ' touches the Forge bridge');
  }
  for (const page of ['jira/issue-panel', 'jira/admin', 'jira/project-template', 'confluence/macro', 'confluence/macro-editor']) {
    const html = source('site/' + page + '.html');
    assert.match(html, /<script src="\/js\/connect\.js"><\/script>\s*<script src="\/js\/bridge\.js"><\/script>/, page);
    assert.doesNotMatch(html, /forge-bridge|@forge/, page);
  }
});
