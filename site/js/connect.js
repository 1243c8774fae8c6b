// Loads the Connect JS bridge (`all.js`, which defines `AP`) from where the
// host serves it, and exposes `window.lodgerConnect`, a promise that
// resolves once `AP` exists.
//
// Atlassian's cloud sites serve it from their CDN. A host on another origin
// (the dev world's emulated Jira) serves its own at
// `<host>/atlassian-connect/all.js`; the host's origin is the iframe URL's
// `xdm_e` parameter. `xdm_e` is only a hint from the URL, so the page's
// Content-Security-Policy decides what may load: the CDN, and the extra
// hosts the operator configured (`--extra-host`), nothing else.
(function () {
  'use strict';
  const CDN = 'https://connect-cdn.atl-paas.net/all.js';
  const host = new URLSearchParams(location.search).get('xdm_e') || '';
  const atlassianCloud = /^https:\/\/[a-z0-9-]+\.(atlassian\.net|jira\.com|jira-dev\.com)$/i;
  const src = !host || atlassianCloud.test(host) ? CDN : host.replace(/\/+$/, '') + '/atlassian-connect/all.js';

  window.lodgerConnect = new Promise(function (resolve, reject) {
    const script = document.createElement('script');
    script.src = src;
    script.onload = function () { resolve(window.AP); };
    script.onerror = function () { reject(new Error('Could not load the Connect bridge from ' + src + '.')); };
    document.head.appendChild(script);
  });
})();
