import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from '../helpers/machine.js';
import { ok } from '../helpers/repos.js';
import { MODEL, attributedRepo } from '../helpers/attributed.js';

// ajv is CommonJS with `export default`-less typings under NodeNext: load it the CommonJS way.
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
const addFormats = require('ajv-formats').default as (ajv: object) => void;

const SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/agent-trace/trace-record.schema.json'), 'utf8')) as Record<string, unknown>;

/** The schema with `additionalProperties: false` on every object that lists its properties (as the spec's generated schema has). */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const o = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, strict(v)]));
  // metadata is open by design ("vendor-specific data").
  if (o.type === 'object' && o.properties && !String(o.description ?? '').startsWith('Additional metadata')) o.additionalProperties ??= false;
  return o;
}

function validator(schema: object) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

test('git lore log --format agent-trace: records valid against the spec\'s schema (and its strict form), with ai and human ranges', async () => {
  const { m, repo, id, personCommit, sessionCommit } = attributedRepo('trace');
  const r = await ok(m.lore(['log', '--format', 'agent-trace', `${personCommit}~..HEAD`], { cwd: repo }));
  const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(records.length, 2);
  const loose = validator(SCHEMA);
  const tight = validator(strict(SCHEMA) as object);
  for (const rec of records) {
    assert.ok(loose(rec), JSON.stringify(loose.errors));
    assert.ok(tight(rec), JSON.stringify(tight.errors));
  }
  const [work, first] = records;
  assert.equal(work.version, '0.1.0');
  assert.deepEqual(work.vcs, { type: 'git', revision: sessionCommit });
  assert.equal(work.timestamp, '2026-03-01T11:05:00.000Z');
  assert.deepEqual(work.files, [{
    path: 'calc.js',
    conversations: [{ url: `urn:git-lore:session:${id}`, contributor: { type: 'ai', model_id: `anthropic/${MODEL}` }, ranges: [{ start_line: 3, end_line: 4 }] }],
  }]);
  assert.deepEqual(first.vcs.revision, personCommit);
  assert.deepEqual(first.files[0].conversations, [{ contributor: { type: 'human' }, ranges: [{ start_line: 1, end_line: 2 }] }]);
  const again = await ok(m.lore(['log', '--format', 'agent-trace', `${personCommit}~..HEAD`], { cwd: repo }));
  assert.equal(again.stdout, r.stdout, 'the same export twice: the same records, ids included');

  // The check can fail: a record with an invented field, or a version that is not X.Y.Z, is refused.
  assert.equal(tight({ ...work, files: [{ ...work.files[0], lines: 2 }] }), false);
  assert.equal(loose({ ...work, version: '0.1' }), false);
  assert.equal((await m.lore(['log', '--format', 'otel'], { cwd: repo })).code, 2);
});
