import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { CryptoError } from '../errors.js';

/** Argon2id parameters as stored in the store descriptor. */
export interface KdfParams {
  name: 'argon2id';
  /** base64, 16 random bytes */
  salt: string;
  /** KiB */
  memory: number;
  iterations: number;
  parallelism: number;
}

/** The parameters new key slots get: 64 MiB, 3 passes, 1 lane (about 0.2 s here). */
export const DEFAULT_KDF = { memory: 65536, iterations: 3, parallelism: 1 } as const;
/** The weakest parameters a descriptor may name; anything weaker is refused as tampered. */
export const MIN_KDF = { memory: 19456, iterations: 2, parallelism: 1 } as const;
/**
 * The strongest parameters a descriptor may name: 256 MiB, 8 passes, 4 lanes (about 2 s here). Checked for every
 * slot before any derivation, so junk slots cannot make a join take minutes and gigabytes.
 */
export const MAX_KDF = { memory: 256 * 1024, iterations: 8, parallelism: 4 } as const;

export function newKdfParams(): KdfParams {
  return { name: 'argon2id', salt: crypto.randomBytes(16).toString('base64'), ...DEFAULT_KDF };
}

/** Refuses KDF parameters that are weaker than MIN_KDF or absurdly large (a denial of service). */
export function checkKdfParams(p: KdfParams): void {
  const ok =
    p && p.name === 'argon2id' && typeof p.salt === 'string' && Buffer.from(p.salt, 'base64').length >= 16 &&
    Number.isInteger(p.memory) && p.memory >= MIN_KDF.memory && p.memory <= MAX_KDF.memory &&
    Number.isInteger(p.iterations) && p.iterations >= MIN_KDF.iterations && p.iterations <= MAX_KDF.iterations &&
    Number.isInteger(p.parallelism) && p.parallelism >= MIN_KDF.parallelism && p.parallelism <= MAX_KDF.parallelism;
  if (!ok) {
    throw new CryptoError('the store descriptor names key-derivation parameters weaker than git-lore accepts (or malformed ones): refusing to use it', {
      hint: 'Someone may have tampered with refs/lore/sessions on the remote; see docs/SECURITY.md.',
    });
  }
}

/**
 * passphrase -> 256-bit key with Argon2id. A Buffer passphrase is used as it is (its owner zeroes
 * it once every derivation is done); a string is copied into a buffer zeroed here.
 */
export async function deriveKey(passphrase: string | Uint8Array, p: KdfParams): Promise<Buffer> {
  checkKdfParams(p);
  // Loaded on first use: only setup and joins derive keys, and the native module costs start-up time.
  // (required, not imported: the bundles run as CommonJS, where a dynamic import has no loader)
  const argon2 = createRequire(import.meta.url)('argon2') as typeof import('argon2');
  // The passphrase goes to the KDF as a buffer that is zeroed once it is done (a JS string cannot
  // be wiped; this keeps at least the copies git-lore makes from lingering).
  const owned = typeof passphrase === 'string';
  const secret = owned ? Buffer.from(passphrase, 'utf8') : Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength);
  try {
    const out = await argon2.hash(secret, {
      type: argon2.argon2id, raw: true, salt: Buffer.from(p.salt, 'base64'), memoryCost: p.memory, timeCost: p.iterations,
      parallelism: p.parallelism, hashLength: 32,
    });
    const key = Buffer.from(out);
    out.fill(0);
    return key;
  } finally {
    if (owned) secret.fill(0);
  }
}

/** What a subkey is for: format-1 purposes, and the format-2 ones (chunk ids, chunks, chunk nonces, indexes). */
export type SubkeyPurpose = 'payload' | 'digest' | 'check' | 'chunk-id' | 'chunk' | 'chunk-nonce' | 'index' | 'slots' | 'history';

/** The HKDF info label of each purpose (docs/FORMAT.md, "Subkeys"): domain labels, not format versions. */
const SUBKEY_LABELS: Record<SubkeyPurpose, string> = {
  payload: 'git-lore/1 payload',
  digest: 'git-lore/1 digest',
  check: 'git-lore/1 check',
  'chunk-id': 'git-lore/2 chunk-id',
  chunk: 'git-lore/2 chunk',
  'chunk-nonce': 'git-lore/2 chunk-nonce',
  index: 'git-lore/2 index',
  slots: 'git-lore/3 slots',
  history: 'git-lore/3 history',
};

/** A named 256-bit subkey of the data key (HKDF-SHA256, empty salt, the purpose's label), so each use has its own key. */
export function subkey(dataKey: Buffer, purpose: SubkeyPurpose): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), SUBKEY_LABELS[purpose], 32));
}

/** AES-256-GCM with a fresh random 96-bit nonce. Returns nonce || ciphertext || tag. */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/**
 * AES-256-GCM with a nonce the caller chose. Returns nonce || ciphertext || tag, the layout `open` reads.
 * Only for nonces derived from the plaintext (SIV-style chunks, docs/FORMAT.md): a nonce must never
 * be used with the same key for two different plaintexts. Everything else uses `seal`.
 */
export function sealWithNonce(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (nonce.length !== 12) throw new CryptoError(`sealWithNonce: the nonce must be 12 bytes, not ${nonce.length}`);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/** Opens what `seal` made; throws CryptoError when authentication fails. */
export function open(key: Buffer, sealed: Buffer, aad: Buffer, what: string): Buffer {
  if (sealed.length < 12 + 16) throw new CryptoError(`${what}: too short to be sealed data`);
  const nonce = sealed.subarray(0, 12);
  const tag = sealed.subarray(sealed.length - 16);
  const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch (err) {
    throw new CryptoError(`${what}: authentication failed (wrong key, or the data was tampered with or corrupted)`, { cause: err });
  }
}

export function hmacHex(key: Buffer, data: string): string {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex strings. */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}

