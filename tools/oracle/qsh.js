#!/usr/bin/env node
// The query string hash as the npm `atlassian-jwt` library computes it: the
// reference that tests/qsh_oracle.rs compares lodger's src/connect/qsh.rs with.
//
// Usage: one JSON object per line on stdin, `{"method", "url", "baseUrl"}`;
// one JSON line per input on stdout, `{"canonical", "qsh"}`, in the same order,
// or `{"error"}` if the library throws (so one bad URL does not hide the rest).
//
// Known differences from Atlassian's Java implementation, which lodger follows
// (see tests/qsh_oracle.rs): parameter names are sorted by their decoded form
// rather than their percent-encoded form, and the base URL's path is stripped
// from the request path without checking for a '/' after it.
'use strict';

const jwt = require('atlassian-jwt');
const readline = require('readline');

/** Canonical request and qsh of one `{method, url, baseUrl}`, as atlassian-jwt sees it. */
function oracle({ method, url, baseUrl }) {
  // fromMethodAndUrl parses with node's legacy url.parse(url, true), the way
  // atlassian-connect-express sees an incoming request.
  const req = jwt.fromMethodAndUrl(method, url);
  return {
    canonical: jwt.createCanonicalRequest(req, false, baseUrl),
    qsh: jwt.createQueryStringHash(req, false, baseUrl),
  };
}

if (require.main === module) {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let answer;
    try {
      answer = oracle(JSON.parse(line));
    } catch (e) {
      answer = { error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  });
}

module.exports = { oracle };
