// The site administration page "Checklist settings" (module `adminPages`
// key `checklist-settings`).
//
// Settings are kept in the host (the Jira app property `lodger-settings`),
// but this page never writes that property itself: any signed-in user can
// write an app property through the iframe bridge, so the lodger *server*
// writes it, after checking with Jira that the caller is a site admin, and
// signs it (docs/data.md). The page talks to the server with lodger.api
// (bridge.js): under Connect a fresh context token (who is asking, signed
// by Jira); under Forge `invokeRemote`, which the manifest sends to the
// admin endpoint (`getSettings`, `putSettings`):
//
//   GET /api/settings                               -> {"settings": {...}, "verified": bool}
//   PUT /api/settings {applyTemplates, showWhoTicked} -> the same, or 403 {"error"} for non-admins
//
// Each switch saves as soon as it is flipped, as Atlassian's settings
// switches do; a refused save puts the switch back.
(function () {
  'use strict';

  const NAMES = ['applyTemplates', 'showWhoTicked'];
  const byId = (id) => document.getElementById(id);

  // What the server last confirmed.
  let saved = { applyTemplates: true, showWhoTicked: true };
  let saving = false;

  const resize = lodger.resize;

  function show(state) {
    byId('loading').hidden = state !== 'loading';
    byId('failure').hidden = state !== 'failure';
    byId('settings').hidden = state !== 'settings';
    document.querySelector('main').setAttribute('aria-busy', String(state === 'loading'));
    resize();
  }

  function status(text, kind) {
    const line = byId('status');
    line.textContent = text;
    line.className = 'status' + (kind ? ' status-' + kind : '');
    resize();
  }

  function apply(answer) {
    saved = Object.assign({ applyTemplates: true, showWhoTicked: true }, answer.settings);
    for (const name of NAMES) byId(name).checked = saved[name] !== false;
    byId('unverified').hidden = answer.verified !== false;
  }

  async function load() {
    show('loading');
    try {
      apply(await lodger.api('GET', '/api/settings'));
      show('settings');
      status('');
    } catch (error) {
      byId('failure-message').textContent = 'The settings could not be loaded. ' + error.message;
      show('failure');
    }
  }

  async function save(event) {
    if (saving) return;
    saving = true;
    const wanted = {};
    for (const name of NAMES) {
      wanted[name] = byId(name).checked;
      byId(name).disabled = true;
    }
    status('Saving\u2026');
    try {
      apply(await lodger.api('PUT', '/api/settings', wanted));
      status('Saved.', 'saved');
    } catch (error) {
      // Put the switches back to what is stored.
      for (const name of NAMES) byId(name).checked = saved[name] !== false;
      const why = error.status === 403
        ? 'Only site administrators can change these settings.'
        : 'The settings were not saved.';
      status(why + ' ' + error.message, 'error');
    } finally {
      for (const name of NAMES) byId(name).disabled = false;
      saving = false;
      if (event && event.target && typeof event.target.focus === 'function') event.target.focus();
    }
  }

  for (const name of NAMES) byId(name).addEventListener('change', save);
  byId('settings').addEventListener('submit', (event) => event.preventDefault());
  byId('retry').addEventListener('click', load);

  lodger.ready.then(load, (error) => {
    byId('failure-message').textContent = error.message;
    show('failure');
  });
})();
