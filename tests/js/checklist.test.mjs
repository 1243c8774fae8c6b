// Unit tests of the checklist model (site/js/checklist.js): the merge rule
// of docs/data.md checked on hundreds of random documents from a seeded
// generator, plus each rule on its own. Run: node --test tests/js/
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { prng } from '../../tools/devhost/prng.mjs';

const require = createRequire(import.meta.url);
const C = require('../../site/js/checklist.js');


const IDS = ['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc', 'dddddddddddd', 'eeeeeeeeeeee', 'ffffffffffff'];
const USERS = ['557058:ada', '557058:dev'];

// A random document: random edits on a random subset of a shared pool of
// ids, with times from a small range so that ties happen often.
function randomDoc(rand) {
  let doc = C.empty();
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const time = () => 1_000 + Math.floor(rand() * 5);
  const steps = Math.floor(rand() * 12);
  for (let s = 0; s < steps; s++) {
    const id = pick(IDS);
    const exists = doc.items.some((i) => i.id === id);
    const op = rand();
    try {
      if (!exists && !(id in doc.removed) && op < 0.4) doc = C.add(doc, pick(['one', 'two', 'three']), { now: time(), id });
      else if (exists && op < 0.55) doc = C.rename(doc, id, pick(['x', 'y', 'z']), { now: time() });
      else if (exists && op < 0.75) doc = C.setDone(doc, id, rand() < 0.6, { now: time(), by: pick(USERS) });
      else if (exists && op < 0.9) doc = C.move(doc, id, Math.floor(rand() * 6), { now: time() });
      else if (op >= 0.9) doc = C.remove(doc, id, { now: time() });
    } catch (error) {
      if (!(error instanceof C.ChecklistError)) throw error;
    }
  }
  return doc;
}

test('merge is commutative, idempotent and associative on random documents', () => {
  const rand = prng(20261124);
  for (let n = 0; n < 500; n++) {
    const [a, b, c] = [randomDoc(rand), randomDoc(rand), randomDoc(rand)];
    const ab = C.merge(a, b);
    assert.deepEqual(ab, C.merge(b, a), `commutative, case ${n}`);
    assert.deepEqual(C.merge(a, a), C.normalise(a), `idempotent, case ${n}`);
    assert.deepEqual(C.merge(ab, b), ab, `merging again changes nothing, case ${n}`);
    assert.deepEqual(C.merge(ab, c), C.merge(a, C.merge(b, c)), `associative, case ${n}`);
    assert.equal(JSON.stringify(ab), JSON.stringify(C.merge(b, a)), `same JSON, case ${n}`);
  }
});

test('merged documents keep every item that was not deleted on either side', () => {
  const rand = prng(7);
  for (let n = 0; n < 300; n++) {
    const [a, b] = [randomDoc(rand), randomDoc(rand)];
    const merged = C.merge(a, b);
    const ids = new Set(merged.items.map((i) => i.id));
    for (const item of [...a.items, ...b.items]) {
      const deleted = item.id in a.removed || item.id in b.removed;
      assert.equal(ids.has(item.id), !deleted, `case ${n}, item ${item.id}`);
    }
  }
});

test('a deletion wins over a later edit on the other side', () => {
  const base = C.add(C.empty(), 'Ship it', { now: 1, id: 'aaaaaaaaaaaa' });
  const deleted = C.remove(base, 'aaaaaaaaaaaa', { now: 2 });
  const edited = C.setDone(C.rename(base, 'aaaaaaaaaaaa', 'Ship it now', { now: 99 }), 'aaaaaaaaaaaa', true, { now: 99, by: 'u' });
  for (const merged of [C.merge(deleted, edited), C.merge(edited, deleted)]) {
    assert.deepEqual(merged.items, []);
    assert.deepEqual(merged.removed, { aaaaaaaaaaaa: 2 });
    assert.deepEqual([merged.total, merged.done, merged.open], [0, 0, 0]);
  }
});

