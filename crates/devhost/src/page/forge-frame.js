// The frame half of the Custom UI bridge, injected by the lodger dev host at
// the top of every Forge resource's index.html (crates/devhost/src/forge/resources.rs).
// @forge/bridge calls `globalThis.__bridge.callBridge(name, payload)`; this
// posts {lodgerForge, id, name, payload} to the product page (the host half,
// page/forge-host.js) and resolves with its reply. Functions cannot cross
// postMessage: `on`/`onPublic` keep their callback here and the host posts
// the events back; `openModal` keeps its `onClose`, which the host calls
// once, when the modal closes. The frame also reports its height, since
// Forge frames size themselves to their content, its theme when theming is
// enabled, and Escape pressed inside it.
(function () {
  'use strict';
  if (globalThis.__bridge) return;
  var parentWindow = window.parent;
  var hostOrigin = (location.ancestorOrigins && location.ancestorOrigins[0]) ||
    (document.referrer ? new URL(document.referrer).origin : '*');
  var nextId = 1;
  var pending = new Map();
  var callbacks = new Map();
  function post(message) {
    message.lodgerForge = 1;
    parentWindow.postMessage(message, hostOrigin);
  }
  // Drops what cannot be cloned (functions): the payload as JSON would carry it.
  function plain(payload) {
    return payload === undefined ? undefined : JSON.parse(JSON.stringify(payload));
  }
  function applyTheme(theme) {
    if (!theme || !theme.colorMode) return;
    var root = document.documentElement;
    root.setAttribute('data-color-mode', theme.colorMode);
    root.setAttribute('data-theme', 'dark:dark light:light');
  }
  function callBridge(name, payload) {
    var id = nextId++;
    var subscribes = name === 'on' || name === 'onPublic';
    var kept = subscribes ? payload.callback : name === 'openModal' && payload ? payload.onClose : null;
    if (typeof kept === 'function') callbacks.set(id, { callback: kept, once: !subscribes });
    // Functions are left out: they cannot cross postMessage.
    var message = { id: id, name: name, payload: plain(payload) };
    return new Promise(function (resolve, reject) {
      pending.set(id, { resolve: resolve, reject: reject });
      post(message);
    }).then(function (value) {
      if (name === 'on' || name === 'onPublic') {
        return { unsubscribe: function () { callbacks.delete(id); post({ name: 'unsubscribe', payload: { subscription: id } }); } };
      }
      if (name === 'enableTheming') applyTheme(value);
      if (name === 'openModal' && value === false) callbacks.delete(id);
      return value;
    }, function (error) {
      callbacks.delete(id);
      throw error;
    });
  }
  window.addEventListener('message', function (event) {
    if (event.source !== parentWindow || (hostOrigin !== '*' && event.origin !== hostOrigin)) return;
    var data = event.data;
    if (!data || data.lodgerForge !== 1) return;
    if (data.reply) {
      var call = pending.get(data.reply);
      if (!call) return;
      pending.delete(data.reply);
      if (data.ok) call.resolve(data.value);
      else call.reject(new Error(data.error));
    } else if (data.subscription) {
      var kept = callbacks.get(data.subscription);
      if (!kept) return;
      if (kept.once) callbacks.delete(data.subscription);
      kept.callback(data.payload);
    } else if (data.theme) {
      applyTheme(data.theme);
    }
  });
  globalThis.__bridge = { callBridge: callBridge };
  // This script runs first in the document: a new document starts here,
  // and the host forgets what an earlier one in this frame registered.
  post({ name: 'document' });

  // The height of the content (the root's box, margins of <body> included),
  // so that the frame can shrink as well as grow.
  var reported = -1;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== reported) {
      reported = height;
      post({ name: 'resize', payload: { height: height } });
    }
  }
  var observer = new ResizeObserver(report);
  observer.observe(document.documentElement);
  // Escape inside the frame never reaches the page's dialog: say so, so
  // that a Modal can close on it.
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') post({ name: 'escape' });
  });
  document.addEventListener('DOMContentLoaded', function () {
    observer.observe(document.body);
    post({ name: 'ready' });
    report();
  });
})();
