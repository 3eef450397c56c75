import crypto from 'node:crypto';
import { CryptoError, UsageError } from '../errors.js';

/**
 * OpenSSH keys, as far as git-lore needs them: ssh-ed25519 public keys (authorized_keys lines)
 * and ssh-ed25519 private keys in the openssh-key-v1 format, plain or encrypted with bcrypt-pbkdf
 * and aes256-ctr / aes256-cbc / aes256-gcm@openssh.com (what ssh-keygen writes). Parsing only:
 * the crypto is node's AES and the maintained bcrypt-pbkdf package.
 */

export const SUPPORTED_KINDS = 'ssh-ed25519 keys (ssh-keygen -t ed25519) and age X25519 recipients (age1…)';

/** An ssh-ed25519 public key. */
export interface SshPublicKey {
  /** the 32-byte Ed25519 point */
  key: Buffer;
  /** `ssh-ed25519 <base64>` without the comment */
  line: string;
  comment: string;
  /** `SHA256:<base64, no padding>` as ssh-keygen -l prints it */
  fingerprint: string;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new CryptoError(`${this.what}: truncated`);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (n > this.buf.length - this.at) throw new CryptoError(`${this.what}: truncated`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): string {
    return this.bytes().toString('latin1');
  }
  rest(): Buffer {
    return this.buf.subarray(this.at);
  }
}

const unsupported = (kind: string) =>
  new UsageError(`ssh keys of kind ${kind} are not supported`, { hint: `git-lore wraps the store key to ${SUPPORTED_KINDS}. Create one with \`ssh-keygen -t ed25519\`.` });

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses one authorized_keys-style line (`ssh-ed25519 AAAA… comment`). UsageError for anything else. */
export function parseSshPublicKey(text: string): SshPublicKey {
  const line = text.trim().split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#'))?.trim() ?? '';
  if (/PRIVATE KEY/.test(text)) throw new UsageError('that is a private key; give the public key (the .pub file or its line)', { hint: 'Use e.g. `--ssh ~/.ssh/id_ed25519.pub`. Nothing was written.' });
  const [kind, b64, ...comment] = line.split(/\s+/);
  if (!kind || !b64) throw new UsageError('malformed ssh public key: expected "ssh-ed25519 AAAA… [comment]"', { hint: `git-lore accepts ${SUPPORTED_KINDS}. Nothing was written.` });
  if (kind !== 'ssh-ed25519') {
    if (/^(ssh-rsa|ssh-dss|ecdsa-sha2-|sk-|rsa-sha2-)/.test(kind)) throw unsupported(kind);
    throw new UsageError(`malformed ssh public key: unknown kind ${JSON.stringify(kind.slice(0, 40))}`, { hint: `git-lore accepts ${SUPPORTED_KINDS}. Nothing was written.` });
  }
  const blob = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || blob.toString('base64') !== b64) throw new UsageError('malformed ssh public key: its key is not valid base64', { hint: 'Copy the whole line of the .pub file. Nothing was written.' });
  let key: Buffer;
  try {
    const r = new Reader(blob, 'ssh public key');
    if (r.string() !== 'ssh-ed25519') throw new CryptoError('kind mismatch');
    key = r.bytes();
    if (key.length !== 32 || r.rest().length) throw new CryptoError('bad length');
  } catch (err) {
    throw new UsageError('malformed ssh public key: the key data is not an ssh-ed25519 key', { cause: err, hint: 'Copy the whole line of the .pub file. Nothing was written.' });
  }
  return { key: Buffer.from(key), line: `ssh-ed25519 ${b64}`, comment: comment.join(' '), fingerprint: sshFingerprint(blob) };
}

/** The public key stored in the clear in an OpenSSH private key file (no passphrase needed). */
export function sshPublicKeyOfPrivate(text: string): SshPublicKey {
  const h = readHeader(decodePem(text));
  const kind = new Reader(h.pub, 'ssh public key').string();
  if (kind !== 'ssh-ed25519') throw unsupported(kind);
  return parseSshPublicKey(`ssh-ed25519 ${h.pub.toString('base64')}`);
}

/** True when `text` is an OpenSSH private key whose private part is encrypted. */
export function sshKeyIsEncrypted(text: string): boolean {
  return readHeader(decodePem(text)).cipher !== 'none';
}

function decodePem(text: string): Buffer {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) {
    if (/BEGIN (RSA|EC|DSA) PRIVATE KEY/.test(text)) throw unsupported(/BEGIN (\w+)/.exec(text)![1]!);
    throw new UsageError('not an OpenSSH private key (expected "-----BEGIN OPENSSH PRIVATE KEY-----")', { hint: `git-lore joins with ${SUPPORTED_KINDS}.` });
  }
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  if (!raw.subarray(0, 15).equals(Buffer.from('openssh-key-v1\0', 'latin1'))) throw new UsageError('not an OpenSSH private key (bad magic)');
  return raw.subarray(15);
}