test('each part of an item is taken from the side that changed it last', () => {
  let base = C.add(C.empty(), 'first', { now: 1, id: 'aaaaaaaaaaaa' });
  base = C.add(base, 'second', { now: 1, id: 'bbbbbbbbbbbb' });
  const renamed = C.rename(base, 'aaaaaaaaaaaa', 'renamed', { now: 10 });
  const ticked = C.setDone(base, 'aaaaaaaaaaaa', true, { now: 20, by: '557058:dev' });
  const moved = C.move(base, 'aaaaaaaaaaaa', 1, { now: 30 });
  const merged = C.merge(C.merge(renamed, ticked), moved);
  assert.deepEqual(merged.items.map((i) => i.id), ['bbbbbbbbbbbb', 'aaaaaaaaaaaa']);
  const item = merged.items[1];
  assert.equal(item.text, 'renamed');
  assert.equal(item.done, true);
  assert.equal(item.doneBy, '557058:dev');
  assert.equal(item.doneAt, new Date(20).toISOString());
  assert.deepEqual(item.changed, { text: 10, rank: 30, done: 20 });
  // An older edit does not undo a newer one.
  const stale = C.rename(base, 'aaaaaaaaaaaa', 'stale', { now: 5 });
  assert.equal(C.merge(merged, stale).items[1].text, 'renamed');
});

test('on a tie the part that serialises to the larger JSON string wins', () => {
  const base = C.add(C.empty(), 'same', { now: 1, id: 'aaaaaaaaaaaa' });
  const a = C.rename(base, 'aaaaaaaaaaaa', 'apple', { now: 5 });
  const b = C.rename(base, 'aaaaaaaaaaaa', 'banana', { now: 5 });
  assert.equal(C.merge(a, b).items[0].text, 'banana');
  assert.equal(C.merge(b, a).items[0].text, 'banana');
});

test('unticking clears who ticked it and when', () => {
  let doc = C.add(C.empty(), 'a', { now: 1, id: 'aaaaaaaaaaaa' });
  doc = C.setDone(doc, 'aaaaaaaaaaaa', true, { now: 2, by: 'x' });
  doc = C.setDone(doc, 'aaaaaaaaaaaa', false, { now: 3, by: 'x' });
  assert.deepEqual([doc.items[0].done, doc.items[0].doneBy, doc.items[0].doneAt], [false, null, null]);
});

test('counts follow the items', () => {
  let doc = C.empty();
  for (const [n, id] of IDS.entries()) doc = C.add(doc, 'item ' + n, { now: n, id });
  doc = C.setDone(doc, IDS[0], true, { now: 9, by: 'u' });
  doc = C.setDone(doc, IDS[1], true, { now: 9, by: 'u' });
  doc = C.remove(doc, IDS[2], { now: 9 });
  assert.deepEqual(C.counts(doc), { total: 5, done: 2, open: 3 });
  assert.deepEqual([doc.total, doc.done, doc.open], [5, 2, 3]);
});

test('moving puts the item where it was dropped, and only its rank changes', () => {
  let doc = C.empty();
  for (const id of IDS.slice(0, 4)) doc = C.add(doc, id, { now: 1, id });
  doc = C.move(doc, IDS[3], 0, { now: 2 });
  assert.deepEqual(C.sorted(doc).map((i) => i.id), [IDS[3], IDS[0], IDS[1], IDS[2]]);
  doc = C.move(doc, IDS[3], 2, { now: 3 });
  assert.deepEqual(C.sorted(doc).map((i) => i.id), [IDS[0], IDS[1], IDS[3], IDS[2]]);
  assert.deepEqual(doc.items.filter((i) => i.changed.rank > 1).map((i) => i.id), [IDS[3]]);
  // Many moves into the same gap stay correct (ranks are re-spread when needed).
  for (let n = 0; n < 80; n++) {
    doc = C.move(doc, n % 2 ? IDS[2] : IDS[3], 1, { now: 10 + n });
    assert.equal(C.sorted(doc)[1].id, n % 2 ? IDS[2] : IDS[3]);
  }
});

