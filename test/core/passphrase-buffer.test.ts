import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, tmpdir } from '../helpers/machine.js';
import { bareRemote, cloneOn } from '../helpers/repos.js';
import { HiddenLine, MAX_SECRET_BYTES } from '../../src/cli/process-env.js';
import { readPassphrase } from '../../src/core/passphrase.js';
import { LoreContext } from '../../src/core/context.js';
import { setupStore } from '../../src/core/sync/setup.js';
import type { Env } from '../../src/env.js';

const PASS = 'correct horse battery staple';
const zeroed = (b: Buffer) => b.every((x) => x === 0);

test('the hidden line editor works on bytes: multi-byte characters, growth, a cap, and take() wipes what it held', () => {
  const l = new HiddenLine();
  for (const k of 'pässwö\x7frd') l.key(k);
  assert.equal(l.value, 'pässwrd', 'Backspace removes a whole character, not one byte of it');
  const got = l.take();
  assert.deepEqual(got, Buffer.from('pässwrd', 'utf8'));
  assert.equal(l.value, '', 'nothing left in the editor');
  assert.ok(zeroed((l as unknown as { buf: Buffer }).buf), 'the editor\'s own buffer is zeroed, not just emptied');
  const long = new HiddenLine();
  for (let i = 0; i < 1000; i++) long.keyByte(0x61 + (i % 26));
  assert.equal(long.value.length, 1000, 'grows past its first buffer');
  for (let i = 0; i < MAX_SECRET_BYTES; i++) long.keyByte(0x61);
  assert.equal(long.take().length, MAX_SECRET_BYTES, 'capped');
  const w = new HiddenLine();
  for (const k of 'ünïcode wörds\x17x\r') w.key(k);
  assert.equal(w.value, 'ünïcode x');
});

test('readPassphrase hands over bytes: the terminal\'s Buffer itself (never a string), a file\'s bytes without the newline; a pair that differs is zeroed', async () => {
  const dir = tmpdir();
  const handed: Buffer[] = [];
  const typed = ['first try', 'first trx', PASS, PASS];
  const env = (vars: Record<string, string> = {}): Env => ({
    cwd: dir, vars, stdout: { write: () => undefined, isTTY: false }, stderr: { write: () => undefined, isTTY: false }, stdinIsTTY: true, now: () => new Date(),
    promptSecret: async () => {
      const b = Buffer.from(typed.shift()!, 'utf8');
      handed.push(b);
      return b;
    },
  });
  const got = await readPassphrase(env(), { confirm: true, purpose: 'test' });
  assert.equal(got, handed[2], 'the very Buffer the terminal filled');
  assert.deepEqual(got, Buffer.from(PASS));
  assert.ok(zeroed(handed[0]!) && zeroed(handed[1]!), 'the pair that differed was wiped');
  assert.ok(zeroed(handed[3]!), 'the confirmation copy was wiped');
  fs.writeFileSync(path.join(dir, 'p'), `${PASS}\r\n`);
  assert.deepEqual(await readPassphrase(env({ LORE_PASSPHRASE_FILE: 'p' }), { confirm: false, purpose: 'test' }), Buffer.from(PASS));
  assert.ok(Buffer.isBuffer(await readPassphrase(env({ LORE_PASSPHRASE: PASS }), { confirm: false, purpose: 'test' })));
});

test('setup zeroes the typed passphrase once it derived the key: creating a store and joining it', { timeout: 120_000 }, async () => {
  const a = new Machine('pba');
  const b = new Machine('pbb');
  const bare = bareRemote(a);
  const handed: Buffer[] = [];
  const ctxOn = (m: Machine, repo: string) => {
    const base = m.env(repo);
    return new LoreContext({
      ...base, stdinIsTTY: true,
      promptSecret: async () => {
        const buf = Buffer.from(PASS, 'utf8');
        handed.push(buf);
        return buf;
      },
    });
  };
  const ca = ctxOn(a, cloneOn(a, bare));
  try {
    assert.equal((await setupStore(ca, {})).action, 'created');
  } finally {
    ca.close();
  }
  const cb = ctxOn(b, cloneOn(b, bare));
  try {
    assert.equal((await setupStore(cb, {})).action, 'joined');
  } finally {
    cb.close();
  }
  assert.equal(handed.length, 3, 'asked twice to create, once to join');
  for (const buf of handed) assert.ok(zeroed(buf), 'every passphrase buffer is zero after setup');
});
