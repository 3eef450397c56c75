import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createDescriptor, parseDescriptor, serializeDescriptor, unlock, type Descriptor } from '../../src/format/descriptor.js';
import { epochKeys, passphraseSlot, publicKeySlot, rotate, unlockWithPassphrase, verifyDescriptor, withSlots } from '../../src/format/slots.js';
import { newIdentity, unwrapWithIdentity } from '../../src/crypto/age-wrap.js';
import { MAX_KDF } from '../../src/crypto/primitives.js';

const meta = { label: 'x', addedBy: 't', addedAt: '2026-01-01T00:00Z' };
const PASS = 'correct horse battery staple';

test('slots: add an age slot, rotate twice; history gives every epoch; the removed slot cannot open the new key', async () => {
  const { descriptor: d0, dataKey: k0 } = await createDescriptor(PASS);
  const a = await newIdentity();
  const gone = await newIdentity();
  const sa = await publicKeySlot(d0.slots, k0, { age: a.recipient }, { ...meta, label: 'a' });
  const sg = await publicKeySlot([...d0.slots, sa], k0, { age: gone.recipient }, { ...meta, label: 'gone' });
  const d1 = withSlots(d0, k0, [...d0.slots, sa, sg]);
  assert.equal(d1.version, 3);
  parseDescriptor(serializeDescriptor(d1));
  assert.deepEqual(epochKeys(d1, k0), [k0]);
  assert.deepEqual(await unwrapWithIdentity(sg.wrapped, gone.identity, 't'), k0);

  // A rotation needs the format-2 passphrase slot upgraded: do it with the passphrase.
  const { kek } = await unlockWithPassphrase(d1, PASS);
  const up = await passphraseSlot(d1.storeId, [], k0, null, meta, { id: d1.slots[0]!.id, kdf: d1.slots[0]!.kdf!, kek });
  const { descriptor: d2, key: k1 } = await rotate(d1, [k0], [up.slot, sa]);
  parseDescriptor(serializeDescriptor(d2));
  assert.equal(d2.epoch, 1);
  assert.deepEqual(epochKeys(d2, k1), [k0, k1]);
  assert.deepEqual(await unwrapWithIdentity(d2.slots[1]!.wrapped, a.identity, 't'), k1);
  await assert.rejects(unwrapWithIdentity(d2.slots[1]!.wrapped, gone.identity, 't'), /does not open/);
  assert.ok(!serializeDescriptor(d2).includes(gone.recipient), 'the removed slot is gone');
  assert.throws(() => verifyDescriptor(d2, k0), /does not match its key/, 'the old key does not pass the new descriptor');
  // The same passphrase still opens the upgraded slot, now to the new key.
  assert.deepEqual((await unlockWithPassphrase(d2, PASS)).key, k1);
  const { descriptor: d3, key: k2 } = await rotate(d2, [k0, k1], d2.slots);
  assert.deepEqual(epochKeys(d3, k2), [k0, k1, k2]);
});

test('slots: the MAC refuses an added, removed, reordered or edited slot', async () => {
  const { descriptor: d0, dataKey: k0 } = await createDescriptor(PASS);
  const a = await newIdentity();
  const evil = await newIdentity();
  const d1 = withSlots(d0, k0, [...d0.slots, await publicKeySlot(d0.slots, k0, { age: a.recipient }, meta)]);
  verifyDescriptor(d1, k0);
  const edits: Array<(d: Descriptor) => void> = [
    (d) => (d.slots[1]!.recipient = evil.recipient),
    (d) => (d.slots[1]!.label = 'other'),
    (d) => d.slots.reverse(),
    (d) => d.slots.pop(),
    (d) => d.slots.push({ ...d.slots[1]!, id: '0badc0de' }),
    (d) => (d.epoch = 1),
  ];
  for (const edit of edits) {
    const d = JSON.parse(JSON.stringify(d1)) as Descriptor;
    edit(d);
    assert.throws(() => verifyDescriptor(d, k0), /changed by someone without the store's key|does not match/, edit.toString());
  }
});

test('slots: caps are checked before any derivation (junk slots cost nothing)', async () => {
  const { descriptor: d } = await createDescriptor(PASS);
  const junk = (memory: number) => ({ ...d.slots[0]!, id: crypto.randomBytes(4).toString('hex'), kdf: { ...d.slots[0]!.kdf!, memory } });
  const nine = { ...d, slots: Array.from({ length: 9 }, () => junk(65536)) };
  assert.throws(() => parseDescriptor(serializeDescriptor(nine)), /more than 8 passphrase slots/);
  // The good slot first, then one that asks for 4 GiB: refused at once, nothing derived (not even the good one).
  const heavy = { ...d, slots: [d.slots[0]!, junk(MAX_KDF.memory * 16)] };
  const t = performance.now();
  await assert.rejects(unlock(heavy, PASS), /weaker than git-lore accepts \(or malformed ones\)/);
  await assert.rejects(unlockWithPassphrase(heavy, PASS), /weaker than git-lore accepts/);
  assert.ok(performance.now() - t < 100, 'no Argon2 ran');
});

test('descriptor version 3: malformed slots are refused by the parser', async () => {
  const { descriptor: d0, dataKey: k0 } = await createDescriptor(PASS);
  const a = await newIdentity();
  const d1 = withSlots(d0, k0, [...d0.slots, await publicKeySlot(d0.slots, k0, { age: a.recipient }, meta)]);
  const bad: Array<[(d: Descriptor) => void, RegExp]> = [
    [(d) => (d.slots[1]!.kind = 'rsa' as never), /unknown kind/],
    [(d) => (d.slots[1]!.recipient = 'age1nope'), /age slot .* is malformed/],
    [(d) => delete d.slotsMac, /no slot authentication/],
    [(d) => (d.epoch = 1), /key history/],
    [(d) => (d.slots[1]!.id = d.slots[0]!.id), /repeated slot id/],
  ];
  for (const [edit, re] of bad) {
    const d = JSON.parse(JSON.stringify(d1)) as Descriptor;
    edit(d);
    assert.throws(() => parseDescriptor(serializeDescriptor(d)), re);
  }
});
