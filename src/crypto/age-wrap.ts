import { CryptoError } from '../errors.js';

/**
 * Wrapping a 32-byte key to a public key with age's X25519 recipient stanza (the maintained
 * `age-encryption` package; no hand-made crypto), and ssh-ed25519 keys mapped to X25519 with
 * noble's Ed25519 -> Montgomery conversion (the one libsodium's crypto_sign_ed25519_pk_to_curve25519
 * does). Loaded on first use: only key commands and joins by key need them.
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

/** Opens what `wrapToRecipient` made with an age identity (`AGE-SECRET-KEY-1…`); a 32-byte key, or CryptoError. */
export async function unwrapWithIdentity(wrapped: string, identity: string, what: string): Promise<Buffer> {
  const a = await age();
  const d = new a.Decrypter();
  let out: Uint8Array;
  try {
    d.addIdentity(identity);
    // Given a stream, Decrypter returns one: read here, because its own Uint8Array path collects
    // through `new Response(stream)`, which makes Node load undici (~50 ms of every join).
    const bytes = new Uint8Array(Buffer.from(wrapped, 'base64'));
    const input = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });
    const reader = (await d.decrypt(input)).getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    out = Buffer.concat(parts);
  } catch (err) {
    throw new CryptoError(`${what}: this key does not open it`, { cause: err });
  }
  if (out.length !== 32) throw new CryptoError(`${what}: holds ${out.length} bytes, not a 32-byte key`);
  return Buffer.from(out);
}

/** A fresh age X25519 identity and its recipient. */
export async function newIdentity(): Promise<{ identity: string; recipient: string }> {
  const a = await age();
  const identity = await a.generateX25519Identity();
  return { identity, recipient: await a.identityToRecipient(identity) };
}

/** The recipient of an age identity; CryptoError when it is not one. */
export async function recipientOf(identity: string): Promise<string> {
  try {
    return await (await age()).identityToRecipient(identity);
  } catch (err) {
    throw new CryptoError('not an age identity (AGE-SECRET-KEY-1…)', { cause: err });
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
  const { ed25519 } = await import('@noble/curves/ed25519.js');
  const b = await bech32();
  return b.encode('age-secret-key-', b.toWords(ed25519.utils.toMontgomerySecret(seed)), 1023).toUpperCase();
}
