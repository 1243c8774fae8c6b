#!/usr/bin/env node
// Regenerates tests/fixtures/qsh-oracle.json: request URLs with the canonical
// request and qsh that the npm `atlassian-jwt` library (tools/oracle/qsh.js)
// computes for them, so that `cargo test` checks lodger against it on a machine
// without node.
//
//   npm ci --prefix tools/oracle && node tools/oracle/regenerate-fixtures.js
//
// Deterministic: a fixed list of corner cases, then URLs drawn by a seeded
// PRNG (mulberry32) until there are COUNT vectors. The same seed and the same
// atlassian-jwt version give the same file byte for byte.
//
// Each random URL is: a base URL from BASES (with and without a path); under
// its path, 0-3 path segments from SEGMENTS (sub-delims, a raw '&', escapes,
// empty segments, a trailing '/'); 0-6 query parameters whose names come from
// NAMES (so they repeat) and whose values come from VALUES (empty, missing
// '=', '+', '%2B', reserved characters, BMP and astral Unicode, raw and
// escaped); sometimes `jwt` parameters (dropped by the canonicalizer) and a
// fragment; a method in random letter case. The URL is absolute or
// origin-relative (`/path?query`).
'use strict';

const fs = require('fs');
const path = require('path');
const jwt = require('atlassian-jwt');
const { oracle } = require('./qsh');

const SEED = 20240601;
const COUNT = 200;
const OUT = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'qsh-oracle.json');

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const BASES = [
  'https://acme.atlassian.net',
  'https://acme.atlassian.net/jira',
  'https://acme.atlassian.net/wiki/',
  'https://lodger.example.com/app/v1',
];
const SEGMENTS = [
  'rest', 'api', '3', 'issue', 'PROJ-123', 'a&b', '&', 'x+y', '%2B', '%20', 'a%2Fb',
  '%C3%A9t%C3%A9', '%F0%9F%98%80', '%e2%82%ac', '~user', "!$()*,;=:@", 'a.b-c_d', '',
];
const NAMES = [
  'a', 'b', 'A', 'issueKey', 'xdm_e', 'cp', 'lic', 'a.b', 'a-b', 'a_b', 'a~b', 'a[]',
  'a+b', 'a%20b', 'a%2Bb', 'a:b', 'a%3Ab', 'z', '1', '10', '%C3%A9', 'JWT', 'jwt%5F',
];
const VALUES = [
  null, '', 'x', 'X', '1', 'a+b', 'a%2Bb', '+', '%2B', '%20', 'a%26b', '%3D', 'b=c',
  ':/?@!$()*,;', '~-._', 'caf%C3%A9', 'caf\u00e9', '%F0%9F%98%80', '\u{1F600}',
  '%EF%BC%A1', '\uFF21', '%e2%82%ac', 'a[0]', '%25', '%7E', 'Z', 'zz',
];

// Hand-picked corner cases, always first.
const CORNERS = [
  ['GET', 'https://acme.atlassian.net', 'https://acme.atlassian.net'],
  ['get', 'https://acme.atlassian.net/?', 'https://acme.atlassian.net'],
  ['GET', 'https://acme.atlassian.net/jira', 'https://acme.atlassian.net/jira'],
  ['POST', '/jira/rest/api/2/issue/?jwt=abc', 'https://acme.atlassian.net/jira'],
  ['GET', 'https://acme.atlassian.net/a&b/c?x=1&y', 'https://acme.atlassian.net'],
  ['Put', 'https://acme.atlassian.net/p?b=2&a=1&a=+&a=%2B&b=', 'https://acme.atlassian.net'],
  ['GET', 'https://acme.atlassian.net/p?v=%EF%BC%A1&v=%F0%9F%98%80&jwt=x&jwt=y', 'https://acme.atlassian.net'],
  ['delete', 'https://acme.atlassian.net/wiki/x//?a=b#frag', 'https://acme.atlassian.net/wiki/'],
];

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
const below = (n) => Math.floor(random() * n);
const pick = (list) => list[below(list.length)];

