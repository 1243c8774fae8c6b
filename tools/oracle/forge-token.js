// Atlassian's own check of a Forge invocation token, run on tokens lodger's
// tests make: the same `jose.jwtVerify` call atlassian-connect-express 11.5.3
// makes in lib/middleware/verify-forge-invocation-token.js (issuer
// "forge/invocation-token", audience the app's ARI), with the test's key set
// in place of Forge's published one, which cannot be fetched offline.
//
// Reads one JSON object on stdin: {jwks, appId, now, tokens: [..]}; prints
// one JSON line per token: {"ok": true} or {"ok": false, "code": "<jose code>"}.
const jose = require('jose');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const { jwks, appId, now, tokens } = JSON.parse(input);
  const keySet = jose.createLocalJWKSet(jwks);
  for (const token of tokens) {
    try {
      await jose.jwtVerify(token, keySet, {
        audience: appId,
        issuer: 'forge/invocation-token',
        currentDate: new Date(now * 1000),
      });
      console.log(JSON.stringify({ ok: true }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, code: err.code || err.name }));
    }
  }
});
