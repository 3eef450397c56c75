import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  descriptorForKey, FORMAT_V2, FORMAT_VERSION, parseDescriptor, serializeDescriptor, unlock, upgradeDescriptor, verifyKey,
} from '../../src/format/descriptor.js';

// Written by the code of commit 5987297 (before format 2): createDescriptor('correct horse battery
// staple'), its data key alongside. Checked in, never regenerated.
const fixtures = fileURLToPath(new URL('../../../test/format/fixtures/', import.meta.url));
const v1 = fs.readFileSync(`${fixtures}descriptor-v1.json`);
const v1Key = Buffer.from(fs.readFileSync(`${fixtures}descriptor-v1.key`, 'utf8').trim(), 'hex');
const PASS = 'correct horse battery staple';

test('a descriptor written before format 2 still parses, unlocks and verifies, and after upgradeDescriptor too', async () => {
  const d = parseDescriptor(v1);
  assert.equal(d.version, 1);
  assert.deepEqual(await unlock(d, PASS), v1Key);
  verifyKey(d, v1Key);
  const up = upgradeDescriptor(d);
  assert.deepEqual(up, { ...d, version: FORMAT_V2 });
  assert.equal(d.version, 1, 'the original is not changed');
  const reparsed = parseDescriptor(serializeDescriptor(up));
  assert.deepEqual(await unlock(reparsed, PASS), v1Key);
  verifyKey(reparsed, v1Key);
  await assert.rejects(unlock(reparsed, 'wrong passphrase!'), /wrong passphrase/);
});

test('descriptorForKey: the given store id and key, the current format (2), unlockable', async () => {
  const key = Buffer.alloc(32, 9);
  const d = await descriptorForKey('f'.repeat(32), key, PASS);
  assert.equal(d.version, FORMAT_VERSION);
  assert.equal(d.storeId, 'f'.repeat(32));
  assert.deepEqual(await unlock(d, PASS), key);
  await assert.rejects(descriptorForKey('F'.repeat(32), key, PASS), RangeError);
});

test('parseDescriptor: versions 1 to 3 only, 1 MiB, 1 to 64 slots (8 with a passphrase), well-formed fields', () => {
  const d = JSON.parse(v1.toString()) as Record<string, unknown> & { slots: unknown[] };
  const parse = (x: unknown) => parseDescriptor(Buffer.from(JSON.stringify(x)));
  assert.equal(parse({ ...d, version: 2 }).version, 2);
  assert.throws(() => parse({ ...d, version: 4 }), /uses format version 4; this git-lore reads versions 1 to 3/);
  assert.throws(() => parse({ ...d, slots: [] }), /0 key slots/);
  assert.throws(() => parse({ ...d, slots: Array.from({ length: 65 }, () => d.slots[0]) }), /65 key slots \(1 to 64 allowed\)/);
  assert.equal(parse({ ...d, slots: Array.from({ length: 8 }, () => d.slots[0]) }).slots.length, 8);
  assert.throws(() => parse({ ...d, slots: Array.from({ length: 9 }, () => d.slots[0]) }), /more than 8 passphrase slots/);
  assert.throws(() => parse({ ...d, slots: [{ id: 'x' }] }), /malformed key slot/);
  assert.throws(() => parse({ ...d, slots: [null] }), /malformed key slot/);
  assert.throws(() => parse({ ...d, storeId: 'x' }), /malformed/);
  assert.throws(() => parse({ ...d, keyCheck: 'nothex' }), /malformed/);
  assert.throws(() => parse({ ...d, format: 'other' }), /malformed/);
  assert.throws(() => parse(null), /malformed/);
  assert.throws(() => parseDescriptor(Buffer.from('{')), /not valid JSON/);
  const big = Buffer.concat([Buffer.from(JSON.stringify({ ...d, pad: '' }).slice(0, -2)), Buffer.alloc(1024 * 1024, 0x20), Buffer.from('"}')]);
  assert.throws(() => parseDescriptor(big), /more than 1048576/);
});