test('tombstones are forgotten after 30 days, and at most 1000 are kept', () => {
  const DAY = 86_400_000;
  const now = 100 * DAY;
  let doc = C.empty();
  doc = C.remove(doc, 'oldoldoldold', { now: now - 31 * DAY });
  doc = C.remove(doc, 'newnewnewnew', { now: now - 29 * DAY });
  assert.deepEqual(Object.keys(C.prune(doc, now).removed), ['newnewnewnew']);
  const many = { v: 1, items: [], removed: {} };
  for (let n = 0; n < 1200; n++) many.removed['t' + String(n).padStart(11, '0')] = now - n;
  const pruned = C.prune(many, now);
  assert.equal(Object.keys(pruned.removed).length, 1000);
  assert.ok('t00000000000' in pruned.removed, 'the newest is kept');
  assert.ok(!('t00000001100' in pruned.removed), 'the oldest is forgotten');
});

test('normalise tolerates missing, foreign and hostile values without throwing', () => {
  const hostile = [
    undefined, null, 0, 'checklist', [], [1, 2], true, { items: 'nope' }, { items: [null, 1, 'x', [], {}] },
    { items: [{ id: 5, text: 'x' }, { id: 'ok', text: 7 }, { id: 'ok', text: '   ' }, { id: '__proto__', text: 'x' }] },
    { removed: [1, 2] }, { removed: { __proto__: 5, constructor: 'x', ok: NaN } },
    JSON.parse('{"removed": {"__proto__": 5}, "items": [{"id": "__proto__", "text": "x"}]}'),
  ];
  for (const value of hostile) {
    const doc = C.normalise(value);
    assert.deepEqual(doc.items, [], JSON.stringify(value));
    assert.deepEqual(Object.keys(doc.removed), [], JSON.stringify(value));
    assert.equal(Object.getPrototypeOf(doc.removed), Object.prototype);
  }
  const mixed = C.normalise({
    items: [
      { id: 'goodgoodgood', text: '  kept  ', rank: 'high', done: 'yes', doneBy: 4, changed: { text: 'x' } },
      { id: 'bad', text: null },
      { id: 'longlonglong', text: 'x'.repeat(600), rank: 2, done: true, doneBy: 'u', doneAt: '2026-01-01T00:00:00.000Z' },
    ],
    removed: { gonegonegone: 5 },
    total: 99,
    extra: 'ignored',
  });
  assert.deepEqual(mixed.items.map((i) => [i.id, i.text.length, i.rank, i.done]), [['goodgoodgood', 4, 0, false], ['longlonglong', 500, 2, true]]);
  assert.deepEqual([mixed.total, mixed.done, mixed.open], [2, 1, 1]);
  assert.deepEqual(Object.keys(mixed), ['v', 'items', 'removed', 'total', 'done', 'open']);
});

test('an edit with empty or overlong text, or on a deleted item, is refused', () => {
  const doc = C.add(C.empty(), 'a', { now: 1, id: 'aaaaaaaaaaaa' });
  assert.throws(() => C.add(doc, '   ', { now: 2 }), C.ChecklistError);
  assert.throws(() => C.add(doc, 'x'.repeat(501), { now: 2 }), C.ChecklistError);
  assert.throws(() => C.rename(doc, 'zzzzzzzzzzzz', 'b', { now: 2 }), C.ChecklistError);
  assert.equal(C.add(doc, 'x'.repeat(500), { now: 2 }).items.length, 2);
});

test('new ids are 12 characters of [a-z0-9]', () => {
  const ids = new Set();
  for (let n = 0; n < 200; n++) {
    const id = C.newId();
    assert.match(id, /^[a-z0-9]{12}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 200);
});

test('size measures the JSON, and a full checklist crosses the 32 KB limit', () => {
  assert.equal(C.MAX_CHARS, 32768);
  assert.equal(C.size(C.empty()), JSON.stringify(C.empty()).length);
  let doc = C.empty();
  let n = 0;
  while (C.size(doc) <= C.MAX_CHARS) doc = C.add(doc, 'x'.repeat(400), { now: ++n });
  assert.ok(n > 40 && n < 80, `${n} long items fill a checklist`);
});
