#!/usr/bin/env node
// Validates a Forge app folder (the one `lodger export --forge DIR` writes)
// with Atlassian's own code, offline, and prints a JSON report:
//
//   node tools/forge/validate-manifest.js DIR
//
// 1. `@forge/manifest`'s full validation, as `forge deploy` runs it before
//    uploading: `ProcessorBuilder.instance().withValidation(ValidationTypes.FULL)
//    .build().process(DIR/manifest.yml)` (YAML, top-level schema, resources,
//    permissions and scopes, remotes, entity properties, compatibility…),
//    then its product-trigger validation (the scopes each trigger's events
//    need, from the package's own event-to-scope mapping).
// 2. Each module's entries against that package's own module schema,
//    `definitions.ModuleSchema.properties["<module>"]` of
//    `out/schema/manifest-schema.json`, with ajv: the processor's schema step
//    does not apply those (its `ModuleSchema` lists modules without their
//    fields), so a misspelt or missing module field would otherwise pass.
//
// The report: {"manifest", "processor": {"success", "errors": [...]},
// "modules": {"<module>": {"entries", "errors": [...]}}, "errors", "warnings",
// "parsed": the manifest as the `yaml` package read it}.
// `errors` counts every error-level finding of both steps; the exit code is 0
// only when it is 0. Warnings (level "warning") are listed, not counted.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const YAML = require('yaml');
const addFormats = require('ajv-formats');
const { ProcessorBuilder, ValidationTypes } = require('@forge/manifest');

// Not in the package's `exports`: required by file path.
const SCHEMA_PATH = path.join(__dirname, 'node_modules/@forge/manifest/out/schema/manifest-schema.json');

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node validate-manifest.js DIR (the folder holding manifest.yml)');
    process.exit(2);
  }
  const manifestPath = path.resolve(dir, 'manifest.yml');
  // Relative paths in the manifest (resources) resolve against the
  // manifest's folder, as `forge deploy` run inside it would.
  process.chdir(path.dirname(manifestPath));

  const result = await ProcessorBuilder.instance()
    .withValidation(ValidationTypes.FULL)
    .build()
    .process(manifestPath);
  const triggers = await ProcessorBuilder.instance()
    .withValidation(ValidationTypes.PRODUCT_TRIGGER)
    .build()
    .process(manifestPath);
  const findings = [];
  for (const [step, outcome] of [['full', result], ['product-trigger', triggers]]) {
    for (const e of outcome.errors || []) {
      findings.push({ step, level: e.level, message: e.message, line: e.line, column: e.column });
    }
  }

  // The module step reads the file itself, so that it runs even when the
  // processor stopped early (it keeps no parsed manifest after a schema error).
  const modules = {};
  let content = null;
  try {
    content = YAML.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    findings.push({ step: 'modules', level: 'error', message: 'not YAML: ' + error.message });
  }
  if (content && content.modules) {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    ajv.addSchema(schema, 'manifest');
    for (const name of Object.keys(content.modules).sort()) {
      const pointer = 'manifest#/definitions/ModuleSchema/properties/' + escapePointer(name);
      if (!schema.definitions.ModuleSchema.properties[name]) {
        modules[name] = { entries: 0, errors: ['no module schema named ' + name] };
        continue;
      }
      const check = ajv.compile({ $ref: pointer });
      const ok = check(content.modules[name]);
      modules[name] = {
        entries: content.modules[name].length,
        errors: ok ? [] : check.errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`),
      };
    }
  }

  const processorErrors = findings.filter((f) => f.level === 'error').length;
  const moduleErrors = Object.values(modules).reduce((n, m) => n + m.errors.length, 0);
  const report = {
    manifest: manifestPath,
    processor: { success: result.success && triggers.success, errors: findings },
    modules,
    errors: processorErrors + moduleErrors + (allSucceeded(result, triggers) || processorErrors ? 0 : 1),
    warnings: findings.filter((f) => f.level === 'warning').length,
    // What Atlassian's YAML reader made of the file, for the tests to assert on.
    parsed: content,
  };
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.errors === 0 ? 0 : 1);
}

// Both processors said success (an unsuccessful run with no error-level
// finding still counts as one error: it must never pass).
function allSucceeded(...outcomes) {
  return outcomes.every((o) => o.success);
}

// A JSON pointer segment inside a URI fragment: `~` and `/` escaped, then
// percent-encoded (`jira:issuePanel` keeps its colon).
function escapePointer(segment) {
  return encodeURI(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(2);
});
