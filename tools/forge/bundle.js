// Bundles the Forge adapter of lodger's bridge seam with @forge/bridge
// (both pinned in package.json) into one script for the Custom UI
// resources. Run by `lodger export --forge` (src/export/forge/bundle.rs):
//
//   node tools/forge/bundle.js < site/forge/adapter.js > forge-bridge.js
//
// The entry comes on stdin so that `@forge/bridge` resolves from this
// folder's node_modules wherever the source lives. Deterministic: fixed
// options, no source maps, no timestamps, no absolute paths in the output.
'use strict';

const esbuild = require('esbuild');

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const result = esbuild.buildSync({
    stdin: {
      contents: Buffer.concat(chunks).toString('utf8'),
      resolveDir: __dirname,
      sourcefile: 'adapter.js',
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    minify: true,
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'eof',
    sourcemap: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'error',
  });
  process.stdout.write(result.outputFiles[0].contents);
});
