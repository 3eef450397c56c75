import crypto from 'node:crypto';
import { CryptoError } from '../errors.js';
import { open, sameHex, sealWithNonce, subkey } from '../crypto/primitives.js';
import { bucket, frame, FRAME_HEADER_BYTES, unframe } from './frame.js';
import { SEAL_OVERHEAD_BYTES, SEALED_HEADER_BYTES, sealedHeader, stripSealedHeader } from './sealed-object.js';

/**
 * Format-2 chunks (docs/FORMAT.md, "A chunk"): a run of 1 byte to 256 KiB of one native file,
 * sealed under the chunk subkey with a nonce derived from the plaintext (SIV-style), stored at
 * chunks/<cid[0:2]>/<cid> where cid is a keyed id of the data.
 */

/** The largest chunk: 256 KiB. */
export const CHUNK_MAX_BYTES = 262144;
/** The largest blob a well-formed chunk can be; callers refuse bigger blobs before reading them. */
export const CHUNK_MAX_BLOB = SEALED_HEADER_BYTES + SEAL_OVERHEAD_BYTES + bucket(FRAME_HEADER_BYTES + CHUNK_MAX_BYTES);
/** A chunk id: 64 lowercase hex. */
export const CID_PATTERN = /^[0-9a-f]{64}$/;

/** The three subkeys chunks use; derive them once per store (HKDF per chunk would be wasted work). */
export interface ChunkKeys {
  /** K_chunk-id: keys chunk ids. */
  readonly id: Buffer;
  /** K_chunk: encrypts chunks. */
  readonly enc: Buffer;
  /** K_chunk-nonce: derives chunk nonces. */
  readonly nonce: Buffer;
}

/** The chunk subkeys of a data key. */
export function chunkKeys(dataKey: Buffer): ChunkKeys {
  return { id: subkey(dataKey, 'chunk-id'), enc: subkey(dataKey, 'chunk'), nonce: subkey(dataKey, 'chunk-nonce') };
}

/** cid = hex(HMAC-SHA256(K_chunk-id, SHA-256(data))), over the 32 raw bytes of the SHA-256. */
export function chunkId(idKey: Buffer, sha256OfData: Buffer): string {
  if (sha256OfData.length !== 32) throw new RangeError(`chunkId: expected the 32-byte SHA-256 of the data, got ${sha256OfData.length} bytes`);
  return crypto.createHmac('sha256', idKey).update(sha256OfData).digest('hex');
}

const chunkAad = (storeId: string, cid: string) => Buffer.from(`git-lore/2 chunk\0${storeId}\0${cid}`, 'ascii');
const chunkNonce = (nonceKey: Buffer, cid: string, p: Buffer) =>
  crypto.createHmac('sha256', nonceKey).update(cid, 'ascii').update(p).digest().subarray(0, 12);

function checkStoreId(storeId: string): void {
  if (!/^[0-9a-f]{32}$/.test(storeId)) throw new RangeError(`not a store id: ${JSON.stringify(storeId)}`);
}

/**
 * Seals one chunk. Deterministic: the same data in the same store always gives the same cid and
 * the same blob (compressed with raw DEFLATE level 6 when that is smaller).
 */
export function sealChunk(keys: ChunkKeys, storeId: string, data: Buffer, epoch = 0): { cid: string; blob: Buffer } {
  checkStoreId(storeId);
  if (data.length < 1 || data.length > CHUNK_MAX_BYTES) throw new RangeError(`sealChunk: a chunk holds 1 to ${CHUNK_MAX_BYTES} bytes, not ${data.length}`);
  const cid = chunkId(keys.id, crypto.createHash('sha256').update(data).digest());
  const p = frame(data, { compress: true });
  const sealed = sealWithNonce(keys.enc, chunkNonce(keys.nonce, cid, p), p, chunkAad(storeId, cid));
  return { cid, blob: Buffer.concat([sealedHeader('C', epoch), sealed]) };
}

/**
 * Opens the chunk stored at `cid`'s path and returns its data, after checking the header (kind 'C',
 * `epoch`, the epoch of the index that names it and of `keys`), authentication (bound to the store and the cid), the framing, that the data's keyed id
 * is `cid`, and that it is `expectedLength` bytes (the length the index states).
 * Throws CryptoError; `context` (say, "session <id>") starts its message.
 */
export function openChunk(keys: ChunkKeys, storeId: string, cid: string, blob: Buffer, expectedLength: number, context?: string, epoch = 0): Buffer {
  const what = `${context ? `${context}: ` : ''}chunk ${cid}`;
  if (!CID_PATTERN.test(cid)) throw new CryptoError(`${context ? `${context}: ` : ''}${JSON.stringify(cid)} is not a chunk id`);
  checkStoreId(storeId);
  if (!Number.isInteger(expectedLength) || expectedLength < 1 || expectedLength > CHUNK_MAX_BYTES) {
    throw new CryptoError(`${what}: the index states a length of ${expectedLength}, outside 1..${CHUNK_MAX_BYTES}`);
  }
  if (blob.length > CHUNK_MAX_BLOB) throw new CryptoError(`${what}: the blob is ${blob.length} bytes, more than a chunk can be (${CHUNK_MAX_BLOB})`);
  const sealed = stripSealedHeader(blob, 'C', what, epoch);
  const p = open(keys.enc, sealed, chunkAad(storeId, cid), what);
  const data = unframe(p, CHUNK_MAX_BYTES, what);
  if (!sameHex(chunkId(keys.id, crypto.createHash('sha256').update(data).digest()), cid)) {
    throw new CryptoError(`${what}: the data does not match its id`);
  }
  if (data.length !== expectedLength) throw new CryptoError(`${what}: the data is ${data.length} bytes, the index says ${expectedLength}`);
  return data;
}
