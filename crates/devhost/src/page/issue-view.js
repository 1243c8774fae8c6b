// The issue view's own controls around app modules, as Jira's new issue
// view has them (pages/issue_view.rs says which module kind gets which):
//
//   - a glance's compact entry opens its panel over the details, and its
//     back button closes it again (Atlassian: "Issue Glance");
//   - an issue context's header expands and collapses it, and it opens
//     again as the person left it (Atlassian: "Issue Context": "remembers
//     whether a user expanded or collapsed it last time"), kept per person
//     in this browser's storage, so not across browsers;
//   - a quick-add button adds its content panel to the issue for everyone,
//     or, when the panel is there, tells it the button was clicked
//     (Atlassian: "Issue Content"; Forge: "Jira issue panel").
//
// Opening a deferred slot dispatches `lodger-dev:open` on it, once; host.js
// (Connect) and forge-host.js (Forge) frame the module then. Loaded after
// both, so their listeners are in place.
(function () {
  'use strict';

  const view = JSON.parse(document.getElementById('lodger-dev-view').textContent);
  const issueKey = view.context && view.context.jira && view.context.jira.issue && view.context.jira.issue.key;

  function open(slot) {
    if (slot.dataset.deferred !== 'true') return;
    delete slot.dataset.deferred;
    slot.dispatchEvent(new CustomEvent('lodger-dev:open'));
  }

  // Glances: the panel covers the details beside the fields.
  const aside = document.querySelector('.issue-context');
  for (const button of document.querySelectorAll('.glance-open')) {
    const slot = document.getElementById(button.dataset.opens);
    const panel = slot && slot.closest('.glance-panel');
    if (!panel || !aside) continue;
    button.addEventListener('click', () => {
      const again = slot.dataset.deferred !== 'true';
      aside.classList.add('glance-is-open');
      panel.closest('.glance').classList.add('open');
      panel.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      if (again) slot.dispatchEvent(new CustomEvent('lodger-dev:opened'));
      open(slot);
    });
    panel.querySelector('.glance-close').addEventListener('click', () => {
      aside.classList.remove('glance-is-open');
      panel.closest('.glance').classList.remove('open');
      panel.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    });
  }

  // Issue contexts: collapsed at first, then as this person left them.
  const person = (view.user && view.user.accountId) || 'anonymous';
  const remembered = (id) => 'lodger-dev:context-expanded:' + person + ':' + id;
  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }
  for (const button of document.querySelectorAll('.context-toggle')) {
    const slot = document.getElementById(button.dataset.opens);
    const body = slot && slot.closest('.context-body');
    if (!body) continue;
    const set = (expanded) => {
      body.hidden = !expanded;
      button.setAttribute('aria-expanded', String(expanded));
      const store = storage();
      if (store) {
        if (expanded) store.setItem(remembered(slot.id), '1');
        else store.removeItem(remembered(slot.id));
      }
      if (expanded) open(slot);
    };
    button.addEventListener('click', () => set(body.hidden));
    const store = storage();
    if (store && store.getItem(remembered(slot.id)) === '1') set(true);
  }

  // Quick-add buttons: the first click adds the panel for the issue.
  for (const button of document.querySelectorAll('.quick-add-button')) {
    const slot = document.getElementById(button.dataset.adds);
    const panel = slot && slot.closest('.content-panel');
    if (!panel) continue;
    button.addEventListener('click', async () => {
      if (!panel.hidden) {
        slot.dispatchEvent(new CustomEvent('lodger-dev:quick-add'));
        panel.scrollIntoView({ block: 'nearest' });
        return;
      }
      button.disabled = true;
      try {
        const response = await fetch('/dev/issue-content', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ issue: issueKey, app: button.dataset.app, module: button.dataset.module }),
        });
        if (!response.ok) throw new Error('HTTP ' + response.status);
        panel.hidden = false;
        open(slot);
      } catch (error) {
        console.error('[lodger dev host] could not add ' + button.dataset.module + ' to ' + issueKey, error);
      } finally {
        button.disabled = false;
      }
    });
  }
})();
