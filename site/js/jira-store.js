// Where the Jira panel keeps a checklist: the issue entity property
// `lodger-checklist`, read and written through the host as the user.
//
// Entity properties have no versions, and a plain PUT overwrites whatever
// another person saved a moment earlier. So a save is the contract's
// conditional write (docs/data.md): the bulk issue-property operation
// (`PUT /rest/api/3/issue/properties/{key}`) with a filter that makes it
// apply only if the value is still the one just read (`currentValue`, or
// `hasProperty: false` when there was none). Jira runs it as a task; the
// store follows the task to its end, then reads again: if the value is not
// what it wrote, another write came first, so it merges and tries again.
//
// No DOM and no host bridge here: `host(options)` makes the calls (the panel
// passes lodger.host, Connect or Forge; tests pass a fetch-based one),
// answering {status, json}
// and rejecting with an error that has `status`. Browser:
// `window.LodgerJiraStore`; node: require.
(function (root) {
  'use strict';

  const KEY = 'lodger-checklist';
  const ATTEMPTS = 8;

  // model: LodgerChecklist; host: as above; issueId: the issue's id.
  function create({ model, host, issueId, sleep }) {
    const C = model;
    const pause = sleep || ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const propertyUrl = '/rest/api/3/issue/' + encodeURIComponent(issueId) + '/properties/';

    // The stored value, or null when there is none.
    async function read() {
      try {
        return (await host({ url: propertyUrl + KEY })).json.value;
      } catch (error) {
        if (error.status === 404) return null;
        throw error;
      }
    }

    // The bulk operation answers 303 to its task, which HTTP clients follow:
    // the answer is the task. Polls it until it ends (bounded).
    async function finish(task) {
      for (let poll = 0; task && task.id && poll < 50; poll++) {
        if (task.status === 'COMPLETE') return;
        if (task.status === 'FAILED' || task.status === 'CANCELLED' || task.status === 'DEAD') {
          throw new Error('Jira could not save the checklist (its task ' + task.status.toLowerCase() + ').');
        }
        await pause(150);
        task = (await host({ url: '/rest/api/3/task/' + encodeURIComponent(task.id) })).json;
      }
    }

    // Read, merge, write only if the value is still what was read, read
    // again: if it differs another writer won, so merge and retry, a few
    // times with a random pause. Answers the stored document and how many
    // attempts it took.
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
        const answer = await host({
          url: '/rest/api/3/issue/properties/' + KEY,
          type: 'PUT',
          contentType: 'application/json',
          data: JSON.stringify({ value: merged, filter }),
        });
        await finish(answer.json);
        const now = await read();
        // Compared as documents: the host may store keys in another order.
        if (now !== null && JSON.stringify(C.normalise(now)) === JSON.stringify(merged)) {
          return { doc: merged, attempts: attempt + 1 };
        }
        await pause(50 + Math.random() * 150 * (attempt + 1));
      }
      throw new Error('Others kept changing the checklist; your changes are kept here.');
    }

    return { read, save };
  }

  const api = { KEY, create };
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.LodgerJiraStore = api;
})(typeof window !== 'undefined' ? window : globalThis);
