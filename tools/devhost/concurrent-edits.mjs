// The model-based concurrency test: several people edit one issue's
// checklist at once, against the dev host's real entity properties and bulk
// tasks, with the page's own model (site/js/checklist.js) and conditional
// write (site/js/jira-store.js). No browser: each simulated person calls
// the host's REST API the way AP.request does for them (session cookie and
// the app's name), so the host applies their permissions.
//
//   node tools/devhost/concurrent-edits.mjs '<config JSON>'
//
// config: { base, issueId, users: [account ids], rounds, seed }
//
// Each round, one person (picked by a seeded PRNG) makes a random edit to
// their own copy (add, rename, tick or untick, move, delete) and saves it;
// the people run at once, so saves interleave at random. Now and then a
// person reloads (their copy becomes the stored value), as people do. Every save that
// resolves acknowledges the edits in it. At the end everyone saves once
// more, and the stored value is checked against the merge rule:
//
//   1. no acknowledged item is gone unless someone deleted it;
//   2. every acknowledged deletion stays deleted (a tombstone, no item);
//   3. the stored value is exactly the merge of everyone's final copies;
//   4. the counts match the items.
//
// Prints one JSON line: {rounds, saves, attempts, gaveUp, items, removed,
// acknowledgedAdds, acknowledgedDeletes, violations}.
import { createRequire } from 'node:module';
import { prng } from './prng.mjs';

const require = createRequire(import.meta.url);
const C = require('../../site/js/checklist.js');
const { create } = require('../../site/js/jira-store.js');

const config = JSON.parse(process.argv[2] || '{}');
const watchdog = setTimeout(() => {
  console.error('no result within 10 minutes');
  process.exit(1);
}, 600_000);

const random = prng(config.seed || 1);
const pick = (list) => list[Math.floor(random() * list.length)];

// AP.request for one person: the dev host's session cookie and app header.
function hostFor(accountId) {
  return async function host(options) {
    const response = await fetch(config.base + options.url, {
      method: options.type || 'GET',
      headers: {
        cookie: 'lodger_dev_user=' + accountId,
        'x-lodger-dev-app': 'lodger',
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
      },
      body: options.data,
    });
    const text = await response.text();
    if (!response.ok) {
      throw Object.assign(new Error('HTTP ' + response.status + ': ' + text.slice(0, 200)), { status: response.status });
    }
    return { status: response.status, json: text ? JSON.parse(text) : null };
  };
}

const people = config.users.map((accountId, n) => ({
  n,
  accountId,
  doc: C.empty(),
  // Polls and back-offs at a fifth of the page's pace: the same protocol, sooner.
  store: create({
    model: C,
    host: hostFor(accountId),
    issueId: config.issueId,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / 5)),
  }),
  queue: [],
}));
const added = new Map(); // id -> who, for acknowledged adds
const deleted = new Set(); // acknowledged deletions
const everDeleted = new Set(); // any deletion, acknowledged or not
let saves = 0;
let attempts = 0;
let gaveUp = 0;

// One random edit to a person's copy. The list hovers around a dozen items
// (adds are likelier when it is short, deletions when it is long), so a
// thousand rounds stay far below the host's 32 KB limit.
function edit(person, round) {
  const items = C.sorted(person.doc);
  const opts = { now: Date.now(), by: person.accountId };
  const addChance = items.length < 4 ? 1 : items.length > 16 ? 0.1 : 0.3;
  if (random() < addChance) {
    const id = C.newId();
    person.doc = C.add(person.doc, `p${person.n}-r${round}`, { ...opts, id });
    return { kind: 'add', id };
  }
  const choice = random();
  const item = pick(items);
  if (choice < 0.25) {
    person.doc = C.rename(person.doc, item.id, `${item.text.split(' ')[0]} (r${round})`, opts);
    return { kind: 'rename', id: item.id };
  }
  if (choice < 0.5) {
    person.doc = C.setDone(person.doc, item.id, !item.done, opts);
    return { kind: 'tick', id: item.id };
  }
  if (choice < 0.7) {
    person.doc = C.move(person.doc, item.id, Math.floor(random() * items.length), opts);
    return { kind: 'move', id: item.id };
  }
  everDeleted.add(item.id);
  person.doc = C.remove(person.doc, item.id, opts);
  return { kind: 'delete', id: item.id };
}

// Saves a person's copy. If others kept winning the race (the store gives up
// after a few attempts), the edits stay pending, unacknowledged, exactly as
// the panel keeps them and offers Retry; the person tries again next time.
async function save(person) {
  const pending = person.queue;
  person.queue = [];
  let result;
  try {
    result = await person.store.save(person.doc);
  } catch (error) {
    if (!/kept changing/.test(error.message)) throw error;
    person.queue = pending.concat(person.queue);
    gaveUp += 1;
    return false;
  }
  saves += 1;
  attempts += result.attempts;
  // Keep edits made while this save was in flight: merge, do not replace.
  person.doc = C.merge(result.doc, person.doc);
  for (const change of pending) {
    if (change.kind === 'add') added.set(change.id, person.n);
    if (change.kind === 'delete') deleted.add(change.id);
  }
  return true;
}

async function run(person, rounds) {
  for (const round of rounds) {
    // Now and then a person reloads the page: their copy becomes what the
    // host holds, so an item the host lost would be gone for good.
    if (person.queue.length === 0 && random() < 0.15) {
      person.doc = C.normalise(await person.store.read());
    }
    person.queue.push(edit(person, round));
    await save(person);
    await new Promise((resolve) => setTimeout(resolve, random() * 20)); // a moment to think
  }
}

// The last saves: until each person's edits are all acknowledged (bounded).
async function settle(person) {
  for (let tries = 0; tries < 20; tries++) {
    if (await save(person)) return;
  }
  throw new Error(`p${person.n} could not save in 20 tries`);
}

try {
  // Deal the rounds to people at random; each person works through theirs
  // in order, all people at once.
  const dealt = people.map(() => []);
  for (let round = 0; round < config.rounds; round++) dealt[Math.floor(random() * people.length)].push(round);
  await Promise.all(people.map((person, n) => run(person, dealt[n])));
  for (const person of people) await settle(person);
  for (const person of people) await settle(person); // everyone has seen everyone's last save

  const raw = await people[0].store.read();
  const stored = C.normalise(raw);
  const violations = [];
  const present = new Set(stored.items.map((item) => item.id));
  for (const [id, who] of added) {
    if (!present.has(id) && !everDeleted.has(id)) violations.push(`item ${id} added by p${who} is lost`);
  }
  for (const id of deleted) {
    if (present.has(id)) violations.push(`item ${id} came back after its deletion`);
    if (!(id in stored.removed)) violations.push(`deletion of ${id} left no tombstone`);
  }
  const everyone = people.reduce((doc, person) => C.merge(doc, person.doc), C.empty());
  if (JSON.stringify(C.prune(everyone, Date.now())) !== JSON.stringify(stored)) {
    violations.push('the stored value is not the merge of everyone\'s copies');
  }
  const counts = C.counts(stored);
  if (raw.total !== counts.total || raw.done !== counts.done || raw.open !== counts.open) {
    violations.push('the stored counts do not match the items');
  }
  clearTimeout(watchdog);
  console.log(JSON.stringify({
    rounds: config.rounds,
    saves,
    attempts,
    gaveUp,
    items: stored.items.length,
    removed: Object.keys(stored.removed).length,
    acknowledgedAdds: added.size,
    acknowledgedDeletes: deleted.size,
    violations,
  }));
} catch (error) {
  console.error('concurrent edits failed: ' + (error && error.stack ? error.stack : error));
  process.exit(1);
}
