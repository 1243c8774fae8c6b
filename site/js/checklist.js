// The checklist model: the value kept in the issue entity property
// `lodger-checklist` or the content property `lodger-checklist-<macro id>`,
// and the merge rule that lets two people edit it at once (docs/data.md).
// Pure functions: each edit returns a new document and records when each
// part of an item changed, so `merge` can combine copies part by part.
// No DOM, no host calls. Browser: `window.LodgerChecklist`; node: require.
(function (root) {
  'use strict';

  const MAX_CHARS = 32768; // the host's limit on a property value, as JSON
  const MAX_TEXT = 500;
  const TOMBSTONE_DAYS = 30;
  const MAX_TOMBSTONES = 1000;
  const DAY_MS = 24 * 60 * 60 * 1000;
  const ID = /^[A-Za-z0-9-]{1,64}$/; // no "_": "__proto__" can never be an id
  const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  // A refused edit (empty text, unknown item): the view shows its message.
  class ChecklistError extends Error {}

  function empty() {
    return { v: 1, items: [], removed: {}, total: 0, done: 0, open: 0 };
  }

  // 12 random characters [a-z0-9]: unique, not secret.
  function newId() {
    let id = '';
    for (const b of root.crypto.getRandomValues(new Uint8Array(12))) id += (b % 36).toString(36);
    return id;
  }

  const finite = (n, fallback) => (typeof n === 'number' && Number.isFinite(n) ? n : fallback);
  const stamp = (n) => Math.max(0, finite(n, 0));

  // An item in the contract's shape and key order, or null.
  function cleanItem(raw) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
    if (typeof raw.id !== 'string' || !ID.test(raw.id)) return null;
    if (typeof raw.text !== 'string') return null;
    const text = raw.text.trim().slice(0, MAX_TEXT);
    if (!text) return null;
    const done = raw.done === true;
    const changed = raw.changed && typeof raw.changed === 'object' ? raw.changed : {};
    return {
      id: raw.id,
      text,
      rank: finite(raw.rank, 0),
      done,
      doneBy: done && typeof raw.doneBy === 'string' ? raw.doneBy : null,
      doneAt: done && typeof raw.doneAt === 'string' ? raw.doneAt : null,
      changed: { text: stamp(changed.text), rank: stamp(changed.rank), done: stamp(changed.done) },
    };
  }

  // Each part of an item, as the JSON string the tie-break compares.
  const PARTS = {
    text: (item) => JSON.stringify(item.text),
    rank: (item) => JSON.stringify(item.rank),
    done: (item) => JSON.stringify([item.done, item.doneBy, item.doneAt]),
  };

  // Merge rule step 2: each part from the side that changed it later; on a
  // tie, from the side whose part serialises to the larger string.
  function mergeItem(a, b) {
    const out = cleanItem(a); // a copy
    for (const part of Object.keys(PARTS)) {
      const ta = a.changed[part];
      const tb = b.changed[part];
      if (tb < ta || (tb === ta && PARTS[part](b) <= PARTS[part](a))) continue;
      out.changed[part] = tb;
      for (const field of part === 'done' ? ['done', 'doneBy', 'doneAt'] : [part]) out[field] = b[field];
    }
    return out;
  }

  const byRank = (x, y) => x.rank - y.rank || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

  // A document from maps: deletions applied, sorted, counts recomputed.
  function build(items, removed) {
    const doc = empty();
    for (const id of [...removed.keys()].sort()) doc.removed[id] = removed.get(id);
    doc.items = [...items.values()].filter((item) => !removed.has(item.id)).sort(byRank);
    return Object.assign(doc, counts(doc));
  }

  // Any stored value (missing, foreign, hostile) as a valid document.
  // Never throws: what cannot be understood is left out.
  function normalise(value) {
    const items = new Map();
    const removed = new Map();
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (value.removed && typeof value.removed === 'object' && !Array.isArray(value.removed)) {
        for (const id of Object.keys(value.removed)) {
          const at = value.removed[id];
          if (ID.test(id) && typeof at === 'number' && Number.isFinite(at)) {
            removed.set(id, Math.max(at, removed.get(id) || 0));
          }
        }
      }
      if (Array.isArray(value.items)) {
        for (const raw of value.items) {
          const item = cleanItem(raw);
          if (!item) continue;
          // Two copies of one id (a hand edit): merge them like two sides.
          items.set(item.id, items.has(item.id) ? mergeItem(items.get(item.id), item) : item);
        }
      }
    }
    return build(items, removed);
  }

  // The merge rule: commutative, associative, idempotent. Forgetting
  // tombstones is `prune`'s job, so the result never depends on the clock.
  function merge(a, b) {
    const x = normalise(a);
    const y = normalise(b);
    const removed = new Map(Object.entries(x.removed));
    for (const [id, at] of Object.entries(y.removed)) removed.set(id, Math.max(at, removed.get(id) || 0));
    const items = new Map(x.items.map((item) => [item.id, item]));
    for (const item of y.items) {
      items.set(item.id, items.has(item.id) ? mergeItem(items.get(item.id), item) : item);
    }
    return build(items, removed);
  }

  // Forgets tombstones older than 30 days, then all but the newest 1,000.
  function prune(doc, now) {
    const d = normalise(doc);
    const kept = Object.entries(d.removed)
      .filter(([, at]) => now - at <= TOMBSTONE_DAYS * DAY_MS)
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, MAX_TOMBSTONES);
    return build(new Map(d.items.map((item) => [item.id, item])), new Map(kept));
  }

  function counts(doc) {
    const items = (doc && Array.isArray(doc.items)) ? doc.items : [];
    const done = items.filter((item) => item && item.done === true).length;
    return { total: items.length, done, open: items.length - done };
  }

  function sorted(doc) {
    return normalise(doc).items;
  }

  function size(doc) {
    return JSON.stringify(doc).length;
  }

  function checkedText(text) {
    const clean = typeof text === 'string' ? text.trim() : '';
    if (!clean) throw new ChecklistError('An item needs some text.');
    if (clean.length > MAX_TEXT) throw new ChecklistError('An item can be at most ' + MAX_TEXT + ' characters.');
    return clean;
  }

  // Applies `change` to a copy of item `id`, or refuses if it is gone.
  function edit(doc, id, change) {
    const d = normalise(doc);
    const item = d.items.find((i) => i.id === id);
    if (!item) throw new ChecklistError('That item was deleted.');
    change(item);
    return build(new Map(d.items.map((i) => [i.id, i])), new Map(Object.entries(d.removed)));
  }

  // --- Edits: each returns a new document -----------------------------------

  function add(doc, text, opts) {
    const d = normalise(doc);
    const now = opts.now;
    const id = opts.id || newId();
    if (d.items.some((i) => i.id === id) || own(d.removed, id)) throw new ChecklistError('That id is taken.');
    const last = d.items[d.items.length - 1];
    const item = cleanItem({ id, text: checkedText(text), rank: last ? Math.floor(last.rank) + 1 : 1,
      changed: { text: now, rank: now, done: now } });
    d.items.push(item);
    return build(new Map(d.items.map((i) => [i.id, i])), new Map(Object.entries(d.removed)));
  }

  function rename(doc, id, text, opts) {
    const clean = checkedText(text);
    return edit(doc, id, (item) => { item.text = clean; item.changed.text = opts.now; });
  }

  function setDone(doc, id, done, opts) {
    return edit(doc, id, (item) => {
      item.done = !!done;
      item.doneBy = done ? (opts.by || null) : null;
      item.doneAt = done ? new Date(opts.now).toISOString() : null;
      item.changed.done = opts.now;
    });
  }

  // Gives the item a rank between its new neighbours: only its rank
  // changes, so a concurrent move of another item merges cleanly. When
  // floating point runs out of room, all items are re-ranked 1..n.
  function move(doc, id, toIndex, opts) {
    const d = normalise(doc);
    const item = d.items.find((i) => i.id === id);
    if (!item) throw new ChecklistError('That item was deleted.');
    const others = d.items.filter((i) => i.id !== id);
    const index = Math.max(0, Math.min(others.length, toIndex));
    const before = others[index - 1];
    const after = others[index];
    let rank;
    if (before && after) rank = (before.rank + after.rank) / 2;
    else if (before) rank = before.rank + 1;
    else if (after) rank = after.rank - 1;
    else rank = item.rank;
    if ((before && rank <= before.rank) || (after && rank >= after.rank)) {
      others.splice(index, 0, item);
      others.forEach((i, n) => { i.rank = n + 1; i.changed.rank = opts.now; });
    } else {
      item.rank = rank;
      item.changed.rank = opts.now;
    }
    return build(new Map(d.items.map((i) => [i.id, i])), new Map(Object.entries(d.removed)));
  }

  function remove(doc, id, opts) {
    const d = normalise(doc);
    const removed = new Map(Object.entries(d.removed));
    removed.set(id, Math.max(opts.now, removed.get(id) || 0));
    return build(new Map(d.items.map((i) => [i.id, i])), removed);
  }

  const api = {
    MAX_CHARS, MAX_TEXT, ChecklistError,
    empty, newId, add, rename, setDone, move, remove, merge, prune, counts, normalise, sorted, size,
  };
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.LodgerChecklist = api;
})(typeof window !== 'undefined' ? window : globalThis);
