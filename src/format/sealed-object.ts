import { CryptoError } from '../errors.js';

/**
 * The 10-byte header of a format-2 sealed object (docs/FORMAT.md, "Sealed objects"):
 * "LORE" || 0x02 || kind || epoch (4, big-endian), followed by nonce (12) || ciphertext || tag (16).
 */

const MAGIC = Buffer.from('LORE', 'latin1');
/** The format byte of format-2 sealed objects. */
export const SEALED_FORMAT = 2;
export const SEALED_HEADER_BYTES = 10;
/** nonce (12) + tag (16). */
export const SEAL_OVERHEAD_BYTES = 28;
/** The store's first key epoch; each key rotation adds one (docs/FORMAT.md, "Key slots and epochs"). */
export const EPOCH = 0;
/** The largest epoch a reader accepts in a header. */
export const MAX_EPOCH = 1_000_000;

/** Kind byte of a chunk ('C') or a session index ('I'). */
export type SealedKind = 'C' | 'I';

/** The header of a sealed object of this kind and key epoch. */
export function sealedHeader(kind: SealedKind, epoch = EPOCH): Buffer {
  const h = Buffer.alloc(SEALED_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[4] = SEALED_FORMAT;
  h[5] = kind.charCodeAt(0);
  h.writeUInt32BE(epoch, 6);
  return h;
}

/** The key epoch a sealed object's header names (no other check): which key opens it. */
export function sealedEpoch(blob: Buffer): number {
  return blob.length >= SEALED_HEADER_BYTES ? blob.readUInt32BE(6) : EPOCH;
}

/**
 * Checks the header of `blob` (magic, format 2, this kind, this epoch) and returns what follows it
 * (nonce || ciphertext || tag). Throws CryptoError whose message starts with `what`.
 */
export function stripSealedHeader(blob: Buffer, kind: SealedKind, what: string, expectedEpoch = EPOCH): Buffer {
  if (blob.length < SEALED_HEADER_BYTES + SEAL_OVERHEAD_BYTES) throw new CryptoError(`${what}: ${blob.length} bytes, too short to be a sealed object`);
  if (!blob.subarray(0, 4).equals(MAGIC)) throw new CryptoError(`${what}: not a git-lore sealed object (bad magic)`);
  if (blob[4] !== SEALED_FORMAT) throw new CryptoError(`${what}: sealed-object format ${blob[4]} is not supported (expected ${SEALED_FORMAT})`);
  const k = String.fromCharCode(blob[5]!);
  if (k !== kind) throw new CryptoError(`${what}: the object is of kind 0x${blob[5]!.toString(16).padStart(2, '0')}, not ${kind === 'C' ? "a chunk ('C')" : "an index ('I')"}`);
  const epoch = blob.readUInt32BE(6);
  if (epoch !== expectedEpoch) throw new CryptoError(`${what}: sealed under key epoch ${epoch}, expected ${expectedEpoch}`, { hint: 'Run `git lore sync` to pick up the store\'s current keys.' });
  return blob.subarray(SEALED_HEADER_BYTES);
}
