import crypto from 'node:crypto';
import { CryptoError, LoreError } from '../errors.js';
import { checkKdfParams, deriveKey, hmacHex, newKdfParams, open, sameHex, seal, subkey, type KdfParams } from '../crypto/primitives.js';
import { newIdentity, recipientOfEd25519, unwrapWithIdentity, wrapToRecipient } from '../crypto/age-wrap.js';
import { parseSshPublicKey } from '../crypto/ssh-key.js';
import { FORMAT_V3, openLegacySlot, verifyKey, type Descriptor, type KeySlot } from './descriptor.js';

/**
 * Format-3 key slots and key epochs (docs/FORMAT.md, "Key slots and epochs"). Every slot wraps
 * the current epoch's key with age's X25519 stanza: to the member's age recipient, to the X25519
 * form of their ssh-ed25519 key, or (passphrase slots) to an age identity of the slot's own whose
 * secret is sealed under the passphrase. So anyone holding the current key can re-wrap a new one
 * to every slot without knowing anyone's secret: that is what rotation needs.
 */

/** Who added a slot and what it is called (plaintext, authenticated by the slot MAC). */
export interface SlotMeta {
  label: string;
  addedBy: string;
  addedAt: string;
}

const secretAad = (storeId: string, id: string, kdf: KdfParams, recipient: string) =>
  Buffer.from(`git-lore/3 slot-secret\0${storeId}\0${id}\0${JSON.stringify([kdf.name, kdf.salt, kdf.memory, kdf.iterations, kdf.parallelism])}\0${recipient}`, 'utf8');
const historyAad = (storeId: string, epoch: number) => Buffer.from(`git-lore/3 history\0${storeId}\0${epoch}`, 'utf8');

/** The canonical bytes the slot MAC covers: every field of every slot, in a fixed order. */
function slotsText(d: Pick<Descriptor, 'storeId' | 'epoch' | 'slots'>): string {
  const fields = ['id', 'kind', 'label', 'addedBy', 'addedAt', 'kdf', 'secret', 'recipient', 'publicKey', 'wrapped'] as const;
  const canon = d.slots.map((s) => fields.map((f) => (f === 'kdf' && s.kdf ? [s.kdf.name, s.kdf.salt, s.kdf.memory, s.kdf.iterations, s.kdf.parallelism] : s[f] ?? null)));
  return `git-lore/3 slots\0${d.storeId}\0${d.epoch ?? 0}\0${JSON.stringify(canon)}`;
}

/** HMAC-SHA256 of the slot list under the current key's slots subkey. */
export function slotsMac(d: Pick<Descriptor, 'storeId' | 'epoch' | 'slots'>, key: Buffer): string {
  return hmacHex(subkey(key, 'slots'), slotsText(d));
}

/**
 * Checks that `key` is the descriptor's current key (key check) and, in format 3, that nobody
 * without it added, removed or edited a slot (slot MAC). Throws CryptoError.
 */
export function verifyDescriptor(d: Descriptor, key: Buffer): void {
  verifyKey(d, key);
  if (d.version === FORMAT_V3 && !sameHex(slotsMac(d, key), d.slotsMac ?? '')) {
    throw new CryptoError(`the key slots of lore store ${d.storeId} were changed by someone without the store's key`, {
      hint: 'The lore ref was tampered with (see docs/SECURITY.md): nothing was written. A member can restore the slots with `git lore keys list` on a good clone.',
    });
  }
}

/** Every epoch's key, index = epoch, for a descriptor whose current key is `key` (verified first). */
export function epochKeys(d: Descriptor, key: Buffer): Buffer[] {
  verifyDescriptor(d, key);
  const epoch = d.epoch ?? 0;
  if (epoch === 0) return [key];
  let list: unknown;
  try {
    list = JSON.parse(open(subkey(key, 'history'), Buffer.from(d.history!, 'base64'), historyAad(d.storeId, epoch), 'key history').toString('utf8'));
  } catch (err) {
    throw new CryptoError(`the key history of lore store ${d.storeId} does not open`, { cause: err, hint: 'The lore ref may have been tampered with (docs/SECURITY.md).' });
  }
  if (!Array.isArray(list) || list.length !== epoch || !list.every((k) => typeof k === 'string' && Buffer.from(k, 'base64').length === 32)) {
    throw new CryptoError(`the key history of lore store ${d.storeId} is malformed`);
  }
  return [...list.map((k: string) => Buffer.from(k, 'base64')), key];
}

/** The age recipient a slot's key is wrapped to. */
export async function slotRecipient(s: KeySlot): Promise<string> {
  if (s.kind === 'ssh-ed25519') return recipientOfEd25519(parseSshPublicKey(s.publicKey!).key);
  if (s.kind === 'passphrase' || s.kind === 'x25519') return s.recipient!;
  throw new LoreError(`key slot ${s.id} is a format-2 passphrase slot: it cannot be re-wrapped without its passphrase`);
}

/** What `keys list` shows as a slot's fingerprint: the ssh SHA256 fingerprint, the age recipient, or the slot id. */
export function slotFingerprint(s: KeySlot): string {
  if (s.kind === 'ssh-ed25519') return parseSshPublicKey(s.publicKey!).fingerprint;
  if (s.kind === 'x25519') return s.recipient!;
  return `passphrase:${s.id}`;
}

export function slotKind(s: KeySlot): 'passphrase' | 'ssh-ed25519' | 'x25519' {
  return s.kind ?? 'passphrase';
}

