// The Jira issue panel (webPanel `checklist-panel`) and glance
// (`checklist-glance`, the same page with `surface=glance`): the checklist
// in the issue entity property `lodger-checklist`, read and written with
// AP.request as the signed-in user, so Jira checks their permissions.
//
// Entity properties have no versions, so a save is the contract's
// conditional write (docs/data.md): the bulk issue-property operation with a
// `currentValue` filter, its asynchronous task followed to the end, then a
// read to see whether this write won.
(function () {
  'use strict';

  const C = window.LodgerChecklist;
  const KEY = 'lodger-checklist';
  const ATTEMPTS = 8;
  const issueId = lodger.param('issueId') || '';
  const propertyUrl = '/rest/api/3/issue/' + encodeURIComponent(issueId) + '/properties/';

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The stored value as the host holds it, or null when there is none.
  async function read() {
    try {
      return (await lodger.host({ url: propertyUrl + KEY })).json.value;
    } catch (error) {
      if (error.status === 404) return null;
      throw error;
    }
  }

  // The bulk operation answers 303 to its task, which the browser follows:
  // the answer is the task. Polls it until it ends (bounded).
  async function finish(task) {
    for (let poll = 0; task && task.id && poll < 50; poll++) {
      if (task.status === 'COMPLETE') return;
      if (task.status === 'FAILED' || task.status === 'CANCELLED' || task.status === 'DEAD') {
        throw new Error('Jira could not save the checklist (its task ' + task.status.toLowerCase() + ').');
      }
      await sleep(150);
      task = (await lodger.host({ url: '/rest/api/3/task/' + encodeURIComponent(task.id) })).json;
    }
  }

  // Read, merge, write only if the value is still what was read, read
  // again: if it differs another writer won, so merge and retry, a few
  // times with a random pause.
  async function save(mine) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const stored = await read();
      const merged = C.prune(C.merge(stored, mine), Date.now());
      if (C.size(merged) > C.MAX_CHARS) {
        throw new Error('The checklist would be over Jira\'s limit of 32,768 characters.');
      }
      const filter = { entityIds: [Number(issueId)] };
      if (stored === null) filter.hasProperty = false;
      else filter.currentValue = stored;
      const answer = await lodger.host({
        url: '/rest/api/3/issue/properties/' + KEY,
        type: 'PUT',
        contentType: 'application/json',
        data: JSON.stringify({ value: merged, filter }),
      });
      await finish(answer.json);
      const now = await read();
      // Compared as documents: the host may store keys in another order.
      if (now !== null && JSON.stringify(C.normalise(now)) === JSON.stringify(merged)) {
        glance(merged);
        return merged;
      }
      await sleep(50 + Math.random() * 150 * (attempt + 1));
    }
    throw new Error('Others kept changing the checklist; your changes are kept here.');
  }

  // The glance's badge ("done/total"), an issue property Jira reads
  // (`com.atlassian.jira.issue:<app key>:<glance key>:status`). Best effort:
  // a stale badge is not worth an error.
  function glance(doc) {
    const c = C.counts(doc);
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
    const AP = await lodger.ready;
    if (lodger.param('surface') === 'glance') {
      const heading = document.getElementById('heading');
      heading.textContent = 'Checklist of ' + (lodger.param('issueKey') || 'this issue');
      heading.className = 'glance-heading';
    }
    const unlicensed = lodger.param('lic') === 'none';
    const [by, editable] = await Promise.all([
      window.LodgerChecklistView.currentUser(AP),
      unlicensed ? false : mayEdit().catch(() => true), // unknown: let the write decide
    ]);
    const reason = unlicensed
      ? 'lodger\'s license for this site is not active, so checklists are read-only. A site admin can renew it in Manage apps.'
      : 'You can\'t edit this issue, so the checklist is read-only.';
    const view = window.LodgerChecklistView.mount(document.getElementById('checklist'), {
      storage: { load: read, save },
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
    if (window.AP) window.AP.resize();
  });
})();
