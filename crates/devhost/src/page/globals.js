// What the connect-js host bundle expects to find on the page before it loads
// (served at /dev/static/globals.js, between jquery.js and connect-host.js).
//
// A real Atlassian product page has these from its own frameworks; the dev
// host provides the smallest stand-ins that keep the bundle happy.
(function () {
  'use strict';

  // The bundle captures `AJS.$` once, when it loads, and uses it to build the
  // iframe containers. Atlassian's pages get it from AUI; jQuery alone is enough.
  window.AJS = window.AJS || {};
  window.AJS.$ = window.AJS.$ || window.jQuery;

  // The bundle asks a feature-gate client (Statsig) about rollouts and would
  // otherwise try to initialise one against Atlassian's servers. Every gate is
  // off: the dev host runs the bundle's default behaviour. The version is the
  // client the bundle itself ships, so it logs no "multiple versions" warning.
  if (window.__FEATUREGATES_JS__ === undefined) {
    window.__FEATUREGATES_JS__ = {
      initializeCompleted: function () { return true; },
      checkGate: function () { return false; },
      getPackageVersion: function () { return '4.23.4'; },
    };
  }

  // The bundle hands its analytics events to the product's AMD module
  // `ac/analytics` (`window.require('ac/analytics').emitGasV3(...)`) and logs
  // a stack trace for every event when there is none. The dev host has no
  // analytics: this answers that one module name and drops the events. It is
  // not an AMD loader (no `define.amd`), so the bundle still sets
  // `window.connectHost`.
  if (window.require === undefined) {
    window.require = function (name) {
      if (name === 'ac/analytics') return { emitGasV3: function () {} };
      throw new Error('the dev host page has no module loader (asked for ' + name + ')');
    };
  }
})();
