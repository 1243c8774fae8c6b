// What every lodger page shares: the bridge to the host (`AP`), the app
// key, calls to the host as the user, and calls to the lodger server.
//
// Load after connect.js. Exposes `window.lodger`:
//
//   lodger.ready            a promise of AP, with theming started
//   lodger.appKey           this page's app key (rendered into the page)
//   lodger.param(name)      a parameter of the iframe URL
//   lodger.confluence       true in Confluence (context path `/wiki`)
//   lodger.host(options)    AP.request, answering {status, json}; rejects with HostError
//   lodger.api(method, path, body)   the lodger server, authenticated; rejects with ApiError
//   lodger.displayName(accountId)    a person's name from the host, cached
//
// Nothing here stores anything: the host holds the data (docs/data.md).
(function () {
  'use strict';

  const params = new URLSearchParams(location.search);
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

  // Starts following the host's light or dark theme: the bridge copies the
  // host's `data-color-mode` onto this page's <html>; lodger.css does the rest.
  const ready = window.lodgerConnect.then(function (AP) {
    if (AP.theming && typeof AP.theming.initializeTheming === 'function') {
      AP.theming.initializeTheming();
    }
    return AP;
  });

  // AP.request resolves with {body, xhr} (body is a string) and rejects
  // with {err, xhr}. This turns both into one shape.
  async function host(options) {
    const AP = await ready;
    try {
      const response = await AP.request(options);
      const text = response.body;
      return { status: response.xhr ? response.xhr.status : 200, json: text ? JSON.parse(text) : null };
    } catch (failure) {
      const status = (failure && failure.xhr && failure.xhr.status) || 0;
      throw new HostError(status, hostMessage(status, failure && failure.xhr));
    }
  }

  function hostMessage(status, xhr) {
    let detail = '';
    try {
      const body = JSON.parse(xhr.responseText);
      detail = (body.errorMessages && body.errorMessages[0]) || body.message || '';
    } catch (_) { /* not JSON: no detail */ }
    if (status === 0) return 'The site did not answer. Check your connection and retry.';
    return 'The site answered HTTP ' + status + (detail ? ': ' + detail : '.');
  }

  // The sealed installation credential, read once per page from the app
  // property the server wrote at install. It is safe to hold: only the
  // server's master key opens it.
  let credential = null;
  async function installationCredential() {
    if (!credential) {
      credential = host({
        url: '/rest/atlassian-connect/1/addons/' + encodeURIComponent(lodgerAppKey()) +
          '/properties/lodger-installation',
      }).then((response) => response.json.value.credential, (error) => {
        credential = null;
        if (error.status === 404) {
          throw new HostError(404, 'lodger is not fully installed on this site: its installation property is missing. Ask an admin to reinstall it.');
        }
        throw error;
      });
    }
    return credential;
  }

  // A fresh context token: they live a few minutes, so one per call.
  async function contextToken() {
    const AP = await ready;
    return new Promise((resolve) => AP.context.getToken(resolve));
  }

  // Calls the lodger server (same origin as the page) with the context
  // token and the relayed credential. Answers the parsed JSON body.
  async function api(method, path, body) {
    const [token, sealed] = await Promise.all([contextToken(), installationCredential()]);
    const headers = { 'Authorization': 'JWT ' + token, 'X-Lodger-Installation': sealed };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, 'The lodger server did not answer. Retry in a moment.');
    }
    const json = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, (json && json.error) || 'The lodger server answered HTTP ' + response.status + '.');
    }
    return json;
  }

  // Display names by account id, from the host: Jira's `GET /rest/api/3/user`
  // or Confluence's `GET /rest/api/user` (a Confluence page's context path,
  // the `cp` parameter, is `/wiki`). Stored checklists keep account ids
  // only: names change, and are personal data.
  const confluence = (params.get('cp') || '').endsWith('/wiki');
  const userPath = confluence ? '/rest/api/user?accountId=' : '/rest/api/3/user?accountId=';
  const names = new Map();
  function displayName(accountId) {
    if (!names.has(accountId)) {
      names.set(accountId, host({ url: userPath + encodeURIComponent(accountId) })
        .then((response) => response.json.displayName || 'Someone', () => 'Someone'));
    }
    return names.get(accountId);
  }

  function lodgerAppKey() {
    return meta ? meta.content : '';
  }

  window.lodger = {
    ready,
    appKey: lodgerAppKey(),
    param: (name) => params.get(name),
    confluence,
    host,
    api,
    displayName,
    HostError,
    ApiError,
  };
})();
