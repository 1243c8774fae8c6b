// A page's scripts run in a node `vm` context with fakes of what a browser
// frame has: `location`, a minimal `document`, `fetch`, and (for the seam's
// tests) a fake Connect `AP` or a fake Forge `__bridge`. Used by
// bridge.test.mjs and tests/js-forge/.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

export const root = new URL('../../', import.meta.url);
export const source = (path) => readFileSync(new URL(path, root), 'utf8');

// Node's Request needs an absolute URL; a frame's resolves against its
// document (`@forge/bridge` builds `new Request('', ...)`).
class FrameRequest extends Request {
  constructor(url, init) {
    super(new URL(url, 'https://frame.invalid/'), init);
  }
}

// A frame: `search` is its URL's query; `AP` is put on the window when
// connect.js's script tag "loads"; `bridge` becomes `globalThis.__bridge`.
export function frame({ search = '', AP = null, bridge = null, fetch = null } = {}) {
  const loaded = [];
  const g = {
    location: { search },
    document: {
      head: {
        appendChild(script) {
          loaded.push(script.src);
          setTimeout(() => { g.AP = AP; script.onload(); }, 0);
        },
      },
      createElement: () => ({}),
      querySelector: (selector) => (selector.includes('lodger-app-key') ? { content: 'lodger' } : null),
    },
    URLSearchParams, Promise, setTimeout, clearTimeout, console, JSON, Error,
    Response, Request: FrameRequest, Headers, FormData, Blob, TextEncoder, TextDecoder, URL,
    fetch: fetch || (() => Promise.reject(new Error('no fetch'))),
    loaded,
  };
  g.window = g;
  g.self = g;
  if (bridge) g.__bridge = bridge;
  const context = vm.createContext(g);
  return {
    window: g,
    run(code, name) { vm.runInContext(code, context, { filename: name }); },
  };
}

// A fake `__bridge.callBridge` answering from `answers[name](payload)`,
// recording every call in `calls`.
export function fakeBridge(answers) {
  const calls = [];
  return {
    calls,
    callBridge: async (name, payload) => {
      calls.push({ name, payload });
      const answer = answers[name];
      if (!answer) throw new Error('the fake host has no ' + name);
      return answer(payload);
    },
  };
}

// A value from the frame's realm as a plain one of this realm (deepEqual
// compares prototypes).
export const plain = (value) => JSON.parse(JSON.stringify(value));
