import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { CHUNK_MAX_BLOB, CHUNK_MAX_BYTES, chunkId, chunkKeys, openChunk, sealChunk } from '../../src/format/chunk.js';
import { bucket } from '../../src/format/frame.js';
import { CryptoError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';

const dataKey = crypto.createHash('sha256').update('chunk test key').digest();
const keys = chunkKeys(dataKey);
const store = 'a1'.repeat(16);
const otherStore = 'b2'.repeat(16);
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest();
const jsonl = Buffer.from(Array.from({ length: 400 }, (_, i) => JSON.stringify({ type: 'user', uuid: `u-${i}`, message: `line ${i}` })).join('\n') + '\n');
const randomData = (n: number, seed: number) => {
  const r = rng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
};

const failsWith = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CryptoError && re.test(e.message), String(re));

test('chunk round trip: small, compressible, incompressible, 256 KiB; blob layout and size bound', () => {
  for (const data of [Buffer.from('x'), jsonl, randomData(5000, 1), randomData(CHUNK_MAX_BYTES, 2), Buffer.alloc(CHUNK_MAX_BYTES, 'a')]) {
    const { cid, blob } = sealChunk(keys, store, data);
    assert.match(cid, /^[0-9a-f]{64}$/);
    assert.equal(cid, chunkId(keys.id, sha(data)));
    assert.equal(cid, crypto.createHmac('sha256', keys.id).update(sha(data)).digest('hex'), 'HMAC over the raw SHA-256');
    assert.deepEqual(blob.subarray(0, 10), Buffer.from([0x4c, 0x4f, 0x52, 0x45, 2, 0x43, 0, 0, 0, 0]));
    assert.ok(blob.length <= CHUNK_MAX_BLOB);
    assert.equal((blob.length - 38) % 64, 0, 'the ciphertext is a bucket size');
    assert.deepEqual(openChunk(keys, store, cid, blob, data.length), data);
  }
  assert.equal(CHUNK_MAX_BLOB, 10 + 12 + bucket(5 + 262144) + 16);
  assert.throws(() => sealChunk(keys, store, Buffer.alloc(0)), RangeError);
  assert.throws(() => sealChunk(keys, store, Buffer.alloc(CHUNK_MAX_BYTES + 1)), RangeError);
});

test('chunk determinism: same data, same store -> byte-identical blob; different data -> different nonce', () => {
  const a = sealChunk(keys, store, jsonl);
  const again = sealChunk(chunkKeys(Buffer.from(dataKey)), store, Buffer.from(jsonl));
  assert.deepEqual(again.blob, a.blob);
  const nonceOf = (blob: Buffer) => blob.subarray(10, 22).toString('hex');
  const expectedNonce = crypto.createHmac('sha256', keys.nonce).update(a.cid, 'ascii')
    .update(crypto.createDecipheriv('aes-256-gcm', keys.enc, a.blob.subarray(10, 22)).update(a.blob.subarray(22, a.blob.length - 16))).digest().subarray(0, 12);
  assert.equal(nonceOf(a.blob), expectedNonce.toString('hex'), 'nonce = HMAC(K_chunk-nonce, cid || P)[0:12]');
  const nonces = new Set<string>();
  for (let i = 0; i < 200; i++) nonces.add(nonceOf(sealChunk(keys, store, Buffer.from(`data ${i}`)).blob));
  assert.equal(nonces.size, 200);
  const b = sealChunk(keys, store, Buffer.concat([jsonl, Buffer.from('x')]));
  assert.notEqual(b.cid, a.cid);
  assert.notEqual(nonceOf(b.blob), nonceOf(a.blob));
  // Another store with the same key: same id (the id is keyed by the data key only), different blob.
  const c = sealChunk(keys, otherStore, jsonl);
  assert.equal(c.cid, a.cid);
  assert.notDeepEqual(c.blob, a.blob);
  // Another data key: another id.
  assert.notEqual(sealChunk(chunkKeys(crypto.randomBytes(32)), store, jsonl).cid, a.cid);
});

test('chunk tampering: every flipped bit, truncation, another store, another path, wrong kind/epoch/format, wrong length', () => {
  const data = randomData(700, 3);
  const { cid, blob } = sealChunk(keys, store, data);
  for (let i = 0; i < blob.length; i++) {
    for (const bit of [0, 7]) {
      const t = Buffer.from(blob);
      t[i]! ^= 1 << bit;
      assert.throws(() => openChunk(keys, store, cid, t, data.length), CryptoError, `bit ${bit} of byte ${i}`);
    }
  }
  for (const n of [0, 9, 10, 37, 38, blob.length - 16, blob.length - 1]) failsWith(() => openChunk(keys, store, cid, blob.subarray(0, n), data.length), new RegExp(`chunk ${cid}`));
  failsWith(() => openChunk(keys, store, cid, Buffer.concat([blob, Buffer.alloc(1)]), data.length), /authentication failed/);
  failsWith(() => openChunk(keys, otherStore, cid, blob, data.length), /authentication failed/);
  const other = sealChunk(keys, store, randomData(700, 4));
  failsWith(() => openChunk(keys, store, other.cid, blob, data.length), /authentication failed/);
  failsWith(() => openChunk(chunkKeys(crypto.randomBytes(32)), store, cid, blob, data.length), /authentication failed/);
  const kind = Buffer.from(blob);
  kind[5] = 0x49;
  failsWith(() => openChunk(keys, store, cid, kind, data.length), /kind 0x49, not a chunk/);
  const epoch = Buffer.from(blob);
  epoch.writeUInt32BE(1, 6);
  failsWith(() => openChunk(keys, store, cid, epoch, data.length, 'session abcd-12'), /^session abcd-12: chunk [0-9a-f]{64}: sealed under key epoch 1, expected 0/);
  const format = Buffer.from(blob);
  format[4] = 1;
  failsWith(() => openChunk(keys, store, cid, format, data.length), /format 1 is not supported/);
  const magic = Buffer.from(blob);
  magic[0] = 0x6c;
  failsWith(() => openChunk(keys, store, cid, magic, data.length), /bad magic/);
  failsWith(() => openChunk(keys, store, cid, blob, data.length + 1), /the data is 700 bytes, the index says 701/);
  failsWith(() => openChunk(keys, store, cid, blob, 0), /outside 1\.\.262144/);
  failsWith(() => openChunk(keys, store, 'A'.repeat(64), blob, data.length), /is not a chunk id/);
  failsWith(() => openChunk(keys, store, cid, Buffer.alloc(CHUNK_MAX_BLOB + 1), 1), /more than a chunk can be/);
});

test('a chunk sealed under the right key and AAD whose data does not match its cid is refused', () => {
  // What a member holding the key could write: valid encryption, wrong id.
  const data = Buffer.from('the real data');
  const { cid } = sealChunk(keys, store, Buffer.from('some other data'));
  const forged = sealChunk(keys, store, data).blob;
  // Re-encrypt the forged chunk's plaintext under the other cid's AAD.
  const p = crypto.createDecipheriv('aes-256-gcm', keys.enc, forged.subarray(10, 22)).update(forged.subarray(22, forged.length - 16));
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', keys.enc, nonce);
  c.setAAD(Buffer.from(`git-lore/2 chunk\0${store}\0${cid}`, 'ascii'));
  const body = Buffer.concat([c.update(p), c.final()]);
  const blob = Buffer.concat([forged.subarray(0, 10), nonce, body, c.getAuthTag()]);
  failsWith(() => openChunk(keys, store, cid, blob, data.length), /does not match its id/);
});
