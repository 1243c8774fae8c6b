// The Connect adapter of the bridge seam (bridge.js): everything lodger's
// pages ask of the host, done with the Connect JS bridge `AP`. The only
// file of the site that touches `AP`; its Forge twin is
// site/forge/adapter.js. Registers `lodgerAdapters.connect` and loads
// nothing until the seam chooses it (`start()`).
//
// `all.js` (which defines `AP`) comes from where the host serves it:
// Atlassian's cloud sites from their CDN; a host on another origin (the
// dev world's emulated Jira) at `<host>/atlassian-connect/all.js`, its
// origin being the iframe URL's `xdm_e` parameter. `xdm_e` is only a hint
// from the URL, so the page's Content-Security-Policy decides what may
// load: the CDN, and the hosts the operator configured (`--extra-host`).
(function () {
  'use strict';
  const CDN = 'https://connect-cdn.atl-paas.net/all.js';
  const params = new URLSearchParams(location.search);
  const param = (name) => params.get(name);
  const xdm = param('xdm_e') || '';
  const atlassianCloud = /^https:\/\/[a-z0-9-]+\.(atlassian\.net|jira\.com|jira-dev\.com)$/i;
  const src = !xdm || atlassianCloud.test(xdm) ? CDN : xdm.replace(/\/+$/, '') + '/atlassian-connect/all.js';
  // A Confluence page's context path (`cp`) is `/wiki`.
  const confluence = (param('cp') || '').endsWith('/wiki');
  let AP = null;
  let started = null;

  // Loads all.js once, then follows the host's light or dark theme (the
  // bridge copies the host's `data-color-mode` onto <html>).
  function start() {
    started = started || new Promise(function (resolve, reject) {
      const script = document.createElement('script');
      script.src = src;
      script.onload = function () { resolve(window.AP); };
      script.onerror = function () { reject(new Error('Could not load the Connect bridge from ' + src + '.')); };
      document.head.appendChild(script);
    }).then(function (bridge) {
      AP = bridge;
      if (AP.theming && typeof AP.theming.initializeTheming === 'function') AP.theming.initializeTheming();
    });
    return started;
  }

  // The signed-in account id: AP.user answers through a callback in older
  // bridges and a promise in newer ones; take either.
  function accountId() {
    return new Promise((resolve) => {
      const answer = AP.user.getCurrentUser(resolve);
      if (answer && answer.then) answer.then(resolve, () => resolve({}));
    }).then((user) => (user && user.atlassianAccountId) || null);
  }

  // The page's context: the iframe URL's parameters (the descriptor names
  // them) and the user from AP.user.
  async function context() {
    return {
      product: confluence ? 'confluence' : 'jira',
      accountId: await accountId(),
      issueId: param('issueId'),
      issueKey: param('issueKey'),
      projectId: param('projectId'),
      projectKey: param('projectKey'),
      contentId: param('contentId'),
      macroId: param('macroId'),
      title: param('title'),
      surface: param('surface') === 'glance' ? 'glance' : 'panel',
      licensed: param('lic') !== 'none',
      locale: param('loc'),
      theme: null,
    };
  }

  // AP.request resolves with {body, xhr} (body is a string) and rejects
  // with {err, xhr}: both become {status, text}, thrown when it failed.
  async function request(options) {
    try {
      const answer = await AP.request(options);
      return { status: answer.xhr ? answer.xhr.status : 200, text: answer.body };
    } catch (failure) {
      const xhr = (failure && failure.xhr) || {};
      throw { status: xhr.status || 0, text: xhr.responseText || '' };
    }
  }

  // The sealed installation credential, read once per page from the app
  // property the server wrote at install. It is safe to hold: only the
  // server's master key opens it.
  let credential = null;
  function installationCredential() {
    const meta = document.querySelector('meta[name="lodger-app-key"]');
    const key = meta ? meta.content : '';
    credential = credential || request({
      url: '/rest/atlassian-connect/1/addons/' + encodeURIComponent(key) + '/properties/lodger-installation',
    }).then((answer) => JSON.parse(answer.text).value.credential, (failure) => {
      credential = null;
      throw failure.status === 404
        ? { status: 404, message: 'lodger is not fully installed on this site: its installation property is missing. Ask an admin to reinstall it.' }
        : failure;
    });
    return credential;
  }

  // Calls the lodger server (same origin as the page) with a fresh context
  // token (they live minutes: one per call) and the relayed credential.
  // Answers {status, json}; {status: 0} when it did not answer.
  async function server(method, path, body) {
    const [token, sealed] = await Promise.all([
      new Promise((resolve) => AP.context.getToken(resolve)),
      installationCredential(),
    ]);
    const headers = { 'Authorization': 'JWT ' + token, 'X-Lodger-Installation': sealed };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      return { status: 0, json: null };
    }
    return { status: response.status, json: await response.json().catch(() => null) };
  }

  window.lodgerAdapters = Object.assign(window.lodgerAdapters || {}, {
    connect: {
      flavour: 'connect',
      confluence,
      start,
      context,
      request,
      server,
      emit: (name) => AP.events && AP.events.emit(name),
      on: (name, listener) => AP.events && AP.events.on(name, listener),
      flag: (options) => AP.flag.create({ title: options.title, body: options.body, type: options.type || 'info', close: 'auto' }),
      resize: () => AP.resize(),
      // The macro editor: Confluence keeps the parameters in the page.
      macroConfig: () => new Promise((resolve) => AP.confluence.getMacroData((data) => resolve(data || {}))),
      // saveMacro is fire-and-forget on Atlassian's Confluence; closing
      // right after is the documented pattern.
      saveMacro: async (config) => {
        AP.confluence.saveMacro(config);
        AP.confluence.closeMacroEditor();
      },
      closeMacro: async () => AP.confluence.closeMacroEditor(),
      // Confluence may draw its own Save button in the dialog's chrome.
      bindMacroSubmit: (submit) => {
        try {
          const chrome = AP.dialog && typeof AP.dialog.getButton === 'function' && AP.dialog.getButton('submit');
          if (chrome && typeof chrome.bind === 'function') chrome.bind(submit);
        } catch (_) { /* no dialog chrome */ }
      },
    },
  });
})();
