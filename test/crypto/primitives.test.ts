import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { open, seal, sealWithNonce } from '../../src/crypto/primitives.js';
import { CryptoError } from '../../src/errors.js';

/** AES-256-GCM framing of src/crypto/primitives.ts: nonce || ciphertext || tag, and what open refuses. */
const key = crypto.randomBytes(32);
const aad = Buffer.from('git-lore/test');
const plain = Buffer.from('the reasoning behind a line of code');
const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CryptoError && re.test(e.message));

test('seal/open: round trip, layout, and a fresh nonce per seal', () => {
  const sealed = seal(key, plain, aad);
  assert.equal(sealed.length, 12 + plain.length + 16);
  assert.deepEqual(open(key, sealed, aad, 'x'), plain);
  const nonces = new Set(Array.from({ length: 1000 }, () => seal(key, plain, aad).subarray(0, 12).toString('hex')));
  assert.equal(nonces.size, 1000, 'no nonce repeats');
});

test('open refuses every flipped bit, every truncation, an extension, another key and other associated data', () => {
  const sealed = seal(key, plain, aad);
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const t = Buffer.from(sealed);
    t[bit >> 3]! ^= 1 << (bit & 7);
    refused(() => open(key, t, aad, 'obj'), /^obj: authentication failed/);
  }
  for (let n = 0; n < sealed.length; n++) refused(() => open(key, sealed.subarray(0, n), aad, 'obj'), n < 28 ? /^obj: too short/ : /^obj: authentication failed/);
  refused(() => open(key, Buffer.concat([sealed, Buffer.from([0])]), aad, 'obj'), /authentication failed/);
  refused(() => open(crypto.randomBytes(32), sealed, aad, 'obj'), /authentication failed/);
  refused(() => open(key, sealed, Buffer.from('git-lore/other'), 'obj'), /authentication failed/);
});

test('sealWithNonce: deterministic for one nonce, opened by open, 12-byte nonces only', () => {
  const nonce = crypto.randomBytes(12);
  const a = sealWithNonce(key, nonce, plain, aad);
  assert.deepEqual(a, sealWithNonce(key, nonce, plain, aad));
  assert.deepEqual(a.subarray(0, 12), nonce);
  assert.deepEqual(open(key, a, aad, 'x'), plain);
  refused(() => sealWithNonce(key, crypto.randomBytes(16), plain, aad), /12 bytes/);
});
