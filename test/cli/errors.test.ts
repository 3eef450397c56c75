import { test } from 'node:test';
import assert from 'node:assert/strict';
import createDebug from 'debug';
import Database from 'better-sqlite3';
import { BugError, CryptoError, DataError, LoreError, StoreError, failureKind, toLoreError } from '../../src/errors.js';
import { makeEnv, memorySink } from '../../src/env.js';
import { runCli } from '../../src/cli/main.js';
import { Machine } from '../helpers/machine.js';

/** The error family says what happened: the data's fault, the environment's, or a bug of ours. */

test('toLoreError: a programming error is a bug; a system or SQLite error is not; LoreErrors pass through', () => {
  const bug = toLoreError(new TypeError("Cannot read properties of undefined (reading 'x')"));
  assert.ok(bug instanceof BugError);
  assert.match(bug.message, /a bug in git-lore/);
  assert.match(bug.hint ?? '', /DEBUG=lore:\*/);
  const disk = toLoreError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
  assert.ok(!(disk instanceof BugError) && disk instanceof LoreError);
  const db = new Database(':memory:');
  let sqlite: unknown;
  try {
    db.prepare('SELECT * FROM missing').all();
  } catch (err) {
    sqlite = err;
  }
  db.close();
  assert.ok(toLoreError(sqlite) instanceof StoreError, 'a SqliteError is the store\'s');
  const auth = new CryptoError('authentication failed');
  assert.equal(toLoreError(auth), auth);
});

test('failureKind tells authentication, malformed data and bugs apart', () => {
  assert.equal(failureKind(new CryptoError('x')), 'authentication');
  assert.equal(failureKind(new DataError('x')), 'malformed');
  assert.equal(failureKind(toLoreError(new RangeError('x'))), 'bug');
  assert.equal(failureKind(new StoreError('x')), 'other');
});

test('a bug reaching the CLI is reported as a bug, and DEBUG=lore:* shows its stack', async () => {
  const m = new Machine('bug');
  // An output that breaks like a bug would: the command's first write throws a TypeError.
  const stdout = { isTTY: false, write: (): void => { throw new TypeError('boom in a formatter'); } };
  const stderr = memorySink();
  const lines: string[] = [];
  // src/log.ts writes every debug line to process.stderr: catch them there.
  const realWrite = process.stderr.write;
  const enabled = createDebug.disable();
  process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
  createDebug.enable('lore');
  try {
    const code = await runCli(['sessions', '--all', '--json'], makeEnv({ cwd: m.home, vars: m.vars, stdout, stderr }));
    assert.equal(code, 1);
  } finally {
    process.stderr.write = realWrite;
    createDebug.disable();
    if (enabled) createDebug.enable(enabled);
  }
  assert.match(stderr.text(), /git-lore: internal error \(a bug in git-lore\): boom in a formatter/);
  assert.match(stderr.text(), /hint: .*DEBUG=lore:\*/);
  assert.doesNotMatch(stderr.text(), /tamper|authentication/);
  assert.ok(lines.some((l) => /TypeError: boom in a formatter\n\s+at /.test(l)), `the debug log has the stack: ${lines.join('\n')}`);
});
