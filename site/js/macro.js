// The Confluence macro (dynamicContentMacro): a checklist on a page, kept
// in the content property `lodger-checklist-<macro id>` of that page, so
// two checklists on one page stay apart.
//
// Confluence content properties are versioned, unlike Jira's entity
// properties: an update names version n + 1, and Confluence answers 409
// when someone else wrote first. Then the macro reads again, merges its
// copy into what it finds (docs/data.md) and retries.
(function () {
  'use strict';

  const C = window.LodgerChecklist;
  const ATTEMPTS = 8;
  // Set from the page's context at start.
  let key = '';
  let base = '';

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // {value, version} of the property, or null when the page has none.
  async function read() {
    try {
      const answer = (await lodger.host({ url: base + '/' + encodeURIComponent(key) })).json;
      return { value: answer.value, version: (answer.version && answer.version.number) || 1 };
    } catch (error) {
      if (error.status === 404) return null;
      throw error;
    }
  }

  function refused(error) {
    if (error.status !== 403) return error;
    const readOnly = new Error('You can\'t edit this page, so the checklist is read-only.');
    readOnly.readOnly = true;
    return readOnly;
  }

  // Create (POST) when absent, else update with the next version (PUT).
  // 409 (a stale version, or someone created it first) → read, merge, retry.
  async function save(local) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const stored = await read();
      const merged = C.prune(C.merge(stored && stored.value, local), Date.now());
      if (C.size(merged) > C.MAX_CHARS) {
        throw new Error('The checklist would be over Confluence\'s limit of 32,768 characters.');
      }
      try {
        const answer = stored === null
          ? await lodger.host({ url: base, type: 'POST', contentType: 'application/json',
            data: JSON.stringify({ key, value: merged }) })
          : await lodger.host({ url: base + '/' + encodeURIComponent(key), type: 'PUT',
            contentType: 'application/json',
            data: JSON.stringify({ key, value: merged, version: { number: stored.version + 1 } }) });
        return C.normalise((answer.json && answer.json.value) || merged);
      } catch (error) {
        if (error.status !== 409) throw refused(error);
        window.lodgerConflicts = (window.lodgerConflicts || 0) + 1; // for the browser test
      }
      await sleep(30 + Math.random() * 120 * (attempt + 1));
    }
    throw new Error('Others kept changing the checklist; your changes are kept here.');
  }

  async function start() {
    const context = await lodger.context();
    key = 'lodger-checklist-' + (context.macroId || 'default');
    base = '/rest/api/content/' + encodeURIComponent(context.contentId || '') + '/property';
    document.getElementById('heading').textContent = context.title || 'Checklist';
    const by = context.accountId;
    const unlicensed = !context.licensed;
    window.LodgerChecklistView.mount(document.getElementById('checklist'), {
      storage: { load: async () => { const s = await read(); return s && s.value; }, save },
      by,
      readOnly: unlicensed,
      reason: unlicensed ? 'lodger\'s license for this site is not active, so checklists are read-only. A site admin can renew it in Manage apps.' : '',
      showWhoTicked: true,
      displayName: lodger.displayName,
    });
  }

  start().catch((error) => {
    const p = document.createElement('p');
    p.className = 'state state-error';
    p.setAttribute('role', 'alert');
    p.textContent = 'The checklist could not start: ' + error.message;
    document.getElementById('checklist').replaceChildren(p);
    lodger.resize();
  });
})();
