import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { ed25519 } from '@noble/curves/ed25519.js';
import { openAgeFile, x25519ScalarOfEd25519Seed } from '../../src/crypto/age-file.js';
import { identityOfEd25519, recipientOf, recipientOfEd25519, unwrapWithIdentity, wrapToRecipient } from '../../src/crypto/age-wrap.js';
import { bech32 } from '@scure/base';

/** The X25519 scalar of an age identity, as age-encryption decodes it. */
const scalarOf = (identity: string) => Buffer.from(bech32.decodeToBytes(identity.toLowerCase()).bytes);

async function ageEncrypt(plain: Uint8Array, recipients: string[]): Promise<Buffer> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return Buffer.from(await e.encrypt(plain));
}

test('age files written by age-encryption open with node crypto: one or several recipients, payloads of 0 bytes to several STREAM chunks', async () => {
  const ids = await Promise.all([generateX25519Identity(), generateX25519Identity(), generateX25519Identity()]);
  const recipients = await Promise.all(ids.map((i) => identityToRecipient(i)));
  const stranger = await generateX25519Identity();
  for (const size of [0, 32, 1000, 64 * 1024, 64 * 1024 + 1, 150 * 1024]) {
    const plain = crypto.randomBytes(size);
    const file = await ageEncrypt(plain, recipients);
    for (const id of ids) assert.deepEqual(openAgeFile(file, scalarOf(id)), plain, `size ${size}`);
    assert.equal(openAgeFile(file, scalarOf(stranger)), null, 'not a recipient: null, not a key');
  }
});

test('the X25519 scalar of an ssh-ed25519 seed is noble\'s toMontgomerySecret, and an identity\'s recipient is age-encryption\'s', async () => {
  for (let i = 0; i < 20; i++) {
    const seed = crypto.randomBytes(32);
    assert.deepEqual(x25519ScalarOfEd25519Seed(seed), Buffer.from(ed25519.utils.toMontgomerySecret(seed)));
    const identity = await identityOfEd25519(seed);
    assert.equal(await recipientOf(identity), await identityToRecipient(identity));
    assert.equal(await recipientOf(identity), await recipientOfEd25519(ed25519.getPublicKey(seed)));
  }
  await assert.rejects(recipientOf('AGE-SECRET-KEY-1QQQ'), /not an age identity/);
});

test('a key slot wrapped by wrapToRecipient unwraps; every damaged byte of it is refused', async () => {
  const identity = await generateX25519Identity();
  const key = crypto.randomBytes(32);
  const wrapped = await wrapToRecipient(key, await identityToRecipient(identity));
  assert.deepEqual(await unwrapWithIdentity(wrapped, identity, 'slot'), key);
  const file = Buffer.from(wrapped, 'base64');
  // Flip each byte in turn (header lines, stanza body, MAC, nonce, payload): never the key back.
  for (let i = 0; i < file.length; i++) {
    const bad = Buffer.from(file);
    bad[i] ^= 0x01;
    await assert.rejects(unwrapWithIdentity(bad.toString('base64'), identity, 'slot'), /slot: this key does not open it/, `byte ${i}`);
  }
  for (const cut of [0, 10, file.length - 49, file.length - 1]) {
    await assert.rejects(unwrapWithIdentity(file.subarray(0, cut).toString('base64'), identity, 'slot'), /does not open it/, `cut at ${cut}`);
  }
  // 33 bytes instead of a key: refused by size, not returned.
  const long = await ageEncrypt(crypto.randomBytes(33), [await identityToRecipient(identity)]);
  await assert.rejects(unwrapWithIdentity(long.toString('base64'), identity, 'slot'), /holds 33 bytes/);
  // Oversized input is refused before any work.
  assert.throws(() => openAgeFile(Buffer.alloc(300 * 1024), scalarOf(identity)), /at most/);
  // A low-order share (all zeros) is refused, not turned into an all-zero secret.
  const text = file.toString('latin1');
  const share = /-> X25519 (\S+)\n/.exec(text)![1]!;
  const zero = Buffer.from(text.replace(share, Buffer.alloc(32).toString('base64').replace(/=+$/, '')), 'latin1');
  assert.throws(() => openAgeFile(zero, scalarOf(identity)));
});
