import { CryptoError } from '../errors.js';
import { openAgeFile, x25519PrivateKey, x25519PublicBytes, x25519ScalarOfEd25519Seed } from './age-file.js';

/**
 * Wrapping a 32-byte key to a public key with age's X25519 recipient stanza (the maintained
 * `age-encryption` package; no hand-made crypto), and ssh-ed25519 keys mapped to X25519 with
 * noble's Ed25519 -> Montgomery conversion (the one libsodium's crypto_sign_ed25519_pk_to_curve25519
 * does). Loaded on first use: only key commands need them; opening a slot uses node's crypto
 * (age-file.ts).
 */

type Age = typeof import('age-encryption');
let ageModule: Promise<Age> | null = null;
const age = (): Promise<Age> => (ageModule ??= import('age-encryption'));

/** An age X25519 recipient: `age1` + 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** Encrypts `key` to one age recipient; returns the age file (binary) in base64. */
export async function wrapToRecipient(key: Buffer, recipient: string): Promise<string> {
  if (!AGE_RECIPIENT.test(recipient)) throw new CryptoError(`not an age X25519 recipient: ${JSON.stringify(recipient.slice(0, 80))}`);
  const a = await age();
  const e = new a.Encrypter();
  e.addRecipient(recipient);
  return Buffer.from(await e.encrypt(new Uint8Array(key))).toString('base64');
}

/**
 * Opens what `wrapToRecipient` made with an age identity (`AGE-SECRET-KEY-1…`); a 32-byte key, or
 * CryptoError. Read with node's crypto (src/crypto/age-file.ts), not `age-encryption`: joins and
 * key pick-ups do not load the package.
 */
export async function unwrapWithIdentity(wrapped: string, identity: string, what: string): Promise<Buffer> {
  const scalar = await scalarOfIdentity(identity);
  try {
    return unwrapWithScalar(wrapped, scalar, what);
  } finally {
    scalar.fill(0);
  }
}

/** As `unwrapWithIdentity`, with the identity's 32-byte X25519 scalar. */
export function unwrapWithScalar(wrapped: string, scalar: Uint8Array, what: string): Buffer {
  let out: Buffer | null;
  try {
    out = openAgeFile(Buffer.from(wrapped, 'base64'), scalar);
  } catch (err) {
    throw new CryptoError(`${what}: this key does not open it (${(err as Error).message})`, { cause: err });
  }
  if (!out) throw new CryptoError(`${what}: this key does not open it`);
  if (out.length !== 32) throw new CryptoError(`${what}: holds ${out.length} bytes, not a 32-byte key`);
  return out;
}

/** The X25519 scalar of an age identity string; CryptoError when it is not one. */
async function scalarOfIdentity(identity: string): Promise<Buffer> {
  try {
    if (!identity.startsWith('AGE-SECRET-KEY-1')) throw new Error('prefix');
    const r = (await bech32()).decodeToBytes(identity.toLowerCase());
    if (r.prefix !== 'age-secret-key-' || r.bytes.length !== 32) throw new Error('length');
    return Buffer.from(r.bytes);
  } catch (err) {
    throw new CryptoError('not an age identity (AGE-SECRET-KEY-1…)', { cause: err });
  }
}

/** A fresh age X25519 identity and its recipient. */
export async function newIdentity(): Promise<{ identity: string; recipient: string }> {
  const a = await age();
  const identity = await a.generateX25519Identity();
  return { identity, recipient: await a.identityToRecipient(identity) };
}

/** The recipient of an age identity; CryptoError when it is not one. */
export async function recipientOf(identity: string): Promise<string> {
  const scalar = await scalarOfIdentity(identity);
  try {
    return (await bech32()).encode('age', (await bech32()).toWords(x25519PublicBytes(x25519PrivateKey(scalar))));
  } finally {
    scalar.fill(0);
  }
}

async function bech32() {
  return (await import('@scure/base')).bech32;
}

/** The age recipient (X25519) of an Ed25519 public key (32 bytes). */
export async function recipientOfEd25519(publicKey: Uint8Array): Promise<string> {
  const { ed25519 } = await import('@noble/curves/ed25519.js');
  const b = await bech32();
  return b.encode('age', b.toWords(ed25519.utils.toMontgomery(publicKey)));
}

/** The age identity (X25519) of an Ed25519 private key seed (32 bytes): the scalar Ed25519 signs with. */
export async function identityOfEd25519(seed: Uint8Array): Promise<string> {
  const b = await bech32();
  const scalar = x25519ScalarOfEd25519Seed(seed);
  try {
    return b.encode('age-secret-key-', b.toWords(scalar), 1023).toUpperCase();
  } finally {
    scalar.fill(0);
  }
}
