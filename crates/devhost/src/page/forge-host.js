// The host half of Forge's Custom UI bridge, on an emulated Jira or Confluence page.
//
// A Forge app's page runs in an iframe on the app's resource origin
// (`http://<app-uuid>.localhost:<port>`, crates/devhost/src/forge/resources.rs)
// with the real `@forge/bridge` bundled in. Every bridge call becomes
// `globalThis.__bridge.callBridge(name, payload)`, which the injected frame
// half (forge-frame.js) posts here as {lodgerForge: 1, id, name, payload};
// this file answers {lodgerForge: 1, reply: id, ok, value | error}. Names
// and shapes follow `@forge/bridge` 7.2.0 (`out/fetch/fetch.js`,
// `out/invoke-endpoint/invoke-endpoint.js`, `out/events/events.js`,
// `out/flag/flag.js`, `out/view/*.js`, `out/types.d.ts`):
//
//   getContext                 -> the module's FullContext (theme added here)
//   fetchProduct {product, restPath, fetchRequestInit{method, body, headers[[n,v]]}}
//                              -> {body, headers, status, statusText, isAttachment: false}
//   invoke {path, method, headers, body, invokeType: 'ui-remote-fetch'}
//                              -> {success: true, payload: {body, status, headers}} | {success: false, error}
//   emit / emitPublic {event, payload}; on / onPublic {event} (callback kept in the frame)
//   showFlag {id, title, description, type, isAutoDismiss} -> id;  closeFlag {id}
//   enableTheming              -> {colorMode}, then theme changes are pushed
//   submit {config}            -> true from a macro's config resource (stored; see
//                                 crates/devhost/src/confluence/forge_macro_config.rs), else false
//   close [payload]            -> true from a Modal (which closes and calls its opener's
//                                 onClose with payload) or a macro's config dialog, else false
//   openModal {resource, size, context, closeOnEscape, closeOnOverlayClick, title}
//                              -> true; the resource (this one when null) opens in a dialog
//                                 whose getContext() has `extension.modal` = context
//                                 (Atlassian: "Custom UI bridge: Modal"); false while one is open
//   navigate {url, type} | {target: 'issue', issueKey, type}
//                              -> true; the page goes there (`same-tab`) or a tab opens (`new-tab`)
//   reload                     -> true; the page reloads (Atlassian: "Custom UI bridge: router")
//
// A Forge `macro` whose manifest names a `config` resource gets an "Edit"
// button on the page; it opens that resource in a dialog, as Confluence
// opens a macro's config. After a submit, closing the dialog reloads the
// page, so the macro's `getContext()` answers the new `extension.config`.
//
// Anything else is refused with a message naming the call. Messages are
// accepted only from a frame this page created, from that frame's origin.
// Loaded after host.js; needs no connect-js.
(function () {
  'use strict';

  const view = JSON.parse(document.getElementById('lodger-dev-view').textContent);
  const modules = (view.modules || []).filter((m) => m.forge);
  if (modules.length === 0) return;

  // The frames this page created: contentWindow -> {module, frame, slot}.
  const frames = new Map();
  // Event subscriptions: {window, subscription, event, public, appId}.
  let subscriptions = [];
  const themed = new Set();
  // The open Modal's entry (one at a time), or null.
  let openModalEntry = null;
  const flags = new Map();

  const colorMode = () => document.documentElement.getAttribute('data-color-mode') === 'dark' ? 'dark' : 'light';

  // The site's root on this page's origin (so the session cookie goes along):
  // Jira's REST at `/rest/...`, Confluence's at `/wiki/rest/...`.
  const siteRoot = location.origin + new URL(view.site.baseUrl, location.href).pathname
    .replace(/\/+$/, '').replace(/\/wiki$/, '');

  function post(target, origin, message) {
    message.lodgerForge = 1;
    target.postMessage(message, origin);
  }

  async function fetchProduct(entry, payload) {
    const product = payload && payload.product;
    if (product !== 'jira' && product !== 'confluence') {
      throw new Error('fetchProduct: product ' + JSON.stringify(product) + ' is not jira or confluence on this emulated site');
    }
    const restPath = String(payload.restPath || '');
    if (!restPath.startsWith('/')) throw new Error('fetchProduct: restPath must start with /');
    // requestConfluence's paths carry Confluence's context path themselves
    // (`/wiki/rest/api/...`, `/wiki/api/v2/...`: Forge's "requestConfluence"
    // examples); requestJira's start at `/rest/`. Only the product's REST
    // API: a path that leaves it (`/../dev/login`) would otherwise reach the
    // site's pages with the user's session.
    const url = new URL(siteRoot + restPath);
    const allowed = product === 'confluence' ? ['/wiki/rest/', '/wiki/api/'] : ['/rest/'];
    const root = new URL(siteRoot).pathname.replace(/\/$/, '');
    if (url.origin !== location.origin || !allowed.some((prefix) => url.pathname.startsWith(root + prefix))) {
      throw new Error('fetchProduct: ' + restPath + ' is not a path of the ' + product + ' REST API');
    }
    const init = payload.fetchRequestInit || {};
    const headers = new Headers(init.headers || []);
    // Which app's frame asked: the site applies the user's permissions and
    // that Forge app's manifest scopes (platform/auth.rs).
    headers.set('X-Lodger-Dev-App', entry.module.appId);
    const response = await fetch(url.href, {
      method: init.method || 'GET',
      // Followed, as a browser's XHR follows Jira's `303 See Other` to an
      // asynchronous task (the bulk property write): the page gets the task.
      redirect: 'follow',
      // Never from the browser's cache: a stale read of a versioned
      // content property would make every update a 409.
      cache: 'no-store',
      headers: headers,
      body: init.body == null ? undefined : init.body,
      credentials: 'same-origin',
    });
    const out = {};
    response.headers.forEach((value, name) => { out[name] = value; });
    return { body: await response.text(), headers: out, status: response.status, statusText: response.statusText, isAttachment: false };
  }

  async function invoke(entry, payload) {
    if (!payload || payload.invokeType !== 'ui-remote-fetch') {
      throw new Error('invoke: only invokeRemote (resolver.endpoint to a remote) is emulated; Forge functions do not run on the lodger dev host');
    }
    const response = await fetch('/dev/forge/invoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({
        appId: entry.module.appId,
        moduleKey: entry.module.moduleKey,
        extension: entry.module.context.extension,
        method: payload.method || 'POST',
        path: payload.path || '',
        body: payload.body === undefined ? null : payload.body,
      }),
    });
    return response.json();
  }

  function deliver(entry, name, payload) {
    const isPublic = name === 'emitPublic';
    const event = payload && payload.event;
    for (const s of subscriptions) {
      if (s.event !== event || s.public !== isPublic) continue;
      if (!isPublic && s.appId !== entry.module.appId) continue;
      const target = frames.get(s.window);
      if (target) post(s.window, target.module.origin, { subscription: s.subscription, payload: payload.payload });
    }
    return null;
  }

  function showFlag(entry, payload) {
    const id = entry.module.appId + ' ' + payload.id;
    const create = window.lodgerDevFlags && window.lodgerDevFlags.create;
    if (!create) throw new Error('showFlag: the page cannot draw flags (host.js did not load)');
    const type = ['info', 'success', 'warning', 'error'].includes(payload.type) ? payload.type : 'info';
    const flag = create({
      id: id,
      title: payload.title || '',
      body: payload.description || '',
      type: type,
      close: payload.isAutoDismiss ? 'auto' : 'manual',
      actions: [],
      onClose: () => flags.delete(id),
    });
    flags.set(id, flag);
    return payload.id;
  }

  const handlers = {
    getContext: (entry) => Object.assign({}, entry.module.context, { theme: { colorMode: colorMode() } }),
    fetchProduct: fetchProduct,
    invoke: invoke,
    emit: (entry, payload) => deliver(entry, 'emit', payload),
    emitPublic: (entry, payload) => deliver(entry, 'emitPublic', payload),
    on: (entry, payload, message, source) => {
      subscriptions.push({ window: source, subscription: message.id, event: payload.event, public: false, appId: entry.module.appId });
      return null;
    },
    onPublic: (entry, payload, message, source) => {
      subscriptions.push({ window: source, subscription: message.id, event: payload.event, public: true, appId: entry.module.appId });
      return null;
    },
    showFlag: showFlag,
    closeFlag: (entry, payload) => {
      const flag = flags.get(entry.module.appId + ' ' + payload.id);
      if (flag) flag.close();
      return null;
    },
    enableTheming: (entry, payload, message, source) => {
      themed.add(source);
      return { colorMode: colorMode() };
    },
    // `view.submit` resolves when the host answers anything but false;
    // `false` makes the bridge throw "this resource's view is not submittable".
    submit: async (entry, payload) => {
      if (!entry.dialog) return false;
      const response = await fetch(siteRoot + '/wiki/dev/api/forge-macro-config', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({
          appId: entry.module.appId,
          moduleKey: entry.module.moduleKey,
          contentId: entry.module.editor.contentId,
          payload: payload === undefined ? null : payload,
        }),
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) throw new Error((answer && answer.message) || ('HTTP ' + response.status));
      entry.saved = true;
      return true;
    },
    close: (entry, payload) => {
      if (entry.modal) {
        // Answer the frame first, then take the modal away.
        setTimeout(() => closeModal(entry, payload), 0);
        return true;
      }
      if (!entry.dialog) return false;
      // Answer the frame first, then take the dialog away.
      setTimeout(() => closeConfig(entry), 0);
      return true;
    },
    openModal: openModal,
    navigate: (entry, payload) => {
      const to = payload && typeof payload.url === 'string' ? payload.url
        : payload && payload.target === 'issue' && payload.issueKey ? '/browse/' + encodeURIComponent(payload.issueKey)
          : null;
      if (to === null) {
        throw new Error('navigate: target ' + JSON.stringify(payload && payload.target) + ' is not emulated; the lodger dev host navigates to URLs and to issues');
      }
      const url = new URL(to, location.href);
      // Never a javascript: or data: URL on the site's own page.
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('navigate: only http and https URLs');
      // Nor the emulator's own pages (`/dev/login` switches the person).
      if (url.origin === location.origin && /^(\/wiki)?\/dev(\/|$)/.test(url.pathname)) {
        throw new Error('navigate: ' + url.pathname + ' is the lodger dev host\'s, not a product page');
      }
      if (payload.type === 'new-tab') window.open(url.href, '_blank', 'noopener');
      else setTimeout(() => location.assign(url.href), 0);
      return true;
    },
    reload: () => {
      setTimeout(() => location.reload(), 0);
      return true;
    },
  };

  // Forge's modal sizes (Atlassian: "Custom UI bridge: Modal"): width,
  // height and minimum height.
  const MODAL_SIZES = {
    small: ['400px', '20vh', '320px'],
    medium: ['600px', '40vh', '520px'],
    large: ['800px', '70vh', '720px'],
    xlarge: ['968px', '90vh', ''],
    max: ['100%', '100%', ''],
    // @forge/bridge 7.2.0 also takes these; their boxes are the emulator's.
    fullscreen: ['100vw', '100vh', ''],
    resizable: ['600px', '40vh', '520px'],
  };

  // A dialog on the page with a title and a body for a frame: a macro's
  // config and a Modal are drawn in one.
  function dialogFor(title, className) {
    const dialog = document.createElement('dialog');
    dialog.className = className;
    dialog.setAttribute('aria-label', title);
    const header = document.createElement('header');
    header.textContent = title;
    header.hidden = !title;
    const body = document.createElement('div');
    body.className = 'dialog-body';
    dialog.append(header, body);
    document.body.append(dialog);
    return { dialog: dialog, body: body };
  }

  // `new Modal({...}).open()` from `source`, a frame of `entry`: the
  // resource in a dialog, with the opener's context plus `extension.modal`.
  // One modal at a time (unverified whether Forge stacks them).
  function openModal(entry, payload, message, source) {
    if (openModalEntry) return false;
    const options = payload || {};
    const key = options.resource || entry.module.resource;
    const url = Object.prototype.hasOwnProperty.call(entry.module.resources || {}, key) ? entry.module.resources[key] : null;
    if (!url) throw new Error('openModal: ' + JSON.stringify(key) + ' is not a resource of this app');
    // The bridge sends '' without a title: the dialog then has no header.
    const parts = dialogFor(options.title || '', 'forge-modal');
    const size = typeof options.size === 'object' && options.size ? [options.size.width, options.size.height || '', '']
      : MODAL_SIZES[options.size] || MODAL_SIZES.medium;
    parts.dialog.style.width = size[0];
    parts.dialog.style.height = size[1];
    parts.dialog.style.minHeight = size[2];
    parts.dialog.dataset.size = typeof options.size === 'string' && MODAL_SIZES[options.size] ? options.size : 'custom';
    const context = JSON.parse(JSON.stringify(entry.module.context));
    context.extension.modal = options.context === undefined ? {} : options.context;
    const modal = frame(Object.assign({}, entry.module, { url: url, resource: key, context: context }), parts.body);
    modal.frame.style.height = '100%';
    modal.modal = {
      dialog: parts.dialog,
      opener: source,
      openerOrigin: entry.module.origin,
      subscription: message.id,
      closeOnEscape: options.closeOnEscape !== false,
    };
    // Escape on the page; inside the frame, forge-frame.js reports it.
    parts.dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      if (modal.modal.closeOnEscape) closeModal(modal);
    });
    // A click outside the dialog's box is a click on its overlay.
    parts.dialog.addEventListener('click', (event) => {
      const box = parts.dialog.getBoundingClientRect();
      const outside = event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
      if (outside && options.closeOnOverlayClick !== false) closeModal(modal);
    });
    // The browser closes a dialog itself on a second Escape, whatever the
    // page says: then the Modal is closed, and its opener told.
    parts.dialog.addEventListener('close', () => closeModal(modal));
    openModalEntry = modal;
    parts.dialog.showModal();
    return true;
  }

  // Forgets what a frame's document registered: its event subscriptions,
  // its theming, and the onClose of a Modal it opened (the ids restart with
  // a new document, so they must not reach it).
  function forgetDocument(inside) {
    themed.delete(inside);
    subscriptions = subscriptions.filter((s) => s.window !== inside);
    if (openModalEntry && openModalEntry.modal.opener === inside) openModalEntry.modal.opener = null;
  }

  // Takes a frame off the page's books before its dialog goes.
  function forget(entry) {
    const inside = entry.frame.contentWindow;
    forgetDocument(inside);
    frames.delete(inside);
  }

  // Takes a modal away and calls its opener's `onClose` with `payload`.
  function closeModal(entry, payload) {
    if (entry.closed) return;
    entry.closed = true;
    forget(entry);
    if (openModalEntry === entry) openModalEntry = null;
    const modal = entry.modal;
    if (modal.dialog.open) modal.dialog.close();
    modal.dialog.remove();
    if (modal.opener && frames.has(modal.opener)) {
      post(modal.opener, modal.openerOrigin, { subscription: modal.subscription, payload: payload });
    }
  }

  function closeConfig(entry) {
    if (entry.closed) return;
    entry.closed = true;
    forget(entry);
    if (entry.dialog.open) entry.dialog.close();
    entry.dialog.remove();
    if (entry.saved) location.reload();
  }

  // A macro's config resource in a dialog, as Confluence opens it.
  function openConfig(module) {
    if (document.querySelector('dialog.forge-config')) return;
    const { dialog, body } = dialogFor(module.config.title, 'macro-editor forge-config');
    const actions = document.createElement('div');
    actions.className = 'dialog-actions';
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = 'Close';
    actions.append(close);
    dialog.append(actions);
    const configModule = Object.assign({}, module, { url: module.config.url, resource: module.config.resource });
    const entry = frame(configModule, body);
    entry.dialog = dialog;
    close.addEventListener('click', () => closeConfig(entry));
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); closeConfig(entry); });
    // Also when the browser closes the dialog itself (a second Escape).
    dialog.addEventListener('close', () => closeConfig(entry));
    entry.frame.style.height = '300px';
    dialog.showModal();
  }

  window.addEventListener('message', async (event) => {
    const entry = frames.get(event.source);
    if (!entry || event.origin !== entry.module.origin) return;
    const message = event.data;
    if (!message || message.lodgerForge !== 1 || typeof message.name !== 'string') return;
    const source = event.source;
    switch (message.name) {
      case 'document':
        // A new document in this frame (a first load or a reload), before
        // any of its scripts called the bridge.
        forgetDocument(source);
        return;
      case 'ready':
        entry.slot.dataset.established = 'true';
        return;
      case 'resize': {
        // A Modal's frame fills its dialog, whatever its content.
        if (entry.modal) return;
        const height = Number(message.payload && message.payload.height);
        if (height > 0) entry.frame.style.height = height + 'px';
        entry.slot.dataset.height = String(height);
        return;
      }
      case 'escape': {
        // From the Modal's frame or its opener's, whichever has the focus
        // (the one behind may keep it); never another frame's.
        const open = openModalEntry;
        if (open && open.modal.closeOnEscape && (source === open.frame.contentWindow || source === open.modal.opener)) {
          closeModal(open);
        }
        return;
      }
      case 'unsubscribe': {
        const id = message.payload && message.payload.subscription;
        subscriptions = subscriptions.filter((s) => !(s.window === source && s.subscription === id));
        return;
      }
    }
    const handler = Object.prototype.hasOwnProperty.call(handlers, message.name) ? handlers[message.name] : null;
    try {
      if (!handler) throw new Error('"' + message.name + '" is not implemented by the lodger dev host\'s Custom UI bridge');
      const value = await handler(entry, message.payload, message, source);
      post(source, entry.module.origin, { reply: message.id, ok: true, value: value });
    } catch (error) {
      post(source, entry.module.origin, { reply: message.id, ok: false, error: String(error && error.message || error) });
    }
  });

  // The page's theme toggle changes <html data-color-mode>: tell the frames
  // that enabled theming.
  new MutationObserver(() => {
    for (const source of themed) {
      const entry = frames.get(source);
      if (entry) post(source, entry.module.origin, { theme: { colorMode: colorMode() } });
    }
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['data-color-mode'] });

  // Creates a module's frame in its slot; answers the entry its bridge
  // calls are answered for.
  function frame(module, slot) {
    const frame = document.createElement('iframe');
    frame.src = module.url;
    frame.title = module.title;
    frame.className = 'forge-frame';
    frame.dataset.moduleKey = module.moduleKey;
    // Forge sandboxes Custom UI frames; its exact token list is unverified.
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-downloads allow-modals');
    frame.style.width = '100%';
    frame.style.border = '0';
    frame.style.height = module.compact ? '40px' : '80px';
    slot.append(frame);
    const entry = { module: module, frame: frame, slot: slot };
    frames.set(frame.contentWindow, entry);
    return entry;
  }

  for (const module of modules) {
    const slot = document.getElementById(module.slot);
    if (!slot) {
      console.warn('[lodger dev host] no slot #' + module.slot + ' for Forge module ' + module.moduleKey);
      continue;
    }
    slot.dataset.established = 'false';
    // An issue context, or an issue panel not yet added, is framed when the
    // page opens it (issue-view.js).
    if (slot.dataset.deferred === 'true') {
      slot.addEventListener('lodger-dev:open', () => frame(module, slot), { once: true });
    } else {
      frame(module, slot);
    }
    if (module.config) {
      const button = document.querySelector('button.macro-edit[data-slot="' + module.slot + '"]');
      if (button) button.addEventListener('click', () => openConfig(module));
    }
  }
})();