function readHeader(raw: Buffer) {
  const r = new Reader(raw, 'ssh private key');
  const cipher = r.string();
  const kdf = r.string();
  const kdfOptions = r.bytes();
  const n = r.u32();
  if (n !== 1) throw new UsageError(`the ssh private key file holds ${n} keys; git-lore reads files with one`);
  const pub = r.bytes();
  const priv = r.bytes();
  const tail = r.rest();
  return { cipher, kdf, kdfOptions, pub, priv, tail };
}

const CIPHERS: Record<string, { alg: string; keyLen: number; ivLen: number }> = {
  'aes256-ctr': { alg: 'aes-256-ctr', keyLen: 32, ivLen: 16 },
  'aes256-cbc': { alg: 'aes-256-cbc', keyLen: 32, ivLen: 16 },
  'aes256-gcm@openssh.com': { alg: 'aes-256-gcm', keyLen: 32, ivLen: 12 },
};

/**
 * The Ed25519 seed (32 bytes) and public key of an OpenSSH private key file. `passphrase` is
 * needed when the file is encrypted: a wrong one fails the check integers (CryptoError, "wrong
 * passphrase"). RSA, ECDSA and other kinds: UsageError naming the kinds that work.
 */
export async function readSshPrivateKey(text: string, passphrase?: string | Uint8Array): Promise<{ seed: Buffer; publicKey: SshPublicKey }> {
  const h = readHeader(decodePem(text));
  const pubKind = new Reader(h.pub, 'ssh public key').string();
  if (pubKind !== 'ssh-ed25519') throw unsupported(pubKind);
  let plain = h.priv;
  if (h.cipher !== 'none') {
    const c = CIPHERS[h.cipher];
    if (!c || h.kdf !== 'bcrypt') throw new UsageError(`the ssh key is encrypted with ${h.cipher}/${h.kdf}, which git-lore cannot read`, { hint: 'Use a key written by a current ssh-keygen (aes256-ctr, the default).' });
    if (passphrase === undefined) throw new UsageError('the ssh key is encrypted and no passphrase was given');
    const o = new Reader(h.kdfOptions, 'ssh key kdf options');
    const salt = o.bytes();
    const rounds = o.u32();
    if (rounds < 1 || rounds > 1024) throw new UsageError(`the ssh key asks for ${rounds} bcrypt rounds (at most 1024 accepted)`);
    const mod = (await import('bcrypt-pbkdf')) as typeof import('bcrypt-pbkdf') & { default?: typeof import('bcrypt-pbkdf') };
    const bcrypt = typeof mod.pbkdf === 'function' ? mod : mod.default!;
    const pass = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : Buffer.from(passphrase);
    const out = new Uint8Array(c.keyLen + c.ivLen);
    if (bcrypt.pbkdf(pass, pass.length, salt, salt.length, out, out.length, rounds) !== 0) throw new CryptoError('bcrypt-pbkdf failed');
    pass.fill(0);
    const key = Buffer.from(out.subarray(0, c.keyLen));
    const iv = Buffer.from(out.subarray(c.keyLen));
    try {
      if (c.alg === 'aes-256-gcm') {
        const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
        d.setAuthTag(h.tail.subarray(0, 16));
        plain = Buffer.concat([d.update(h.priv), d.final()]);
      } else {
        const d = crypto.createDecipheriv(c.alg, key, iv);
        d.setAutoPadding(false);
        plain = Buffer.concat([d.update(h.priv), d.final()]);
      }
    } catch (err) {
      throw wrongPassphrase(err);
    } finally {
      key.fill(0);
    }
  }
  const r = new Reader(plain, 'ssh private key');
  if (r.u32() !== r.u32()) throw wrongPassphrase();
  const kind = r.string();
  if (kind !== 'ssh-ed25519') throw unsupported(kind);
  const pub = r.bytes();
  const priv = r.bytes();
  if (pub.length !== 32 || priv.length !== 64 || !priv.subarray(32).equals(pub)) throw new CryptoError('the ssh private key is malformed');
  const publicKey = parseSshPublicKey(`ssh-ed25519 ${h.pub.toString('base64')} ${r.string()}`);
  return { seed: Buffer.from(priv.subarray(0, 32)), publicKey };
}

const wrongPassphrase = (cause?: unknown) =>
  new CryptoError('wrong passphrase for the ssh key', { cause, hint: 'Type the passphrase of the ssh key (the one ssh asks for), or set LORE_SSH_PASSPHRASE. Nothing was written.' });
