// The checklist on screen, for the Jira panel and the Confluence macro.
// Where it is stored is the page's business: it passes a storage adapter
// `{load() -> doc|null, save(doc) -> stored doc}` whose save merges and
// writes conditionally (docs/data.md). A save error with `readOnly: true`
// (no permission) turns the list read-only, its message as the reason.
//
// Optimistic: an edit shows at once; one save runs at a time and carries
// every edit made meanwhile. A failed save keeps the edit and offers Retry.
// A Connect iframe does not size itself, so each render ends with
// lodger.resize() (a no-op under Forge). Data is shown with textContent,
// never innerHTML.
(function () {
  'use strict';

  const C = window.LodgerChecklist;

  // el('button', {className: 'x', 'aria-label': 'y'}, 'text'): properties
  // when the element has them, attributes otherwise; falsy values skipped.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name in node) node[name] = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  // "just now", "5 min ago", "3 h ago", or a short date.
  function when(iso, now) {
    const at = Date.parse(iso);
    const minutes = Math.round((now - at) / 60000);
    if (!(minutes >= 0)) return '';
    if (minutes < 1) return 'just now';
    if (minutes < 60) return minutes + ' min ago';
    if (minutes < 1440) return Math.round(minutes / 60) + ' h ago';
    return new Date(at).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  }

  // Options: storage, by, readOnly, reason, showWhoTicked, displayName.
  function mount(root, options) {
    const s = {
      phase: 'loading', doc: null, readOnly: !!options.readOnly, reason: options.reason || '',
      showWhoTicked: options.showWhoTicked !== false, saving: false, dirty: false,
      error: '', notice: '', editing: null, draft: '', dragId: null,
    };
    const names = new Map();
    let replacing = false;
    const live = el('div', { className: 'sr-only', role: 'status', 'aria-live': 'polite' });
    const view = el('div', { className: 'checklist' });
    root.replaceChildren(view, live);
    const sorted = () => C.sorted(s.doc);
    const find = (id, selector) => view.querySelector('[data-id="' + CSS.escape(id) + '"] ' + selector);
    const focus = (id, selector) => { const n = find(id, selector); if (n) n.focus(); };

    function announce(text) {
      live.textContent = '';
      setTimeout(() => { live.textContent = text; }, 50);
    }

    // Names are looked up once per account, then shown on the next render.
    function nameOf(accountId) {
      if (!names.has(accountId)) {
        names.set(accountId, '…');
        Promise.resolve(options.displayName(accountId)).then((name) => { names.set(accountId, name); render(); });
      }
      return names.get(accountId);
    }

    // Applies an edit locally (refused past the 32,768-character limit,
    // after forgetting expired tombstones), then queues a save.
    function change(edit, announcement) {
      if (s.readOnly || !s.doc) return false;
      const now = Date.now();
      let next;
      try {
        next = C.prune(edit(s.doc, { now, by: options.by }), now);
        if (C.size(next) > C.MAX_CHARS) {
          throw new C.ChecklistError('This checklist is full: the site keeps at most 32,768 characters ' +
            'per checklist. Shorten or delete items to make room.');
        }
      } catch (error) {
        if (!(error instanceof C.ChecklistError)) throw error;
        s.notice = error.message;
        render();
        return false;
      }
      s.doc = next;
      s.notice = '';
      s.dirty = true;
      render();
      announce(announcement);
      pump();
      return true;
    }

    // One save in flight; what changed meanwhile goes with the next one.
    async function pump() {
      if (s.saving || !s.dirty || s.readOnly) return;
      s.saving = true;
      s.dirty = false;
      s.error = '';
      render();
      try {
        const stored = await options.storage.save(s.doc);
        s.doc = C.merge(s.doc, stored); // s.doc read after the await: it has the edits made meanwhile
        // Events reach this app's other frames on the page (the glance
        // beside the panel): they reload at once instead of later.
        lodger.events.emit('lodger-checklist-saved');
      } catch (error) {
        s.dirty = true;
        if (error.readOnly) {
          s.readOnly = true;
          s.reason = error.message;
        } else {
          s.error = error.message || 'The site did not answer.';
        }
      }
      s.saving = false;
      render();
      if (!s.error) pump();
    }

    // Reads and merges the stored value: first load, Retry, and the
    // refresh that shows other people's edits.
    async function load() {
      try {
        const stored = await options.storage.load();
        s.doc = C.merge(s.doc, stored);
        if (s.phase !== 'ready') s.error = '';
        s.phase = 'ready';
      } catch (error) {
        if (s.phase !== 'ready') {
          s.phase = 'error';
          s.error = error.message;
        }
      }
      render();
    }

    function refresh() {
      if (s.phase === 'ready' && !s.saving && s.editing === null && s.dragId === null) load();
    }

    function move(id, to, selector) {
      const items = sorted();
      const item = items.find((i) => i.id === id);
      if (!item || to < 0 || to >= items.length) return;
      change((doc, at) => C.move(doc, id, to, at),
        'Moved “' + item.text + '” to position ' + (to + 1) + ' of ' + items.length + '.');
      if (selector) focus(id, selector);
    }

    function edit(item) {
      s.editing = item.id;
      s.draft = item.text;
      render();
      const input = view.querySelector('.item-edit');
      input.focus();
      input.select();
    }

    function endEdit(save) {
      const id = s.editing;
      s.editing = null;
      if (!save || !change((doc, at) => C.rename(doc, id, s.draft, at), 'Renamed to “' + s.draft.trim() + '”.')) render();
      focus(id, '.item-text');
    }

    // --- Rendering -----------------------------------------------------------

    function row(item, index, items, now) {
      const textId = 'item-' + item.id;
      const li = el('li', { className: 'item' + (item.done ? ' item-done' : ''), draggable: !s.readOnly && s.editing === null });
      li.dataset.id = item.id;
      const box = el('input', { type: 'checkbox', className: 'item-check', checked: item.done, disabled: s.readOnly });
      box.setAttribute('aria-labelledby', textId);
      box.addEventListener('change', () => change((doc, at) => C.setDone(doc, item.id, box.checked, at),
        (box.checked ? 'Ticked “' : 'Unticked “') + item.text + '”.'));
      const body = el('div', { className: 'item-body' });
      if (s.editing === item.id) {
        const input = el('input', { type: 'text', className: 'item-edit', value: s.draft, maxLength: 500 });
        input.setAttribute('aria-label', 'Rename “' + item.text + '”');
        input.addEventListener('input', () => { s.draft = input.value; });
        input.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === 'Escape') {
            event.preventDefault();
            endEdit(event.key === 'Enter');
          }
        });
        // Leaving the field saves, but a re-render (a save finishing, a
        // refresh) also takes the field away, and Chrome calls that a blur.
        input.addEventListener('blur', () => { if (s.editing === item.id && !replacing) endEdit(true); });
        body.append(input, el('span', { id: textId, className: 'sr-only', textContent: item.text }));
      } else {
        const text = el(s.readOnly ? 'span' : 'button', { id: textId, className: 'item-text', textContent: item.text });
        if (!s.readOnly) {
          text.type = 'button';
          text.title = 'Rename: click, Enter or F2. Move: Alt+↑ / Alt+↓ or drag.';
          text.addEventListener('click', () => edit(item));
          text.addEventListener('keydown', (event) => { if (event.key === 'F2') edit(item); });
        }
        body.append(text);
      }
      if (item.done && item.doneBy && s.showWhoTicked) {
        body.append(el('span', { className: 'item-meta',
          textContent: 'ticked by ' + nameOf(item.doneBy) + ' · ' + when(item.doneAt, now) }));
      }
      li.append(box, body);
      if (!s.readOnly) {
        const del = el('button', { type: 'button', className: 'item-delete', title: 'Delete' }, '×');
        del.setAttribute('aria-label', 'Delete “' + item.text + '”');
        del.addEventListener('click', () => {
          const next = items[index + 1] || items[index - 1];
          change((doc, at) => C.remove(doc, item.id, at), 'Deleted “' + item.text + '”.');
          if (next) focus(next.id, '.item-text');
          else view.querySelector('.add-input').focus();
        });
        const grip = el('span', { className: 'item-grip', title: 'Drag to reorder' }, '⠿');
        grip.setAttribute('aria-hidden', 'true');
        li.append(grip, del);
      }
      return li;
    }

    function render() {
      // Re-rendering replaces the elements: note what had focus, restore it.
      const active = document.activeElement;
      const activeRow = active && active.closest('[data-id]');
      const add = view.querySelector('.add-input');
      const parts = [];
      if (s.readOnly && s.reason) parts.push(el('p', { className: 'banner', textContent: s.reason }));
      if (s.phase === 'loading') {
        parts.push(el('p', { className: 'state' }, el('span', { className: 'spinner' }), 'Loading the checklist…'));
      } else if (s.phase === 'error') {
        const retry = el('button', { type: 'button', className: 'button', onclick: load }, 'Retry');
        parts.push(el('div', { className: 'state state-error', role: 'alert' },
          el('p', { textContent: 'Could not load the checklist. ' + s.error }), retry));
      } else {
        const items = sorted();
        const c = C.counts(s.doc);
        if (items.length) {
          const list = el('ul', { className: 'items' });
          list.setAttribute('aria-label', 'Checklist items');
          items.forEach((item, index) => list.append(row(item, index, items, Date.now())));
          wire(list);
          parts.push(el('div', { className: 'progress' }, c.done + ' of ' + c.total + ' done',
            el('progress', { max: c.total, value: c.done })), list);
        } else {
          parts.push(el('p', { className: 'empty', textContent: s.readOnly ? 'This checklist is empty.' : 'No items yet. Add the first one below.' }));
        }
        if (!s.readOnly) parts.push(addForm(add ? add.value : ''));
        parts.push(status());
      }
      replacing = true;
      try { view.replaceChildren(...parts); } finally { replacing = false; }
      if (active === add && add) view.querySelector('.add-input').focus();
      else if (s.editing !== null) (view.querySelector('.item-edit') || {}).focus?.();
      else if (activeRow) focus(activeRow.dataset.id, '.' + active.classList[0]);
      lodger.resize();
    }

    function addForm(value) {
      const input = el('input', { type: 'text', className: 'add-input', id: 'lodger-add', value, maxLength: 500,
        placeholder: 'Add an item', autocomplete: 'off' });
      const form = el('form', { className: 'add' }, el('label', { className: 'sr-only', htmlFor: 'lodger-add', textContent: 'Add an item' }),
        input, el('button', { type: 'submit', className: 'button' }, 'Add'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        input.focus();
        if (change((doc, at) => C.add(doc, input.value, at), 'Added “' + input.value.trim() + '”.')) {
          view.querySelector('.add-input').value = '';
        }
      });
      return form;
    }

    function status() {
      const line = el('div', { className: 'save-status', role: s.error || s.notice ? 'alert' : 'status' });
      if (s.notice) line.append(el('p', { className: 'notice', textContent: s.notice }));
      if (s.error) {
        line.append(el('span', { className: 'not-saved', textContent: 'Not saved — ' + s.error + ' ' }),
          el('button', { type: 'button', className: 'button button-link', onclick: () => { s.error = ''; pump(); } }, 'Retry'));
      } else if (s.saving || s.dirty) {
        line.append(el('span', { className: 'saving' }, 'Saving…'));
      }
      return line;
    }

    // Reordering: Alt+↑/↓ anywhere in a row, or HTML5 drag and drop (the
    // drop goes above or below the middle of the row under the pointer).
    function wire(list) {
      const target = (event) => {
        const li = event.target.closest('[data-id]');
        if (!li) return null;
        const box = li.getBoundingClientRect();
        return { li, after: event.clientY > box.top + box.height / 2 };
      };
      list.addEventListener('keydown', (event) => {
        const li = event.target.closest('[data-id]');
        if (!li || !event.altKey || s.readOnly || s.editing !== null) return;
        const delta = { ArrowUp: -1, ArrowDown: 1 }[event.key];
        if (!delta) return;
        event.preventDefault();
        const id = li.dataset.id;
        move(id, sorted().findIndex((i) => i.id === id) + delta, '.' + event.target.classList[0]);
      });
      list.addEventListener('dragstart', (event) => {
        const li = event.target.closest('[data-id]');
        s.dragId = li.dataset.id;
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', s.dragId);
        li.classList.add('dragging');
      });
      list.addEventListener('dragover', (event) => {
        if (s.dragId === null) return;
        event.preventDefault();
        for (const n of list.querySelectorAll('.drop-before, .drop-after')) n.classList.remove('drop-before', 'drop-after');
        const t = target(event);
        if (t) t.li.classList.add(t.after ? 'drop-after' : 'drop-before');
      });
      list.addEventListener('drop', (event) => {
        event.preventDefault();
        const id = s.dragId;
        const t = target(event);
        s.dragId = null;
        const others = sorted().filter((i) => i.id !== id);
        const index = t ? others.findIndex((i) => i.id === t.li.dataset.id) : -1;
        if (index < 0) render();
        else move(id, index + (t.after ? 1 : 0));
      });
      list.addEventListener('dragend', () => { if (s.dragId !== null) { s.dragId = null; render(); } });
    }

    // Other people's edits: reload and merge when the frame gets focus, when
    // another of our iframes saved, and every 30 seconds.
    window.addEventListener('focus', refresh);
    lodger.events.on('lodger-checklist-saved', refresh);
    setInterval(refresh, 30000);
    render();
    load();
    return { reload: load, update(changes) { Object.assign(s, changes); render(); pump(); } };
  }

  window.LodgerChecklistView = { mount, when };
})();
