// The bridge seam: the one thing every lodger page uses to reach its host,
// under Connect and under Forge alike. Pages never touch `AP` or
// `@forge/bridge`; the adapters do (connect.js; site/forge/adapter.js,
// bundled with @forge/bridge into the Forge resources only).
//
// It chooses at run time: Forge when the Forge host injected
// `globalThis.__bridge` into the frame (before any script, as Custom UI
// hosts do), else Connect. Exposes `window.lodger`:
//
//   lodger.flavour          'connect' or 'forge'
//   lodger.ready            a promise: the host bridge is up, theming started
//   lodger.appKey           the Connect app key (rendered into the page)
//   lodger.context()        a promise of {product, accountId, issueId, issueKey,
//                           projectId, projectKey, contentId, macroId, title,
//                           surface, licensed, locale, theme}
//   lodger.host(options)    the product REST API as the user; options as
//                           AP.request's {url, type, contentType, data};
//                           answers {status, json}; rejects with HostError
//   lodger.api(method, path, body)  the lodger server; rejects with ApiError
//   lodger.displayName(accountId)   a person's name from the host, cached
//   lodger.events.emit(name), .on(name, fn)   messages between the app's frames
//   lodger.flag({title, body, type})          a flag on the host page
//   lodger.resize()         fit the frame (Forge frames size themselves)
//   lodger.macro            the macro editor: config(), save(config), close(),
//                           bindSubmit(fn)
//
// Nothing here stores anything: the host holds the data (docs/data.md).
(function () {
  'use strict';

  const adapters = window.lodgerAdapters || {};
  const flavour = globalThis.__bridge ? 'forge' : 'connect';
  const a = adapters[flavour];
  const meta = document.querySelector('meta[name="lodger-app-key"]');

  // A failed call to the host, with the status it answered (0: no answer).
  class HostError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // A failed call to the lodger server, with its status and its message.
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  const ready = a
    ? Promise.resolve().then(a.start)
    : Promise.reject(new Error('This page has no ' + flavour + ' bridge: open it from Jira or Confluence.'));
  ready.catch(() => {});

  // What a host's failure says: Jira's `errorMessages`, Confluence's `message`.
  function hostError(failure) {
    const status = (failure && failure.status) || 0;
    if (failure && failure.message) return new HostError(status, failure.message);
    let detail = '';
    try {
      const body = JSON.parse(failure.text);
      detail = (body.errorMessages && body.errorMessages[0]) || body.message || '';
    } catch (_) { /* not JSON: no detail */ }
    if (status === 0) return new HostError(0, 'The site did not answer. Check your connection and retry.');
    return new HostError(status, 'The site answered HTTP ' + status + (detail ? ': ' + detail : '.'));
  }

  async function host(options) {
    await ready;
    let answer;
    try {
      answer = await a.request(options);
    } catch (failure) {
      throw hostError(failure);
    }
    return { status: answer.status, json: answer.text ? JSON.parse(answer.text) : null };
  }

  async function api(method, path, body) {
    await ready;
    let answer;
    try {
      answer = await a.server(method, path, body);
    } catch (failure) {
      throw hostError(failure);
    }
    const json = answer.json;
    if (answer.status === 0) throw new ApiError(0, 'The lodger server did not answer. Retry in a moment.');
    if (answer.status < 200 || answer.status > 299) {
      throw new ApiError(answer.status, (json && json.error) || 'The lodger server answered HTTP ' + answer.status + '.');
    }
    return json;
  }

  let contextOnce = null;
  function context() {
    contextOnce = contextOnce || ready.then(a.context);
    return contextOnce;
  }

  // Display names by account id, from the host: Jira's `GET /rest/api/3/user`
  // or Confluence's `GET /rest/api/user`. Stored checklists keep account ids
  // only: names change, and are personal data.
  const names = new Map();
  function displayName(accountId) {
    if (!names.has(accountId)) {
      names.set(accountId, context().then((c) => host({
        url: (c.product === 'confluence' ? '/rest/api/user?accountId=' : '/rest/api/3/user?accountId=') +
          encodeURIComponent(accountId),
      })).then((response) => response.json.displayName || 'Someone', () => 'Someone'));
    }
    return names.get(accountId);
  }

  // Calls a bridge function once the bridge is up; failures are the page's
  // to ignore (events, flags and resizing are best effort).
  const later = (name) => (...args) => ready.then(() => a[name](...args)).catch(() => {});

  window.lodger = {
    flavour,
    ready,
    appKey: meta ? meta.content : '',
    context,
    host,
    api,
    displayName,
    events: { emit: later('emit'), on: later('on') },
    flag: later('flag'),
    resize: later('resize'),
    macro: {
      config: () => ready.then(a.macroConfig),
      save: (config) => ready.then(() => a.saveMacro(config)),
      close: () => ready.then(a.closeMacro),
      bindSubmit: later('bindMacroSubmit'),
    },
    HostError,
    ApiError,
  };
})();
