// The Jira issue panel (webPanel `checklist-panel`) and glance
// (`checklist-glance`, the same page with `surface=glance`): the checklist
// in the issue entity property `lodger-checklist`, read and written through
// the bridge seam (lodger.host) as the signed-in user, so Jira checks their
// permissions. The same page is the Forge `jira:issuePanel` and
// `jira:issueContext` (the glance).
//
// Entity properties have no versions, so a save is the contract's
// conditional write (docs/data.md), in jira-store.js: the bulk
// issue-property operation with a `currentValue` filter, its asynchronous
// task followed to the end, then a read to see whether this write won.
(function () {
  'use strict';

  const C = window.LodgerChecklist;
  let issueId = '';
  let store = null;

  // Saves, then updates the glance's badge from what was stored.
  async function save(mine) {
    const { doc } = await store.save(mine);
    glance(doc);
    return doc;
  }

  // The glance's badge ("done/total"), an issue property Jira reads
  // (`com.atlassian.jira.issue:<app key>:<glance key>:status`). Best effort:
  // a stale badge is not worth an error. (A Forge issue context's label is
  // static: the badge is Connect's.)
  function glance(doc) {
    if (lodger.flavour !== 'connect') return;
    const c = C.counts(doc);
    const propertyUrl = '/rest/api/3/issue/' + encodeURIComponent(issueId) + '/properties/';
    lodger.host({
      url: propertyUrl + encodeURIComponent('com.atlassian.jira.issue:' + lodger.appKey + ':checklist-glance:status'),
      type: 'PUT',
      contentType: 'application/json',
      data: JSON.stringify({ type: 'badge', value: { label: c.done + '/' + c.total } }),
    }).catch(() => {});
  }

  // May this user edit the issue? (Jira's "Get my permissions".)
  async function mayEdit() {
    const answer = await lodger.host({
      url: '/rest/api/3/mypermissions?issueId=' + encodeURIComponent(issueId) + '&permissions=EDIT_ISSUES',
    });
    const p = answer.json && answer.json.permissions && answer.json.permissions.EDIT_ISSUES;
    return !!(p && p.havePermission);
  }

  async function start() {
    const context = await lodger.context();
    issueId = context.issueId || '';
    // The conditional write, shared with the concurrency tests (jira-store.js).
    store = window.LodgerJiraStore.create({ model: C, host: lodger.host, issueId });
    if (context.surface === 'glance') {
      const heading = document.getElementById('heading');
      heading.textContent = 'Checklist of ' + (context.issueKey || 'this issue');
      heading.className = 'glance-heading';
    }
    const unlicensed = !context.licensed;
    const by = context.accountId;
    const editable = unlicensed ? false : await mayEdit().catch(() => true); // unknown: let the write decide
    const reason = unlicensed
      ? 'lodger\'s license for this site is not active, so checklists are read-only. A site admin can renew it in Manage apps.'
      : 'You can\'t edit this issue, so the checklist is read-only.';
    const view = window.LodgerChecklistView.mount(document.getElementById('checklist'), {
      storage: { load: store.read, save },
      by,
      readOnly: unlicensed || !editable,
      reason: unlicensed || !editable ? reason : '',
      showWhoTicked: true,
      displayName: lodger.displayName,
    });
    // Tenant settings from the lodger server; the panel works without them.
    lodger.api('GET', '/api/settings').then((answer) => {
      const settings = (answer && answer.settings) || {};
      if (settings.showWhoTicked === false) view.update({ showWhoTicked: false });
    }, () => {});
  }

  start().catch((error) => {
    const box = document.getElementById('checklist');
    box.replaceChildren();
    const p = document.createElement('p');
    p.className = 'state state-error';
    p.setAttribute('role', 'alert');
    p.textContent = 'The checklist could not start: ' + error.message;
    box.append(p);
    lodger.resize();
  });
})();