const newSlotId = (taken: readonly KeySlot[]) => {
  for (;;) {
    const id = crypto.randomBytes(4).toString('hex');
    if (!taken.some((s) => s.id === id)) return id;
  }
};

/** A slot wrapping `key` to a public key (ssh-ed25519 line or age recipient). */
export async function publicKeySlot(taken: readonly KeySlot[], key: Buffer, what: { ssh?: string; age?: string }, meta: SlotMeta): Promise<KeySlot> {
  const id = newSlotId(taken);
  if (what.ssh) {
    const pub = parseSshPublicKey(what.ssh);
    return { id, kind: 'ssh-ed25519', ...meta, publicKey: pub.line, wrapped: await wrapToRecipient(key, await recipientOfEd25519(pub.key)) };
  }
  return { id, kind: 'x25519', ...meta, recipient: what.age!, wrapped: await wrapToRecipient(key, what.age!) };
}

/**
 * A format-3 passphrase slot: a fresh age identity, its secret sealed under KEK = Argon2id(passphrase),
 * `key` wrapped to its recipient. `kek`/`kdf` given: reuse them (upgrading a format-2 slot keeps its KEK).
 */
export async function passphraseSlot(
  storeId: string, taken: readonly KeySlot[], key: Buffer, passphrase: string | Uint8Array | null, meta: SlotMeta, reuse?: { id: string; kdf: KdfParams; kek: Buffer },
): Promise<{ slot: KeySlot; kek: Buffer }> {
  const kdf = reuse?.kdf ?? newKdfParams();
  const kek = reuse?.kek ?? (await deriveKey(passphrase!, kdf));
  const id = reuse?.id ?? newSlotId(taken);
  const { identity, recipient } = await newIdentity();
  const secret = seal(kek, Buffer.from(identity, 'utf8'), secretAad(storeId, id, kdf, recipient)).toString('base64');
  return { slot: { id, kind: 'passphrase', ...meta, kdf, secret, recipient, wrapped: await wrapToRecipient(key, recipient) }, kek };
}

/** The current key from a passphrase slot, given the slot's KEK (format 2 or 3). CryptoError when it does not open. */
export async function openPassphraseSlot(d: Descriptor, s: KeySlot, kek: Buffer): Promise<Buffer> {
  if (!s.kind) return openLegacySlot(d.storeId, s, kek);
  const identity = open(kek, Buffer.from(s.secret!, 'base64'), secretAad(d.storeId, s.id, s.kdf!, s.recipient!), `key slot ${s.id}`).toString('utf8');
  return unwrapWithIdentity(s.wrapped, identity, `key slot ${s.id}`);
}

/**
 * Tries the passphrase on every passphrase slot (all KDF parameters checked first, before any
 * derivation); returns the verified current key, the slot it opened and its KEK.
 */
export async function unlockWithPassphrase(d: Descriptor, passphrase: string | Uint8Array): Promise<{ key: Buffer; slot: KeySlot; kek: Buffer }> {
  const candidates = d.slots.filter((s) => s.kdf);
  for (const s of candidates) checkKdfParams(s.kdf!);
  for (const s of candidates) {
    const kek = await deriveKey(passphrase, s.kdf!);
    let key: Buffer;
    try {
      key = await openPassphraseSlot(d, s, kek);
    } catch {
      continue;
    }
    verifyDescriptor(d, key);
    return { key, slot: s, kek };
  }
  throw new CryptoError('wrong passphrase: it opens none of the store\'s key slots', { hint: 'Ask a teammate for the store\'s passphrase (or to add your ssh key with `git lore keys add`). Nothing was written.' });
}

/** The descriptor after its slots changed, at the same epoch: version 3, new slot MAC. */
export function withSlots(d: Descriptor, key: Buffer, slots: KeySlot[]): Descriptor {
  const next: Descriptor = { format: 'git-lore', version: FORMAT_V3, storeId: d.storeId, epoch: d.epoch ?? 0, slots, keyCheck: d.keyCheck, slotsMac: '' };
  if (d.history) next.history = d.history;
  next.slotsMac = slotsMac(next, key);
  return next;
}

/**
 * A new key epoch: a random key, the earlier keys sealed under it, and every slot of `slots`
 * re-wrapped to it (format-2 passphrase slots must have been upgraded before). Returns the new
 * descriptor and key; nothing of the old key can open the new one.
 */
export async function rotate(d: Descriptor, keys: Buffer[], slots: KeySlot[]): Promise<{ descriptor: Descriptor; key: Buffer }> {
  const key = crypto.randomBytes(32);
  const epoch = keys.length;
  const history = seal(subkey(key, 'history'), Buffer.from(JSON.stringify(keys.map((k) => k.toString('base64'))), 'utf8'), historyAad(d.storeId, epoch)).toString('base64');
  const rewrapped: KeySlot[] = [];
  for (const s of slots) rewrapped.push({ ...s, wrapped: await wrapToRecipient(key, await slotRecipient(s)) });
  const keyCheck = hmacHex(subkey(key, 'check'), `git-lore/1 key-check\0${d.storeId}`);
  const next: Descriptor = { format: 'git-lore', version: FORMAT_V3, storeId: d.storeId, epoch, slots: rewrapped, keyCheck, history, slotsMac: '' };
  next.slotsMac = slotsMac(next, key);
  return { descriptor: next, key };
}
