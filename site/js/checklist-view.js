// The checklist on screen, shared by the Jira issue panel and the
// Confluence macro. It knows nothing about where the checklist is stored:
// the page gives it a storage adapter,
//
//   { load() -> Promise<doc | null>, save(doc) -> Promise<doc> }
//
// where `save` merges the page's copy into the stored value with a
// conditional write (docs/data.md) and answers what is now stored. A
// refusal the user cannot fix (no permission) is an error with
// `readOnly: true`; its message is shown as the reason.
//
// The UI is optimistic: an edit shows at once, then one save runs at a
// time; edits made while a save is in flight are sent together by the
// next one. A failed save never loses the edit: the local copy stays and
// the page says "Not saved" with a Retry button.
//
// Connect: the iframe does not size itself, so every render ends with
// `AP.resize()`, which asks the host page to fit the iframe to the content.
//
// Safety: everything shown comes from data (item text, names), so it is
// set with textContent, never innerHTML.
(function () {
  'use strict';

  const C = window.LodgerChecklist;
  const REFRESH_MS = 30000;

  // A small element builder: el('button', {className: 'x'}, 'text').
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name in node && typeof value !== 'string') node[name] = value;
      else if (name === 'className' || name === 'textContent' || name === 'value') node[name] = value;
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // "just now", "5 min ago", "3 h ago", or a short date.
  function when(iso, now) {
    const at = Date.parse(iso);
    if (!Number.isFinite(at)) return '';
    const minutes = Math.round((now - at) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 60) return minutes + ' min ago';
    if (minutes < 24 * 60) return Math.round(minutes / 60) + ' h ago';
    return new Date(at).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  }

  function resize() {
    if (window.AP && typeof window.AP.resize === 'function') window.AP.resize();
  }

  // Mounts the checklist in `root`. Options: storage, by (the account id
  // that ticks), readOnly, reason, showWhoTicked, displayName(accountId).
  function mount(root, options) {
    const s = {
      phase: 'loading', loadError: '', doc: null,
      readOnly: !!options.readOnly, reason: options.reason || '',
      showWhoTicked: options.showWhoTicked !== false,
      saving: false, dirty: false, saveError: '', notice: '',
      editing: null, draft: '', dragId: null,
    };
    const names = new Map();
    const live = el('div', { className: 'sr-only', 'aria-live': 'polite', role: 'status' });
    const view = el('div', { className: 'checklist' });
    root.replaceChildren(view, live);

    function announce(text) {
      live.textContent = '';
      setTimeout(() => { live.textContent = text; }, 50);
    }

    function nameOf(accountId) {
      if (!names.has(accountId)) {
        names.set(accountId, null);
        Promise.resolve(options.displayName(accountId)).then((name) => {
          names.set(accountId, name || 'Someone');
          render();
        });
      }
      return names.get(accountId) || '…';
    }

    // --- Editing -------------------------------------------------------------

    // Applies an edit locally, refusing it when the value would cross the
    // host's 32,768-character limit, then queues a save.
    function change(edit, announcement) {
      if (s.readOnly || !s.doc) return false;
      let next;
      try {
        next = C.prune(edit(s.doc, { now: Date.now(), by: options.by }), Date.now());
      } catch (error) {
        if (!(error instanceof C.ChecklistError)) throw error;
        s.notice = error.message;
        render();
        return false;
      }
      if (C.size(next) > C.MAX_CHARS) {
        s.notice = 'This checklist is full: Jira and Confluence keep at most ' +
          C.MAX_CHARS.toLocaleString('en') + ' characters per checklist. Shorten or delete items first.';
        render();
        return false;
      }
      s.doc = next;
      s.notice = '';
      s.dirty = true;
      render();
      if (announcement) announce(announcement);
      pump();
      return true;
    }

    // One save in flight; whatever changed meanwhile goes with the next.
    async function pump() {
      if (s.saving || !s.dirty || s.readOnly) return;
      s.saving = true;
      s.dirty = false;
      s.saveError = '';
      render();
      try {
        const stored = await options.storage.save(s.doc);
        s.doc = C.merge(s.doc, stored);
      } catch (error) {
        s.dirty = true;
        if (error && error.readOnly) {
          s.readOnly = true;
          s.reason = error.message;
        } else {
          s.saveError = (error && error.message) || 'The site did not answer.';
        }
      }
      s.saving = false;
      render();
      if (!s.saveError) pump();
    }

    // Reads the stored value and merges it in: the first load, Retry, and
    // the periodic refresh that shows other people's edits.
    async function load() {
      if (!s.doc) { s.phase = 'loading'; render(); }
      try {
        const stored = await options.storage.load();
        s.doc = s.doc ? C.merge(s.doc, stored) : C.normalise(stored);
        s.phase = 'ready';
      } catch (error) {
        if (!s.doc) {
          s.phase = 'error';
          s.loadError = (error && error.message) || 'The site did not answer.';
        }
      }
      render();
    }

    function refresh() {
      if (s.phase === 'ready' && !s.saving && s.editing === null && s.dragId === null) load();
    }

    function moveBy(id, delta) {
      const items = C.sorted(s.doc);
      const from = items.findIndex((i) => i.id === id);
      const to = from + delta;
      if (from < 0 || to < 0 || to >= items.length) return;
      change((doc, at) => C.move(doc, id, to, at),
        'Moved “' + items[from].text + '” to position ' + (to + 1) + ' of ' + items.length + '.');
    }

    function startEdit(item) {
      if (s.readOnly) return;
      s.editing = item.id;
      s.draft = item.text;
      render();
      const input = view.querySelector('.item-edit');
      if (input) { input.focus(); input.select(); }
    }

    function finishEdit(save) {
      const id = s.editing;
      const text = s.draft;
      s.editing = null;
      if (save) change((doc, at) => C.rename(doc, id, text, at), 'Renamed to “' + text.trim() + '”.');
      else render();
      focusRow(id, '.item-text');
    }

    function focusRow(id, selector) {
      const row = view.querySelector('[data-id="' + CSS.escape(id) + '"]');
      const target = row && row.querySelector(selector);
      if (target) target.focus();
    }

    // --- Rendering -----------------------------------------------------------

    function row(item, index, count, now) {
      const textId = 'item-' + item.id;
      const li = el('li', { className: 'item' + (item.done ? ' item-done' : ''), 'data-id': item.id,
        draggable: s.readOnly || s.editing ? null : 'true' });
      const box = el('input', { type: 'checkbox', className: 'item-check', checked: item.done,
        disabled: s.readOnly, 'aria-labelledby': textId });
      box.addEventListener('change', () => {
        change((doc, at) => C.setDone(doc, item.id, box.checked, at),
          (box.checked ? 'Ticked “' : 'Unticked “') + item.text + '”.');
        focusRow(item.id, '.item-check');
      });
      li.append(box);

      const body = el('div', { className: 'item-body' });
      if (s.editing === item.id) {
        const input = el('input', { type: 'text', className: 'item-edit', value: s.draft, maxlength: '500',
          'aria-label': 'Rename “' + item.text + '”' });
        input.addEventListener('input', () => { s.draft = input.value; });
        input.addEventListener('keydown', (event) => {
          if (event.key === 'Enter') { event.preventDefault(); finishEdit(true); }
          if (event.key === 'Escape') { event.preventDefault(); finishEdit(false); }
        });
        input.addEventListener('blur', () => { if (s.editing === item.id) finishEdit(true); });
        body.append(input, el('span', { id: textId, className: 'sr-only', textContent: item.text }));
      } else if (s.readOnly) {
        body.append(el('span', { id: textId, className: 'item-text', textContent: item.text }));
      } else {
        const text = el('button', { type: 'button', id: textId, className: 'item-text', textContent: item.text,
          title: 'Rename (Enter or F2). Move with Alt+↑ / Alt+↓.' });
        text.addEventListener('click', () => startEdit(item));
        text.addEventListener('keydown', (event) => {
          if (event.key === 'F2') { event.preventDefault(); startEdit(item); }
        });
        body.append(text);
      }
      if (item.done && item.doneBy && s.showWhoTicked) {
        body.append(el('span', { className: 'item-meta',
          textContent: 'ticked by ' + nameOf(item.doneBy) + ' · ' + when(item.doneAt, now) }));
      }
      li.append(body);

      if (!s.readOnly) {
        li.append(el('span', { className: 'item-grip', 'aria-hidden': 'true', title: 'Drag to reorder' }, '⠿'));
        const del = el('button', { type: 'button', className: 'item-delete', 'aria-label': 'Delete “' + item.text + '”',
          title: 'Delete' }, '×');
        del.addEventListener('click', () => {
          const items = C.sorted(s.doc);
          change((doc, at) => C.remove(doc, item.id, at), 'Deleted “' + item.text + '”.');
          const next = items[index + 1] || items[index - 1];
          if (next) focusRow(next.id, '.item-text');
          else { const add = view.querySelector('.add-input'); if (add) add.focus(); }
        });
        li.append(del);
      }
      li.setAttribute('aria-posinset', String(index + 1));
      li.setAttribute('aria-setsize', String(count));
      return li;
    }

    function render() {
      // Remember what had focus, to put it back on the re-rendered element.
      const active = document.activeElement;
      const activeRow = active && active.closest && active.closest('[data-id]');
      const focusKey = activeRow ? [activeRow.getAttribute('data-id'), active.className.split(' ')[0]] : null;
      const addValue = (view.querySelector('.add-input') || {}).value || '';
      const addFocused = active && active.classList && active.classList.contains('add-input');

      const parts = [];
      if (s.readOnly && s.reason) parts.push(el('p', { className: 'banner', role: 'note', textContent: s.reason }));
      if (s.phase === 'loading') {
        parts.push(el('p', { className: 'state', role: 'status' },
          el('span', { className: 'spinner', 'aria-hidden': 'true' }), 'Loading the checklist…'));
      } else if (s.phase === 'error') {
        const retry = el('button', { type: 'button', className: 'button' }, 'Retry');
        retry.addEventListener('click', load);
        parts.push(el('div', { className: 'state state-error', role: 'alert' },
          el('p', { textContent: 'Could not load the checklist. ' + s.loadError }), retry));
      } else {
        const items = C.sorted(s.doc);
        const c = C.counts(s.doc);
        if (items.length) {
          parts.push(el('div', { className: 'progress' },
            el('span', { className: 'progress-label', textContent: c.done + ' of ' + c.total + ' done' }),
            el('progress', { max: String(c.total), value: String(c.done), 'aria-hidden': 'true' })));
          const list = el('ul', { className: 'items', 'aria-label': 'Checklist items' });
          const now = Date.now();
          items.forEach((item, index) => list.append(row(item, index, items.length, now)));
          wireList(list);
          parts.push(list);
        } else {
          parts.push(el('p', { className: 'empty', textContent: s.readOnly
            ? 'This checklist is empty.' : 'No items yet. Add the first one below.' }));
        }
        if (!s.readOnly) parts.push(addForm(addValue));
        parts.push(statusLine());
      }
      view.replaceChildren(...parts);

      if (addFocused) { const add = view.querySelector('.add-input'); if (add) add.focus(); }
      else if (focusKey && s.editing === null) focusRow(focusKey[0], '.' + focusKey[1]);
      else if (s.editing !== null && active && active.classList && active.classList.contains('item-edit')) {
        const input = view.querySelector('.item-edit');
        if (input) input.focus();
      }
      resize();
    }

    function addForm(value) {
      const input = el('input', { type: 'text', className: 'add-input', id: 'lodger-add', value,
        maxlength: '500', placeholder: 'Add an item', autocomplete: 'off' });
      const form = el('form', { className: 'add' },
        el('label', { className: 'sr-only', for: 'lodger-add', textContent: 'Add an item' }), input,
        el('button', { type: 'submit', className: 'button' }, 'Add'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const text = input.value;
        input.focus();
        if (change((doc, at) => C.add(doc, text, at), 'Added “' + text.trim() + '”.')) {
          const fresh = view.querySelector('.add-input');
          fresh.value = '';
          fresh.focus();
        }
      });
      return form;
    }

    function statusLine() {
      const line = el('div', { className: 'save-status', role: s.saveError || s.notice ? 'alert' : 'status' });
      if (s.notice) line.append(el('p', { className: 'notice', textContent: s.notice }));
      if (s.saveError) {
        const retry = el('button', { type: 'button', className: 'button button-link' }, 'Retry');
        retry.addEventListener('click', () => { s.saveError = ''; pump(); });
        line.append(el('span', { className: 'not-saved', textContent: 'Not saved — ' + s.saveError + ' ' }), retry);
      } else if (s.saving || s.dirty) {
        line.append(el('span', { className: 'saving', textContent: 'Saving…' }));
      }
      return line;
    }

    // Keyboard reordering (Alt+↑/↓ anywhere in a row) and drag-and-drop
    // (HTML5: the row is draggable, the drop position is above or below the
    // middle of the row under the pointer).
    function wireList(list) {
      list.addEventListener('keydown', (event) => {
        const li = event.target.closest('[data-id]');
        if (!li || !event.altKey || s.readOnly || s.editing !== null) return;
        if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
        event.preventDefault();
        const selector = '.' + event.target.className.split(' ')[0];
        moveBy(li.getAttribute('data-id'), event.key === 'ArrowUp' ? -1 : 1);
        focusRow(li.getAttribute('data-id'), selector);
      });
      list.addEventListener('dragstart', (event) => {
        const li = event.target.closest && event.target.closest('[data-id]');
        if (!li) return;
        s.dragId = li.getAttribute('data-id');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', s.dragId);
        li.classList.add('dragging');
      });
      const target = (event) => {
        const li = event.target.closest && event.target.closest('[data-id]');
        if (!li) return null;
        const box = li.getBoundingClientRect();
        return { li, after: event.clientY > box.top + box.height / 2 };
      };
      list.addEventListener('dragover', (event) => {
        if (s.dragId === null) return;
        event.preventDefault();
        for (const node of list.querySelectorAll('.drop-before, .drop-after')) node.classList.remove('drop-before', 'drop-after');
        const t = target(event);
        if (t) t.li.classList.add(t.after ? 'drop-after' : 'drop-before');
      });
      list.addEventListener('drop', (event) => {
        event.preventDefault();
        const t = target(event);
        const id = s.dragId;
        s.dragId = null;
        if (!t || id === null) return render();
        const others = C.sorted(s.doc).filter((i) => i.id !== id);
        let index = others.findIndex((i) => i.id === t.li.getAttribute('data-id'));
        if (index < 0) return render();
        if (t.after) index += 1;
        const all = C.sorted(s.doc);
        const text = (all.find((i) => i.id === id) || {}).text;
        change((doc, at) => C.move(doc, id, index, at), 'Moved “' + text + '” to position ' + (index + 1) + ' of ' + all.length + '.');
      });
      list.addEventListener('dragend', () => {
        if (s.dragId !== null) { s.dragId = null; render(); }
      });
    }

    window.addEventListener('focus', refresh);
    const timer = setInterval(refresh, REFRESH_MS);
    load();

    return {
      reload: load,
      refresh,
      update(changes) {
        Object.assign(s, changes);
        render();
        if (!s.readOnly) pump();
      },
      stop() { clearInterval(timer); window.removeEventListener('focus', refresh); },
      state: () => s,
    };
  }

  window.LodgerChecklistView = { mount, when };
})();
