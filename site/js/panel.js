// The Jira issue panel: shows the issue and who is signed in, as verified by
// the lodger server. It is the whole Connect round trip in four steps:
//
//   1. read the sealed installation credential from the app property
//      `lodger-installation`, through the host (AP.request runs as the user);
//   2. ask the host for a fresh context token (AP.context.getToken);
//   3. send both to the server: the token says who and where, signed by the
//      site; the credential lets the server check that signature with no
//      database (it opens the credential to get the site's shared secret);
//   4. show what the server verified.
//
// This file is served as written: the server renders nothing per request.
(function () {
  'use strict';

  // The app key whose property holds the credential. The page is static, so
  // the descriptor puts the key in the panel URL (`?appKey=`).
  const appKey = new URLSearchParams(location.search).get('appKey') || 'lodger';

  const byId = (id) => document.getElementById(id);

  // Shows exactly one of the three states, then lets the host fit the iframe.
  function show(state) {
    for (const id of ['loading', 'failure', 'success']) {
      byId(id).hidden = id !== state;
    }
    document.querySelector('main').setAttribute('aria-busy', String(state === 'loading'));
    AP.resize();
  }

  // Step 1. AP.request resolves to {body, xhr}, and body is a string: the
  // JSON of {key, value}, where value is {"credential": "v1...."}.
  async function readCredential() {
    const response = await AP.request({
      url: '/rest/atlassian-connect/1/addons/' + encodeURIComponent(appKey) +
        '/properties/lodger-installation',
    });
    return JSON.parse(response.body).value.credential;
  }

  // Step 2. Tokens live a few minutes: fetch a fresh one for every call. The
  // callback form works with every version of all.js.
  function contextToken() {
    return new Promise((resolve) => AP.context.getToken(resolve));
  }

  // Step 3. The page and the server share an origin, so no CORS is involved.
  async function whoami(token, credential) {
    const response = await fetch('/api/whoami', {
      headers: { 'Authorization': 'JWT ' + token, 'X-Lodger-Installation': credential },
    });
    if (!response.ok) {
      throw new Error('The lodger server refused the request (HTTP ' + response.status + ').');
    }
    return response.json();
  }

  // A sentence for the error state. AP.request rejects with {err, xhr}.
  function describe(error) {
    const status = error && error.xhr && error.xhr.status;
    if (status === 404) {
      return 'lodger is not fully installed on this site: its installation property is missing.';
    }
    if (status) {
      return 'Jira refused to read the installation property (HTTP ' + status + ').';
    }
    return (error && error.message) || 'Something went wrong.';
  }

  async function load() {
    show('loading');
    try {
      const [credential, token] = await Promise.all([readCredential(), contextToken()]);
      const who = await whoami(token, credential);
      // Step 4. textContent, never innerHTML: these values are data, not markup.
      // The issue key comes from the verified token's context when it has one,
      // else from the panel URL (`?issueKey=` in the descriptor).
      const issue = who.context && who.context.jira && who.context.jira.issue;
      byId('issue-key').textContent =
        (issue && issue.key) || new URLSearchParams(location.search).get('issueKey') || 'unknown';
      byId('account-id').textContent = who.accountId;
      byId('client-key').textContent = who.clientKey;
      show('success');
    } catch (error) {
      byId('failure-message').textContent = describe(error);
      show('failure');
    }
  }

  byId('retry').addEventListener('click', load);
  // connect.js loads the bridge; start once `AP` exists.
  window.lodgerConnect.then(load, function (error) {
    byId('failure-message').textContent = error.message;
    for (const id of ['loading', 'success']) byId(id).hidden = true;
    byId('failure').hidden = false;
  });
})();
