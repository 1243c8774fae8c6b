// The Forge adapter of the bridge seam (site/js/bridge.js): everything
// lodger's pages ask of the host, done with Atlassian's `@forge/bridge`.
// Its Connect twin is site/js/connect.js.
//
// Not part of the Connect site: build.rs leaves `site/forge/` out, and
// `lodger export --forge` bundles this file with `@forge/bridge` (pinned in
// tools/forge/package.json) by esbuild into each Custom UI resource
// (`js/forge-bridge.<hash>.js`), loaded before bridge.js. `@forge/bridge`
// reads `globalThis.__bridge` as its modules load, so the Forge host must
// inject it before this script runs; without it this file throws, registers
// nothing, and the seam says the page has no bridge.
//
// What is unverified against a real Forge site (no offline source settles
// it) is marked (unverified) below.
import {
  events,
  invokeRemote,
  requestConfluence,
  requestJira,
  showFlag,
  view,
} from '@forge/bridge';

let contextOnce = null;
const forgeContext = () => (contextOnce = contextOnce || view.getContext());

// Theming: `view.theme.enable()` sets the host's colour mode and design
// tokens on <html>, as Connect's `AP.theming.initializeTheming()` does.
async function start() {
  await forgeContext();
  try {
    await view.theme.enable();
  } catch (_) {
    // A host without theming: the page keeps its light theme.
  }
}

// `view.getContext()` in the seam's shape. `extension` holds the module's
// subject: `issue {id, key}` and `project {id, key}` (the panel, the
// glance: `type` `jira:issueContext`), `project` (project settings page),
// `content {id}` and `config` (the macro and its configuration).
// `localId` is the macro instance's id in the page (Connect's `macroId`
// differs: a Forge macro keeps its own content property); it becomes part
// of a content property key and of its URL path, so anything but letters,
// digits, `-` and `_` is replaced (its form is not documented: a UUID for
// macros, an ARI with `:` and `/` elsewhere). `license` is
// absent where licensing does not apply (development environments), so
// only `active: false` makes the page read-only.
export function shape(c) {
  const ext = (c && c.extension) || {};
  const confluence = !!(ext.content || ext.space) || String(ext.type || '').startsWith('macro');
  return {
    product: confluence ? 'confluence' : 'jira',
    accountId: (c && c.accountId) || null,
    issueId: ext.issue && ext.issue.id != null ? String(ext.issue.id) : null,
    issueKey: (ext.issue && ext.issue.key) || null,
    projectId: ext.project && ext.project.id != null ? String(ext.project.id) : null,
    projectKey: (ext.project && ext.project.key) || null,
    contentId: ext.content && ext.content.id != null ? String(ext.content.id) : null,
    macroId: (c && c.localId) ? String(c.localId).replace(/[^A-Za-z0-9_-]+/g, '-') : null,
    title: (ext.config && typeof ext.config.title === 'string') ? ext.config.title : null,
    surface: ext.type === 'jira:issueContext' ? 'glance' : 'panel',
    licensed: !(c && c.license && c.license.active === false),
    locale: (c && c.locale) || null,
    theme: (c && c.theme) || null,
  };
}

async function context() {
  return shape(await forgeContext());
}

// The product REST API as the user: `requestJira`/`requestConfluence`
// answer a fetch Response. Paths are Connect's, relative to the product;
// Forge names Confluence's with its `/wiki` context path (unverified
// beyond Atlassian's examples, which all do).
async function request(options) {
  const { product } = await context();
  const url = product === 'confluence' && !options.url.startsWith('/wiki/') ? '/wiki' + options.url : options.url;
  const init = { method: options.type || 'GET', headers: { Accept: 'application/json' } };
  if (options.data !== undefined) {
    init.body = options.data;
    init.headers['Content-Type'] = options.contentType || 'application/json';
  }
  let response;
  try {
    response = await (product === 'confluence' ? requestConfluence : requestJira)(url, init);
  } catch (_) {
    throw { status: 0, text: '' };
  }
  const text = await response.text();
  if (!response.ok) throw { status: response.status, text };
  return { status: response.status, text };
}

// The lodger server's Connect routes as the remote's actions
// (src/forge/remote.rs): the action is in the body, not the path.
export function action(method, path, body) {
  if (method === 'GET' && path === '/api/whoami') return { action: 'whoami' };
  if (method === 'GET' && path === '/api/settings') return { action: 'getSettings' };
  if (method === 'PUT' && path === '/api/settings') return { action: 'putSettings', settings: body };
  const template = /^\/api\/issues\/([^/]+)\/template$/.exec(path);
  if (method === 'POST' && template) return { action: 'applyTemplate', issueId: decodeURIComponent(template[1]) };
  return null;
}

// `invokeRemote` to the module's `resolver.endpoint` (the manifest picks
// the admin endpoint for the admin page); Forge adds the invocation token.
// The body goes as an object (unverified: whether Forge also takes a
// string). It answers {status, headers, body}, or the error's fields.
async function server(method, path, body) {
  const call = action(method, path, body);
  if (!call) throw { status: 0, message: 'The lodger server has no Forge action for ' + method + ' ' + path + '.' };
  let answer;
  try {
    answer = await invokeRemote({
      path: '/' + call.action,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: call,
    });
  } catch (_) {
    return { status: 0, json: null };
  }
  let json = answer && answer.body !== undefined ? answer.body : null;
  if (typeof json === 'string') {
    try { json = json ? JSON.parse(json) : null; } catch (_) { json = null; }
  }
  return { status: (answer && answer.status) || 0, json };
}

let flags = 0;

// Whether Forge hands an app's event back to the frame that emitted it is
// not documented (Connect's AP.events does not): each frame tags what it
// sends and ignores its own, so a save does not make its own panel reload.
const frameTag = Math.random().toString(36).slice(2);

globalThis.lodgerAdapters = Object.assign(globalThis.lodgerAdapters || {}, {
  forge: {
    flavour: 'forge',
    start,
    context,
    request,
    server,
    emit: (name) => events.emit(name, { from: frameTag }),
    on: (name, listener) => events.on(name, (payload) => {
      if (!payload || payload.from !== frameTag) listener(payload);
    }),
    // (unverified) the flag's look in a real product.
    flag: (options) => showFlag({
      id: 'lodger-flag-' + ++flags,
      title: options.title,
      description: options.body,
      type: options.type || 'info',
      isAutoDismiss: true,
    }),
    // Custom UI frames size themselves.
    resize: () => {},
    // The macro's configuration (`macro.config.resource`): read from the
    // context, written with `view.submit({config})` (unverified: the
    // payload shape of Custom UI macro configuration).
    macroConfig: async () => ((await forgeContext()).extension || {}).config || {},
    saveMacro: (config) => view.submit({ config }),
    closeMacro: () => view.close(),
    // Forge draws no Save button of its own around a Custom UI config.
    bindMacroSubmit: () => {},
  },
});
