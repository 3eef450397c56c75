import crypto from 'node:crypto';

/**
 * Opening an age v1 file (https://age-encryption.org/v1) addressed to an X25519 identity, with
 * node's own crypto (OpenSSL): X25519, HKDF-SHA-256, HMAC-SHA-256 and ChaCha20-Poly1305. This is
 * the read side of what `age-encryption`'s Encrypter writes for a key slot (src/crypto/age-wrap.ts),
 * composed exactly as the age specification and that package do, with no primitive of our own.
 * Why not the package itself: a join unwraps one 32-byte key, and loading `age-encryption` (with
 * @noble/curves' Ed25519 and @noble/post-quantum, evaluated on first use) cost more than the rest
 * of the key work (bench/RESULTS.md, keys); node's crypto is already loaded. The write side and
 * `keys add` keep using `age-encryption`; test/crypto/age-file.test.ts checks both directions
 * against it, and every way a file can be damaged.
 *
 * Returns the plaintext, or null when no X25519 stanza of the file opens with this identity.
 * Throws (plain Error, wrapped by the caller) when the file is malformed or fails its header MAC
 * or payload tag. Sizes are bounded: a key slot's age file is a few hundred bytes.
 */

const MAX_FILE = 256 * 1024;
const MAX_STANZAS = 64;
const X25519_LABEL = Buffer.from('age-encryption.org/v1/X25519');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const CHUNK = 64 * 1024;
const TAG = 16;

/** The X25519 private key object of a 32-byte scalar (clamped by X25519 itself, RFC 7748). */
export function x25519PrivateKey(scalar: Uint8Array): crypto.KeyObject {
  if (scalar.length !== 32) throw new Error('an X25519 scalar is 32 bytes');
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
}

/** The 32-byte X25519 public key (u-coordinate) of a private key. */
export function x25519PublicBytes(priv: crypto.KeyObject): Buffer {
  const der = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

/** The X25519 scalar of an Ed25519 private key seed: SHA-512(seed)[0..32], clamped (libsodium's crypto_sign_ed25519_sk_to_curve25519). */
export function x25519ScalarOfEd25519Seed(seed: Uint8Array): Buffer {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const h = crypto.createHash('sha512').update(seed).digest();
  const s = Buffer.from(h.subarray(0, 32));
  h.fill(0);
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  return s;
}

const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string): Buffer =>
  Buffer.from(crypto.hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info) : info, 32));

function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < TAG) throw new Error('ciphertext shorter than its tag');
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
}

/** age's unpadded standard base64, strictly (no padding, canonical). */
function b64(s: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) throw new Error('invalid base64 in the age header');
  const out = Buffer.from(s, 'base64');
  if (out.toString('base64').replace(/=+$/, '') !== s) throw new Error('non-canonical base64 in the age header');
  return out;
}

interface Stanza {
  args: string[];
  body: Buffer;
}

/** Splits an age file into its stanzas, the header bytes the MAC covers, the MAC and the payload. */
function parseHeader(file: Buffer): { stanzas: Stanza[]; macInput: Buffer; mac: Buffer; payload: Buffer } {
  let at = 0;
  const line = (): string => {
    const nl = file.indexOf(0x0a, at);
    if (nl < 0) throw new Error('truncated age header');
    const s = file.subarray(at, nl).toString('latin1');
    at = nl + 1;
    return s;
  };
  if (line() !== 'age-encryption.org/v1') throw new Error('not an age v1 file');
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = at;
    const l = line();
    if (l.startsWith('--- ')) {
      const mac = b64(l.slice(4));
      if (mac.length !== 32) throw new Error('invalid age header MAC');
      // The MAC covers the header up to and including "---" (not the space and MAC after it).
      return { stanzas, macInput: file.subarray(0, start + 3), mac, payload: file.subarray(at) };
    }
    const args = l.split(' ');
    if (args.shift() !== '->' || args.length < 1 || args.some((a) => !a)) throw new Error('invalid age stanza');
    if (stanzas.length >= MAX_STANZAS) throw new Error('too many age stanzas');
    const parts: Buffer[] = [];
    for (;;) {
      const body = line();
      if (body.length > 64) throw new Error('invalid age stanza body');
      const bytes = b64(body);
      parts.push(bytes);
      if (bytes.length < 48) break;
    }
    stanzas.push({ args, body: Buffer.concat(parts) });
  }
}

/** The file key from the first X25519 stanza this identity opens (age's X25519Identity.unwrapFileKey), or null. */
function unwrapFileKey(stanzas: Stanza[], priv: crypto.KeyObject, recipient: Buffer): Buffer | null {
  for (const s of stanzas) {
    if (s.args[0] !== 'X25519') continue;
    if (s.args.length !== 2) throw new Error('invalid X25519 stanza');
    const share = b64(s.args[1]!);
    if (share.length !== 32 || s.body.length !== 16 + TAG) throw new Error('invalid X25519 stanza');
    // OpenSSL refuses a low-order share (an all-zero shared secret), as the age spec requires.
    const secret = crypto.diffieHellman({ privateKey: priv, publicKey: crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, share]), format: 'der', type: 'spki' }) });
    const wrapKey = hkdf(secret, Buffer.concat([share, recipient]), X25519_LABEL);
    secret.fill(0);
    try {
      return chachaOpen(wrapKey, Buffer.alloc(12), s.body);
    } catch {
      continue; // another recipient's stanza
    } finally {
      wrapKey.fill(0);
    }
  }
  return null;
}

/** Decrypts an age v1 file with an X25519 scalar: the plaintext, or null when no stanza is for this identity. */
export function openAgeFile(file: Buffer, scalar: Uint8Array): Buffer | null {
  if (file.length > MAX_FILE) throw new Error(`age file of ${file.length} bytes (at most ${MAX_FILE} for a key slot)`);
  const { stanzas, macInput, mac, payload } = parseHeader(file);
  const priv = x25519PrivateKey(scalar);
  const fileKey = unwrapFileKey(stanzas, priv, x25519PublicBytes(priv));
  if (!fileKey) return null;
  try {
    if (fileKey.length !== 16) throw new Error('invalid age file key');
    const macKey = hkdf(fileKey, Buffer.alloc(0), 'header');
    const want = crypto.createHmac('sha256', macKey).update(macInput).digest();
    if (!crypto.timingSafeEqual(want, mac)) throw new Error('invalid age header MAC');
    if (payload.length < 16) throw new Error('truncated age payload');
    const streamKey = hkdf(fileKey, payload.subarray(0, 16), 'payload');
    // STREAM: 64 KiB chunks, nonce = 11-byte big-endian counter || last-chunk flag.
    const body = payload.subarray(16);
    const out: Buffer[] = [];
    for (let i = 0, off = 0; ; i++) {
      const last = body.length - off <= CHUNK + TAG;
      const chunk = body.subarray(off, last ? body.length : off + CHUNK + TAG);
      if (last && chunk.length === TAG && i > 0) throw new Error('empty final chunk in the age payload');
      const nonce = Buffer.alloc(12);
      nonce.writeUIntBE(i, 5, 6);
      nonce[11] = last ? 1 : 0;
      out.push(chachaOpen(streamKey, nonce, chunk));
      if (last) break;
      off += chunk.length;
    }
    streamKey.fill(0);
    return Buffer.concat(out);
  } finally {
    fileKey.fill(0);
  }
}
