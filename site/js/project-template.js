// The project settings tab "Checklist template" (module
// `jiraProjectAdminTabPanels` key `checklist-template`, URL parameters
// `projectKey` and `projectId`).
//
// The template lives in the project itself, as the project entity property
// `lodger-template` (docs/data.md):
//
//   {"v": 1, "items": [{"text": "Write tests"}, ...]}   at most 100 items, 1-500 chars
//
// The page reads and writes it *as the user*, through the bridge seam:
//
//   GET /rest/api/3/project/{projectId}/properties/lodger-template  -> {key, value}, 404 when none
//   PUT /rest/api/3/project/{projectId}/properties/lodger-template  <- the value itself
//
// Jira lets only people who administer the project write a project property,
// so the permission check is the host's, not this page's: a refusal (403)
// is shown as it comes. When an issue is created, the lodger server copies
// the template into the checklist.
(function () {
  'use strict';

  const KEY = 'lodger-template';
  const MAX_ITEMS = 100;
  const MAX_CHARS = 500;

  const byId = (id) => document.getElementById(id);
  // Set from the page's context when it loads.
  let projectId = '';
  let url = '';

  // What the form shows: the items' texts, in order. `dirty` means the page
  // holds changes that are not saved.
  let items = [];
  let dirty = false;

  // Lets the host fit the iframe to the page after every change of layout.
  const resize = lodger.resize;

  function show(state) {
    byId('loading').hidden = state !== 'loading';
    byId('failure').hidden = state !== 'failure';
    byId('editor').hidden = state !== 'editor';
    document.querySelector('main').setAttribute('aria-busy', String(state === 'loading'));
    resize();
  }

  function fail(message) {
    byId('failure-message').textContent = message;
    show('failure');
  }

  function status(text, kind) {
    const line = byId('status');
    line.textContent = text;
    line.className = 'status' + (kind ? ' status-' + kind : '');
  }

  function changed() {
    dirty = true;
    status('Unsaved changes.');
  }

  // A button with a visible symbol and a spoken label.
  function iconButton(symbol, label, onClick, disabled) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'icon-button';
    button.textContent = symbol;
    button.setAttribute('aria-label', label);
    button.title = label;
    button.disabled = disabled;
    button.addEventListener('click', onClick);
    return button;
  }

  function move(from, to) {
    const [item] = items.splice(from, 1);
    items.splice(to, 0, item);
    changed();
    render();
    // Keep the keyboard on the item that moved.
    const row = byId('items').children[to];
    if (row) row.querySelector('input').focus();
  }

  // Draws the list from `items`. Texts go in with `value`/`textContent`,
  // never as HTML.
  function render() {
    const list = byId('items');
    list.replaceChildren();
    items.forEach((text, index) => {
      const row = document.createElement('li');
      row.className = 'item';
      const input = document.createElement('input');
      input.type = 'text';
      input.className = 'text-input';
      input.maxLength = MAX_CHARS;
      input.value = text;
      input.setAttribute('aria-label', 'Item ' + (index + 1));
      input.addEventListener('input', () => {
        items[index] = input.value;
        input.removeAttribute('aria-invalid');
        changed();
      });
      row.append(
        input,
        iconButton('\u2191', 'Move item ' + (index + 1) + ' up', () => move(index, index - 1), index === 0),
        iconButton('\u2193', 'Move item ' + (index + 1) + ' down', () => move(index, index + 1), index === items.length - 1),
        iconButton('\u00d7', 'Delete item ' + (index + 1), () => {
          items.splice(index, 1);
          changed();
          render();
        }, false),
      );
      list.append(row);
    });
    byId('empty').hidden = items.length > 0;
    byId('add').disabled = items.length >= MAX_ITEMS;
    byId('new-item').disabled = items.length >= MAX_ITEMS;
    resize();
  }

  function addItem() {
    const input = byId('new-item');
    const error = byId('new-item-error');
    const text = input.value.trim();
    let problem = '';
    if (!text) problem = 'Type the item first.';
    else if (items.length >= MAX_ITEMS) problem = 'A template holds at most ' + MAX_ITEMS + ' items.';
    error.textContent = problem;
    error.hidden = !problem;
    input.setAttribute('aria-invalid', String(Boolean(problem)));
    if (problem) {
      input.focus();
      resize();
      return;
    }
    items.push(text);
    input.value = '';
    changed();
    render();
    input.focus();
  }

  async function load() {
    show('loading');
    try {
      const context = await lodger.context();
      projectId = context.projectId || context.projectKey || '';
      url = '/rest/api/3/project/' + encodeURIComponent(projectId) + '/properties/' + KEY;
      const response = await lodger.host({ url: url });
      const value = (response.json && response.json.value) || {};
      items = Array.isArray(value.items) ? value.items.map((i) => String((i && i.text) || '')).filter(Boolean) : [];
    } catch (error) {
      if (error.status === 404) {
        items = []; // no template yet
      } else if (error.status === 403 || error.status === 401) {
        fail('You cannot see this project\'s template: ' + error.message);
        return;
      } else {
        fail('The template could not be loaded. ' + error.message);
        return;
      }
    }
    dirty = false;
    render();
    show('editor');
    status('');
    readOnlyUnlessAdmin();
  }

  // Jira shows this tab to project admins only, but the template can still
  // be opened by someone who lost the permission since. Asking up front
  // (`mypermissions`, as the user) lets the page say so before any typing.
  // It is a courtesy, not the check: Jira refuses the write regardless.
  async function readOnlyUnlessAdmin() {
    let allowed = true;
    try {
      const response = await lodger.host({
        url: '/rest/api/3/mypermissions?permissions=ADMINISTER_PROJECTS&projectId=' + encodeURIComponent(projectId),
      });
      const permission = response.json && response.json.permissions && response.json.permissions.ADMINISTER_PROJECTS;
      allowed = !permission || permission.havePermission !== false;
    } catch (_) {
      allowed = true; // could not ask: let Jira decide at Save
    }
    if (allowed) return;
    const notice = byId('read-only');
    notice.hidden = false;
    for (const control of byId('editor').querySelectorAll('input, button')) control.disabled = true;
    resize();
  }

  // Checks every item before writing: 1 to 500 characters after trimming.
  function validated() {
    const texts = items.map((t) => t.trim());
    const rows = byId('items').children;
    let firstBad = -1;
    texts.forEach((text, index) => {
      const bad = !text || text.length > MAX_CHARS;
      if (rows[index]) rows[index].querySelector('input').setAttribute('aria-invalid', String(bad));
      if (bad && firstBad < 0) firstBad = index;
    });
    if (firstBad >= 0) {
      status('Item ' + (firstBad + 1) + ' is empty: type its text or delete it.', 'error');
      rows[firstBad].querySelector('input').focus();
      return null;
    }
    return texts;
  }

  async function save(event) {
    event.preventDefault();
    const texts = validated();
    if (!texts) return;
    const button = byId('save');
    button.disabled = true;
    status('Saving\u2026');
    try {
      // A project property PUT takes the value itself as the body.
      await lodger.host({
        url: url,
        type: 'PUT',
        contentType: 'application/json',
        data: JSON.stringify({ v: 1, items: texts.map((text) => ({ text: text })) }),
      });
      items = texts;
      dirty = false;
      render();
      status('Saved. New issues in this project start with these items.', 'saved');
    } catch (error) {
      if (error.status === 403) {
        status('Jira refused the change: only administrators of this project can edit its template. (' + error.message + ')', 'error');
      } else if (error.status === 413) {
        status('The template is too large for Jira to store. Remove or shorten some items.', 'error');
      } else {
        status('The template was not saved. ' + error.message, 'error');
      }
    } finally {
      button.disabled = false;
      resize();
    }
  }

  byId('add').addEventListener('click', addItem);
  byId('new-item').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      addItem();
    }
  });
  byId('editor').addEventListener('submit', save);
  byId('retry').addEventListener('click', load);
  // Leaving with unsaved changes would lose them: ask the browser to warn.
  window.addEventListener('beforeunload', (event) => {
    if (dirty) event.preventDefault();
  });

  lodger.ready.then(load, (error) => fail(error.message));
})();