function randomCase(word) {
  return [...word].map((c) => (random() < 0.5 ? c.toLowerCase() : c.toUpperCase())).join('');
}

function randomRequest() {
  const baseUrl = pick(BASES);
  const basePath = baseUrl.replace(/^https:\/\/[^/]+/, '');
  // Below a base with a trailing '/', a first segment that is not empty:
  // atlassian-jwt strips "/wiki/" as a plain prefix, so it would keep "/wiki"
  // whole and turn "/wiki//x" into "/x" (Java: "/" and "//x").
  const segments = Array.from({ length: below(4) }, () => pick(SEGMENTS));
  if (basePath.endsWith('/')) segments.unshift(pick(SEGMENTS.filter((s) => s !== '')));
  let url = basePath.replace(/\/$/, '') + segments.map((s) => '/' + s).join('');
  if (random() < 0.2) url += '/';
  const params = Array.from({ length: below(7) }, () => {
    const value = pick(VALUES);
    return value === null ? pick(NAMES) : pick(NAMES) + '=' + value;
  });
  if (random() < 0.2) params.splice(below(params.length + 1), 0, 'jwt=' + pick(['eyJ.a.b', '', 'x+y']));
  if (params.length > 0 || random() < 0.2) url += '?' + params.join('&');
  if (random() < 0.1) url += '#frag?a=1';
  // Origin-relative sometimes, but "//x" alone would read as host "x".
  if (random() < 0.8 || url.startsWith('//')) url = baseUrl.replace(/^(https:\/\/[^/]+).*$/, '$1') + url;
  return [randomCase(pick(METHODS)), url, baseUrl];
}

// Java sorts parameters by percent-encoded name, atlassian-jwt by decoded
// name; keep only URLs where both orders are the same.
function nameOrdersAgree(method, url) {
  const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const names = Object.keys(jwt.fromMethodAndUrl(method, url).query).filter((n) => n !== 'jwt');
  const byDecoded = names.slice().sort().map(encode);
  const byEncoded = names.map(encode).sort();
  return byDecoded.join('&') === byEncoded.join('&');
}

const vectors = [];
let skipped = 0;
const seen = new Set();
const corners = CORNERS.slice();
while (vectors.length < COUNT) {
  const [method, url, baseUrl] = corners.shift() || randomRequest();
  const key = JSON.stringify([method, url, baseUrl]);
  if (seen.has(key)) continue;
  seen.add(key);
  if (!nameOrdersAgree(method, url)) {
    skipped += 1;
    continue;
  }
  vectors.push({ method, url, baseUrl, ...oracle({ method, url, baseUrl }) });
}

const fixture = {
  note:
    `Canonical requests and qsh values computed by the npm atlassian-jwt ${jwt.version} ` +
    '(tools/oracle/qsh.js) for URLs drawn by tools/oracle/regenerate-fixtures.js ' +
    `(seed ${SEED}). atlassian-jwt sorts parameters by decoded name, Atlassian's Java ` +
    'implementation (which lodger follows) by percent-encoded name; the ' +
    `${skipped} drawn URLs whose two orders differ were left out, so every vector here ` +
    'is also the Java answer. Regenerate with: npm ci --prefix tools/oracle && ' +
    'node tools/oracle/regenerate-fixtures.js',
  generator: { seed: SEED, atlassianJwt: jwt.version, skippedForNameOrder: skipped },
  vectors,
};

// One vector per line keeps diffs readable.
const body = vectors.map((v) => '    ' + JSON.stringify(v)).join(',\n');
const head = JSON.stringify({ note: fixture.note, generator: fixture.generator }, null, 2).replace(/\n}$/, '');
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, `${head},\n  "vectors": [\n${body}\n  ]\n}\n`);
console.error(`wrote ${vectors.length} vectors (${skipped} skipped for name order) to ${path.relative(process.cwd(), OUT)}`);
