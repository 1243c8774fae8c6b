// Atlassian's own check of a Forge invocation token, unchanged: the
// middleware atlassian-connect-express 11.5.3 mounts with
// `addon.authenticateForge()` (lib/middleware/verify-forge-invocation-token.js,
// loaded from node_modules, never copied), driven with Express-shaped
// request, response and `next`. Used by tests/support/ace.rs.
//
// What is substituted, and nothing else:
// - the key-set source. ACE calls `jose.createRemoteJWKSet(new URL(<Atlassian's
//   JWKS URL>))`, which would fetch from Atlassian's servers; the tests are
//   offline. Before ACE's module loads, the `jose` module ACE itself resolves
//   is replaced in Node's module cache by a copy of its exports whose
//   `createRemoteJWKSet` records the URL ACE asked for and answers
//   `jose.createLocalJWKSet(<the test's JWKS>)`. ACE's `jwtVerify`,
//   `decodeJwt`, audience, issuer and time checks are jose's and ACE's own.
// - the clock, when `now` is given. jose reads it with `new Date()` and ACE
//   passes no `currentDate`, so `Date` is replaced by a subclass whose
//   argument-less constructor and `Date.now()` answer `now`; with `now` null
//   the real clock is used.
// - the `addon` ACE is handed: its `config.appId()` (the input's `appId`),
//   `config.expressErrorHandling()` (false, ACE's default: the 401 is sent
//   with `res.status(401).send(..)`), a silent `logger`, and a
//   `forgeAppTokenCache` whose `setForgeAppToken(installationId, appToken,
//   apiBaseUrl)` records what ACE stores (a real app stores it in its
//   database).
// - `req.context` starts as `{}`, as ACE's request middleware
//   (`addon.middleware()`, lib/middleware/request.js) leaves it.
//
// Reads one JSON object on stdin:
//   {jwks, appId, now: <seconds since the epoch> | null,
//    requests: [{authorization: "Bearer .." | null, headers: {name: value}}]}
// Prints one JSON line per request, in order:
//   {ok: true, installationId, apiBaseUrl, systemToken, userToken, jwksUrl, forge}
//     (the first two as ACE handed them to setForgeAppToken, the tokens and
//     `forge` as ACE put them on req.context.forge)
//   {ok: false, status, jwksUrl, reason}
//     (`jwksUrl` null when ACE refused before choosing one; `reason` is the
//     error ACE logged, jose's `code` when it has one)
'use strict';

const path = require('path');

const aceDir = path.dirname(require.resolve('atlassian-connect-express'));
const acePackage = require(path.join(aceDir, 'package.json'));
if (acePackage.version !== '11.5.3') {
  throw new Error(`expected atlassian-connect-express 11.5.3, found ${acePackage.version}`);
}
const middlewareFile = path.join(aceDir, 'lib/middleware/verify-forge-invocation-token.js');

// The very jose instance ACE's middleware will `require("jose")`.
const joseFile = require.resolve('jose', { paths: [path.dirname(middlewareFile)] });
const jose = require(joseFile);

let keySet = null;
let askedFor = null;
const substitute = {
  ...jose,
  createRemoteJWKSet(url) {
    askedFor = String(url);
    return jose.createLocalJWKSet(keySet);
  },
};
require.cache[joseFile].exports = substitute;

const { authenticate } = require(middlewareFile);

function fixClock(seconds) {
  const RealDate = Date;
  const millis = seconds * 1000;
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) {
        super(millis);
      } else {
        super(...args);
      }
    }

    static now() {
      return millis;
    }
  }
  globalThis.Date = FixedDate;
}

// One request through ACE's middleware; resolves with what it decided.
async function check(middleware, stored, request) {
  const headers = {};
  for (const [name, value] of Object.entries(request.headers || {})) {
    headers[name.toLowerCase()] = value; // Node lowercases header names
  }
  if (request.authorization != null) {
    headers.authorization = request.authorization;
  }
  const req = { headers, context: {} };
  const outcome = { next: false, error: undefined, status: undefined };
  const res = {
    status(code) {
      outcome.status = code;
      return res;
    },
    send() {
      return res;
    },
  };
  const next = (error) => {
    outcome.next = true;
    outcome.error = error;
  };
  askedFor = null;
  stored.length = 0;
  let reason = null;
  const consoleError = console.error;
  console.error = (...args) => {
    const error = args.find((arg) => arg instanceof Error);
    reason = error ? error.code || error.message : args.join(' ');
  };
  try {
    await middleware(req, res, next);
  } finally {
    console.error = consoleError;
  }
  if (outcome.next && outcome.error === undefined && outcome.status === undefined) {
    const forge = req.context.forge || {};
    const [installationId, , apiBaseUrl] = stored[0] || [];
    return {
      ok: true,
      installationId,
      apiBaseUrl,
      systemToken: forge.tokens ? forge.tokens.app : undefined,
      userToken: forge.tokens ? forge.tokens.user : undefined,
      jwksUrl: askedFor,
      forge,
    };
  }
  const status = outcome.status !== undefined ? outcome.status : outcome.error && outcome.error.code;
  return { ok: false, status, jwksUrl: askedFor, reason };
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) {
    input += chunk;
  }
  const { jwks, appId, now, requests } = JSON.parse(input);
  keySet = jwks;
  if (now != null) {
    fixClock(now);
  }
  const stored = [];
  const addon = {
    config: {
      appId: () => appId,
      expressErrorHandling: () => false,
    },
    logger: { error() {}, warn() {}, info() {}, debug() {} },
    forgeAppTokenCache: {
      async setForgeAppToken(...args) {
        stored.push(args);
      },
    },
  };
  const middleware = authenticate(addon);
  for (const request of requests) {
    process.stdout.write(`${JSON.stringify(await check(middleware, stored, request))}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`forge-token-check.js: ${error.stack || error}\n`);
  process.exit(1);
});
