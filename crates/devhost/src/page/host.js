// The product side of the Connect bridge, on an emulated Jira or Confluence page.
//
// An app's page runs in an iframe on the app's own origin and cannot touch the
// product page around it. It loads `all.js` and calls `AP.*`; each call is a
// postMessage to this page, where the connect-js *host* bundle
// (`connect-host.js`, from the npm package `atlassian-connect-js`) receives it
// and runs the method the product defined for it. This file is those
// definitions, plus the few lines that create the app iframes. It is how an
// Atlassian product wires the bridge, at its smallest:
//
//   1. read what the server decided to show (the view JSON in the page);
//   2. define the product's modules: `AP.request`, `AP.context`, `AP.user`,
//      `AP.navigator`, `AP.jira`, `AP.confluence` (the bundle itself brings
//      flags, dialogs, resize and events);
//   3. give the bundle a way to draw flags (Atlassian's pages use AUI);
//   4. create each app iframe and put it in its slot on the page.
//
// Order matters: the module list is frozen into each iframe's `window.name`
// when the iframe is created, so every module is defined before step 4.
//
// Loaded after jquery.js, globals.js (which sets `window.AJS.$`) and
// connect-host.js (which sets `window.connectHost`). Served as written.
(function () {
  'use strict';

  const host = window.connectHost;
  const view = JSON.parse(document.getElementById('lodger-dev-view').textContent);
  if (!host) {
    console.error('[lodger dev host] connect-host.js did not load: no app iframe can be shown.');
    return;
  }

  // --- Helpers -------------------------------------------------------------

  // Which app iframe is calling. The bundle calls every product method with
  // the iframe's arguments, padded to the method's declared parameters minus
  // one, and then a callback; so each method below declares `callback` last
  // even when it only returns a Promise. `callback._context.extension` names
  // the iframe (`addon_key`, `key` = module key, `url`, `options`).
  function caller(callback) {
    const extension = (callback && callback._context && callback._context.extension) || {};
    return { addonKey: extension.addon_key, moduleKey: extension.key };
  }

  // Marks a method as answering with a Promise: the bundle then replies to
  // the iframe when the Promise settles. Every method here is an `async
  // function`, because a method that throws synchronously leaves the iframe
  // waiting forever, while an async function turns any throw into a
  // rejection. Resolving with `undefined` counts as an error in the iframe,
  // so every method resolves with a value.
  function promised(method) {
    method.returnsPromise = true;
    return method;
  }

  // Where the site's REST API lives, as seen from this page. It is
  // `view.site.baseUrl` (Confluence's includes `/wiki`) on this page's own
  // origin, so that the session cookie goes along even when the page was
  // opened as `localhost` rather than `127.0.0.1`.
  const apiBase = location.origin + new URL(view.site.baseUrl, location.href).pathname.replace(/\/+$/, '');

  // The response as AP.request describes it: a plain object (functions and
  // XMLHttpRequest objects cannot cross postMessage).
  function exposedXhr(response, text) {
    const headers = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    return {
      status: response.status,
      statusText: response.statusText,
      responseText: text,
      readyState: 4,
      headers: headers,
    };
  }

  // --- AP.request ----------------------------------------------------------
  //
  // Runs a REST call on the site *as the logged-in user*: the browser sends
  // the session cookie, and the page names the calling app in
  // `X-Lodger-Dev-App` so the server applies that app's scopes too, as Jira
  // does. Only `Accept`, `If-Match` and `If-None-Match` pass from the app, as
  // on Atlassian's sites. An app's `success`/`error` callbacks never arrive
  // here (the bridge strips functions): apps use the Promise AP.request returns.
  //
  // Both documented forms (Atlassian, "Connect JavaScript API: request"):
  // `AP.request(options)` with `options.url`, and `AP.request(url, options)`,
  // which ACE's template and most apps use (`AP.request('/rest/api/3/myself')`).
  // The bridge pads the arguments to `fn.length - 1` and appends the callback.
  async function request(urlOrOptions, maybeOptions, callback) {
    if (typeof maybeOptions === 'function' && callback === undefined) {
      callback = maybeOptions;
      maybeOptions = undefined;
    }
    const options = typeof urlOrOptions === 'string'
      ? Object.assign({}, maybeOptions || {}, { url: urlOrOptions })
      : (urlOrOptions || {});
    const url = String(options.url || '');
    // Only paths on this site: an absolute or protocol-relative URL would let
    // an app send the user's requests elsewhere.
    if (!url.startsWith('/') || url.startsWith('//')) {
      throw { err: 'AP.request takes a path on the site, such as /rest/api/3/myself', xhr: { status: 0, statusText: '', responseText: '', readyState: 4, headers: {} } };
    }
    const method = String(options.type || 'GET').toUpperCase();
    const given = options.headers || {};
    const headers = {
      'Accept': given.Accept || given.accept || 'application/json',
      'X-Lodger-Dev-App': caller(callback).addonKey || '',
    };
    for (const name of ['If-Match', 'If-None-Match']) {
      const value = given[name] || given[name.toLowerCase()];
      if (value) headers[name] = value;
    }

    let target = apiBase + url;
    let body;
    if (options.data !== undefined && options.data !== null) {
      // As jQuery.ajax did for the original host: objects become form fields,
      // and a GET carries its data in the query string.
      const data = typeof options.data === 'string' ? options.data : new URLSearchParams(options.data).toString();
      if (method === 'GET' || method === 'HEAD') {
        target += (target.includes('?') ? '&' : '?') + data;
      } else {
        headers['Content-Type'] = options.contentType || 'application/x-www-form-urlencoded; charset=UTF-8';
        body = data;
      }
    }

    let response;
    try {
      response = await fetch(target, { method: method, credentials: 'same-origin', headers: headers, body: body });
    } catch (error) {
      throw { err: 'The site could not be reached: ' + error.message, xhr: { status: 0, statusText: '', responseText: '', readyState: 4, headers: {} } };
    }
    const text = await response.text();
    const xhr = exposedXhr(response, text);
    if (response.ok) {
      return { body: text, xhr: xhr };
    }
    throw { err: text, xhr: xhr };
  }

  // The one-argument form defines globals: `AP.request`, not `AP.x.request`.
  host.defineModule({ request: promised(request) });

  // What a module sees: a macro has its own context (its `macro.id`), other
  // modules the page's.
  function contextOf(who) {
    if (editor && who.addonKey === editor.module.addonKey && who.moduleKey === editor.module.moduleKey + '-editor') {
      return editor.context;
    }
    const module = (view.modules || []).find((m) => m.addonKey === who.addonKey && m.moduleKey === who.moduleKey);
    return (module && module.context) || view.context;
  }

  // --- AP.context ----------------------------------------------------------
  //
  // getToken: a context JWT for the calling app, signed by the site with the
  // app's shared secret (qsh `context-qsh`, `sub` = the user, `context` =
  // what the page shows). The server signs it; the page only asks. Apps fetch
  // a fresh one before each call to their own server.
  host.defineModule('context', {
    getToken: promised(async function (callback) {
      const who = caller(callback);
      const response = await fetch('/dev/api/context-token', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        // The product matters: Jira and Confluence hold separate
        // installations of an app, with separate secrets.
        body: JSON.stringify({ addonKey: who.addonKey, moduleKey: who.moduleKey, product: view.site.product, context: contextOf(who) }),
      });
      if (!response.ok) {
        throw 'The site refused a context token (HTTP ' + response.status + '): ' + (await response.text());
      }
      return (await response.json()).token;
    }),
    getContext: promised(async function (callback) {
      return contextOf(caller(callback));
    }),
  });

  // --- AP.user -------------------------------------------------------------
  host.defineModule('user', {
    getCurrentUser: promised(async function (callback) {
      return { atlassianAccountId: view.user.loggedIn ? view.user.accountId : undefined };
    }),
    getLocale: promised(async function (callback) {
      return 'en-US';
    }),
    getTimeZone: promised(async function (callback) {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    }),
  });

  // --- AP.navigator and AP.jira --------------------------------------------
  const jiraContext = (view.context && view.context.jira) || {};

  // Answers first, then reloads: the iframe gets its reply before it goes away.
  function reloadSoon() {
    setTimeout(() => location.reload(), 0);
    return true;
  }

  host.defineModule('navigator', {
    getLocation: promised(async function (callback) {
      return {
        target: jiraContext.issue ? 'issue' : 'unknown',
        context: {
          issueKey: jiraContext.issue && jiraContext.issue.key,
          projectKey: jiraContext.project && jiraContext.project.key,
        },
        href: location.href,
      };
    }),
    reload: promised(async function (callback) {
      return reloadSoon();
    }),
  });

  host.defineModule('jira', {
    refreshIssuePage: promised(async function (callback) {
      return reloadSoon();
    }),
  });

  // --- AP.confluence -------------------------------------------------------
  //
  // Content properties of the page being viewed, read and written *as the
  // user through the app*, the same way as AP.request (session cookie plus
  // `X-Lodger-Dev-App`), against Confluence's REST API under `/wiki`.
  // getContentProperty(key) resolves with the property `{id, key, value,
  // version: {number}}`; setContentProperty({key, value, version}) sends
  // `version: {number}` (the next version, or 1 to create) and resolves with
  // the stored property. Any failure (404 absent, 409 stale version, 413 too
  // large) rejects with `{status, message, body}`, so an app can re-read and
  // retry on 409, as it must on Confluence.
  const confluenceContext = (view.context && view.context.confluence) || null;

  async function contentPropertyCall(callback, method, key, body) {
    if (!confluenceContext) {
      throw { status: 0, message: 'AP.confluence works only on a Confluence page', body: '' };
    }
    const url = apiBase + '/rest/api/content/' + encodeURIComponent(confluenceContext.content.id) +
      '/property/' + encodeURIComponent(String(key));
    const headers = { 'Accept': 'application/json', 'X-Lodger-Dev-App': caller(callback).addonKey || '' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed = null;
    try { parsed = JSON.parse(text); } catch (_) { parsed = null; }
    if (!response.ok) {
      throw { status: response.status, message: (parsed && parsed.message) || response.statusText, body: text };
    }
    return parsed;
  }

  // --- Macro parameters and the macro editor -------------------------------
  //
  // A dynamic content macro with an `editor` in its descriptor gets an "Edit"
  // button. Confluence opens the editor's URL (signed with a jwt, like any
  // module) in a dialog; inside it the app calls
  //   AP.confluence.getMacroData(cb)    -> the instance's parameters
  //   AP.confluence.saveMacro(params)   -> hands new parameters to Confluence
  //   AP.confluence.closeMacroEditor()  -> closes the dialog
  // Here the dialog is a native <dialog> holding an iframe the bundle
  // creates (so the editor has the whole bridge), and a save is stored at
  // once (`PUT /wiki/dev/api/macro-parameters`): the emulator has no page
  // editor, no draft, no Publish. Closing after a save reloads the page, so
  // the macro is framed again with its new parameters in its URL.
  let editor = null; // {module, dialog, saved: bool, parameters}

  const isEditor = (who) => editor && who.addonKey === editor.module.addonKey && who.moduleKey === editor.module.moduleKey + '-editor';

  async function devCall(method, path, body) {
    const response = await fetch(apiBase + path, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(body),
    });
    const parsed = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error((parsed && parsed.message) || ('HTTP ' + response.status));
    }
    return parsed;
  }

  function closeEditor() {
    if (!editor) return;
    const { dialog, saved } = editor;
    editor = null;
    if (dialog.open) dialog.close();
    dialog.remove();
    if (saved) location.reload();
  }

  async function openEditor(module) {
    if (editor) return;
    const instance = Object.assign({ addonKey: module.addonKey, moduleKey: module.moduleKey }, module.editor);
    let answer;
    try {
      answer = await devCall('POST', '/dev/api/macro-editor', instance);
    } catch (error) {
      createFlag({ type: 'error', title: 'The editor cannot open', body: error.message, close: 'auto' });
      return;
    }
    const dialog = document.createElement('dialog');
    dialog.className = 'macro-editor';
    dialog.setAttribute('aria-label', answer.title);
    const header = document.createElement('header');
    header.textContent = answer.title;
    const body = document.createElement('div');
    body.className = 'dialog-body';
    const actions = document.createElement('div');
    actions.className = 'dialog-actions';
    // Confluence's dialog has its own close control, beside the app's buttons.
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Close';
    cancel.addEventListener('click', closeEditor);
    actions.append(cancel);
    dialog.append(header, body, actions);
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); closeEditor(); });
    document.body.append(dialog);
    editor = { module: module, dialog: dialog, saved: false, parameters: answer.parameters || {}, body: answer.body || '', context: answer.context };
    dialog.showModal();
    const container = host.create({
      addon_key: module.addonKey,
      key: module.moduleKey + '-editor',
      url: answer.url,
      options: { width: answer.width, height: answer.height, autoresize: false, hostOrigin: location.origin },
    });
    body.append(container[0]);
  }

  // A macro with `parameters` and no `editor` gets Confluence's generated
  // form instead: one field per parameter (an `enum` a select, a `boolean`
  // a checkbox, the rest text), saved like the custom editor's save.
  function openForm(module) {
    if (editor) return;
    const dialog = document.createElement('dialog');
    dialog.className = 'macro-editor macro-form';
    dialog.setAttribute('aria-label', 'Edit ' + (module.title || module.moduleKey));
    const form = document.createElement('form');
    form.method = 'dialog';
    const header = document.createElement('header');
    header.textContent = 'Edit ' + (module.title || module.moduleKey);
    form.append(header);
    const current = module.parameters || {};
    for (const field of module.form) {
      const label = document.createElement('label');
      label.textContent = field.name + ' ';
      const value = field.identifier in current ? current[field.identifier] : (field.defaultValue == null ? '' : String(field.defaultValue));
      let input;
      if (field.type === 'enum') {
        input = document.createElement('select');
        for (const option of [''].concat(field.values || [])) {
          const element = document.createElement('option');
          element.value = element.textContent = String(option);
          input.append(element);
        }
        input.value = value;
      } else if (field.type === 'boolean') {
        input = document.createElement('input');
        input.type = 'checkbox';
        input.checked = value === 'true';
      } else {
        input = document.createElement('input');
        input.type = field.type === 'int' ? 'number' : 'text';
        input.value = value;
      }
      input.name = field.identifier;
      input.required = !!field.required && field.type !== 'boolean';
      label.append(input);
      form.append(label);
    }
    const actions = document.createElement('div');
    actions.className = 'dialog-actions';
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Save';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Close';
    cancel.addEventListener('click', closeEditor);
    actions.append(save, cancel);
    form.append(actions);
    dialog.append(form);
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); closeEditor(); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const parameters = {};
      for (const field of module.form) {
        const input = form.elements[field.identifier];
        const value = field.type === 'boolean' ? String(input.checked) : input.value;
        if (value !== '') parameters[field.identifier] = value;
      }
      const instance = Object.assign({ addonKey: module.addonKey, moduleKey: module.moduleKey }, module.editor);
      try {
        await devCall('PUT', '/dev/api/macro-parameters', Object.assign(instance, { parameters: parameters }));
        editor.saved = true;
        closeEditor();
      } catch (error) {
        createFlag({ type: 'error', title: 'The macro was not saved', body: error.message, close: 'auto' });
      }
    });
    document.body.append(dialog);
    editor = { module: module, dialog: dialog, saved: false, parameters: current };
    dialog.showModal();
  }

  for (const button of document.querySelectorAll('button.macro-edit')) {
    const module = (view.modules || []).find((m) => m.slot === button.dataset.slot);
    // Forge macros' config buttons are forge-host.js's.
    if (module && module.editor && !module.forge) button.addEventListener('click', () => (module.form ? openForm(module) : openEditor(module)));
  }

  host.defineModule('confluence', {
    // The parameters of the macro being edited (from the editor) or of the
    // calling macro itself.
    getMacroData: promised(async function (callback) {
      const who = caller(callback);
      if (isEditor(who)) return editor.parameters;
      const module = (view.modules || []).find((m) => m.addonKey === who.addonKey && m.moduleKey === who.moduleKey);
      return (module && module.parameters) || {};
    }),
    // The body of the macro being edited (from the editor) or of the calling
    // macro itself; '' for a macro without one.
    getMacroBody: promised(async function (callback) {
      const who = caller(callback);
      if (isEditor(who)) return editor.body || '';
      const module = (view.modules || []).find((m) => m.addonKey === who.addonKey && m.moduleKey === who.moduleKey);
      return (module && module.body) || '';
    }),
    saveMacro: promised(async function (parameters, body, callback) {
      const who = caller(callback);
      if (!isEditor(who)) {
        throw 'saveMacro works only from the macro editor';
      }
      const open = editor;
      const instance = Object.assign({ addonKey: open.module.addonKey, moduleKey: open.module.moduleKey }, open.module.editor);
      // Apps call saveMacro and closeMacroEditor back to back without
      // waiting (Confluence's are fire-and-forget): the close waits for this.
      open.saving = devCall('PUT', '/dev/api/macro-parameters', Object.assign(instance, { parameters: parameters || {} }))
        .then((stored) => {
          open.parameters = stored.parameters;
          open.saved = true;
          return true;
        });
      return open.saving;
    }),
    closeMacroEditor: promised(async function (callback) {
      // Answer the iframe first, then take it away once a save has landed.
      const pending = editor && editor.saving;
      setTimeout(() => {
        Promise.resolve(pending).catch((error) => {
          createFlag({ type: 'error', title: 'The macro was not saved', body: String(error && error.message || error), close: 'auto' });
        }).then(closeEditor);
      }, 0);
      return true;
    }),
    getContentProperty: promised(async function (key, callback) {
      return contentPropertyCall(callback, 'GET', key);
    }),
    setContentProperty: promised(async function (property, callback) {
      property = property || {};
      const version = typeof property.version === 'number' ? property.version : (property.version && property.version.number);
      return contentPropertyCall(callback, 'PUT', property.key, {
        key: property.key,
        value: property.value,
        version: { number: version || 1 },
      });
    }),
  });

  // --- Flags ---------------------------------------------------------------
  //
  // `AP.flag.create` is implemented by the bundle, which draws the flag with
  // AUI when the page has it. This page has no AUI, so it registers a flag
  // provider: `create` gets {id, title, body, type, actions, close, onClose}
  // and returns an object with `close()`. Flags with `close: 'auto'` go after
  // eight seconds, as AUI's do; the others stay until closed.
  const flagRegion = document.getElementById('flags') || document.body.appendChild(
    Object.assign(document.createElement('div'), { id: 'flags' }));

  function createFlag(options) {
    const flag = document.createElement('div');
    flag.className = 'flag flag-' + (options.type || 'info');
    flag.setAttribute('role', options.type === 'error' ? 'alert' : 'status');

    let closed = false;
    function close() {
      if (closed) return;
      closed = true;
      flag.remove();
      if (typeof options.onClose === 'function') options.onClose(options.id);
    }

    // textContent, never innerHTML: the title and body are the app's text,
    // and the bundle hands them over unescaped.
    const title = document.createElement('strong');
    title.textContent = options.title || '';
    const body = document.createElement('p');
    body.textContent = options.body || '';
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'flag-close';
    dismiss.setAttribute('aria-label', 'Close');
    dismiss.textContent = '\u00d7';
    dismiss.addEventListener('click', close);
    flag.append(dismiss, title, body);

    for (const action of options.actions || []) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'flag-action';
      button.textContent = action.actionText;
      button.addEventListener('click', () => action.executeAction());
      flag.append(button);
    }

    flagRegion.append(flag);
    if (options.close === 'auto') setTimeout(close, 8000);
    return { close: close };
  }

  // forge-host.js draws Forge's `showFlag` flags the same way.
  window.lodgerDevFlags = { create: createFlag };

  host.getFrameworkAdaptor().registerModule({
    getModuleRegistrationName: () => 'flag',
    isEnabled: () => true,
    getProvider: () => ({ create: createFlag }),
  });

  // --- The theme toggle ----------------------------------------------------
  //
  // theme.js already set the theme on <html>; this button flips it. The
  // bundle's observer sees the attributes change and tells every iframe that
  // called AP.theming.initializeTheming().
  const toggle = document.getElementById('theme-toggle');
  if (toggle && window.lodgerDevTheme) {
    const label = () => {
      const dark = window.lodgerDevTheme.get() === 'dark';
      toggle.textContent = dark ? 'Light theme' : 'Dark theme';
      toggle.setAttribute('aria-pressed', String(dark));
    };
    label();
    toggle.addEventListener('click', () => {
      window.lodgerDevTheme.set(window.lodgerDevTheme.get() === 'dark' ? 'light' : 'dark');
      label();
    });
  }

  // --- The user switcher ---------------------------------------------------
  //
  // Choosing a user submits the header's form (`/dev/login`), which sets the
  // session cookie and comes back to this page. Wired here rather than with
  // an inline `onchange`, which a Content-Security-Policy would block.
  for (const select of document.querySelectorAll('form.user select')) {
    if (!select.hasAttribute('onchange')) select.addEventListener('change', () => select.form.submit());
  }

  // --- The app iframes -----------------------------------------------------
  //
  // The server chose the modules, signed their URLs (`jwt`) and put an empty
  // slot for each on the page. `create` returns a jQuery element holding the
  // iframe; the bundle names the iframe through `window.name` and accepts
  // messages only from the origin of `url`.
  const slots = new Map();
  const slotKey = (addonKey, moduleKey) => addonKey + ' ' + moduleKey;

  // A short note in a slot, for when the app cannot be shown.
  function note(slot, text) {
    if (slot.querySelector('.slot-message')) return;
    const message = document.createElement('p');
    message.className = 'slot-message';
    message.setAttribute('role', 'alert');
    message.textContent = text;
    slot.prepend(message);
  }

  // The bridge is up when `all.js` in the iframe has said hello. Tests wait
  // for `[data-established="true"]` on the slot.
  host.onIframeEstablished((data) => {
    const slot = slots.get(slotKey(data.extension.addon_key, data.extension.key));
    if (!slot) return;
    slot.dataset.established = 'true';
    const message = slot.querySelector('.slot-message');
    if (message) message.remove();
  });

  // No hello within the bundle's timeout (12 s): usually the app's server is
  // down, or its page does not load `all.js` from `/atlassian-connect/all.js`.
  host.onIframeTimeout((data) => {
    const slot = slots.get(slotKey(data.extension.addon_key, data.extension.key));
    if (slot) note(slot, 'The app did not respond: is its server running, and does its page load all.js?');
  });

  // Creates a module's iframe in its slot.
  function frame(module, slot) {
    // The bundle checks the URL's `jwt` against this browser's clock and
    // shows nothing when it has expired (a product would register a content
    // resolver to fetch a fresh URL). Say so instead of leaving a blank slot.
    if (host.hasJwt(module.url) && host.isJwtExpired(module.url)) {
      note(slot, 'This app\'s signed URL has expired: reload the page.');
      return;
    }
    try {
      const container = host.create({
        addon_key: module.addonKey,
        key: module.moduleKey,
        url: module.url,
        options: Object.assign({}, module.options, { hostOrigin: location.origin }),
      });
      slot.append(container[0]);
    } catch (error) {
      console.error('[lodger dev host] could not create the iframe of ' + module.addonKey + '/' + module.moduleKey, error);
      note(slot, 'The dev host could not create this app\'s iframe: ' + error.message);
    }
  }

  // A module opened after its signed URL expired (it lives 3 minutes) asks
  // the site for a freshly signed one first (`/dev/issue-module`).
  async function frameFresh(module, slot) {
    const issue = view.context && view.context.jira && view.context.jira.issue;
    if (issue && host.hasJwt(module.url) && host.isJwtExpired(module.url)) {
      const query = new URLSearchParams({ issue: issue.key, app: module.addonKey, module: module.moduleKey });
      try {
        const response = await fetch('/dev/issue-module?' + query, { credentials: 'same-origin' });
        if (response.ok) module = Object.assign({}, module, { url: (await response.json()).url });
      } catch (error) {
        console.warn('[lodger dev host] no fresh URL for ' + module.addonKey + '/' + module.moduleKey, error);
      }
    }
    frame(module, slot);
  }

  // The issue view's events for a module already framed (issue-view.js
  // dispatches `lodger-dev:opened` when a glance opens again, and
  // `lodger-dev:quick-add` when a content panel's button is clicked):
  // Atlassian's "Issue Glance" (`ISSUE_GLANCE_OPENED`) and "Issue Content"
  // (`ISSUE_QUICK_ADD_CLICKED`).
  const issueEvents = { 'lodger-dev:opened': 'ISSUE_GLANCE_OPENED', 'lodger-dev:quick-add': 'ISSUE_QUICK_ADD_CLICKED' };

  for (const module of view.modules || []) {
    // Forge modules are framed by forge-host.js, without connect-js.
    if (module.forge) continue;
    const slot = document.getElementById(module.slot);
    if (!slot) {
      console.warn('[lodger dev host] no slot #' + module.slot + ' for ' + module.addonKey + '/' + module.moduleKey);
      continue;
    }
    slots.set(slotKey(module.addonKey, module.moduleKey), slot);
    slot.dataset.established = 'false';
    for (const [domEvent, name] of Object.entries(issueEvents)) {
      slot.addEventListener(domEvent, () => {
        if (slot.dataset.established === 'true') host.broadcastEvent(name, { addon_key: module.addonKey, key: module.moduleKey }, {});
      });
    }
    // A glance, an issue context or content not yet added is framed when
    // the page opens it (issue-view.js).
    if (slot.dataset.deferred === 'true') {
      slot.addEventListener('lodger-dev:open', () => frameFresh(module, slot), { once: true });
    } else {
      frame(module, slot);
    }
  }
})();
