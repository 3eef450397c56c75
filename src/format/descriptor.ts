import crypto from 'node:crypto';
import { CryptoError, LoreError, UsageError } from '../errors.js';
import { checkKdfParams, deriveKey, hmacHex, newKdfParams, open, sameHex, seal, subkey, type KdfParams } from '../crypto/primitives.js';

/** The on-ref format version this code writes (docs/FORMAT.md); it reads 1 and 2. */
export const FORMAT_VERSION = 2;
export const DESCRIPTOR_PATH = 'lore.json';

/**
 * A key slot. Format 2 has passphrase slots only (`id`, `kdf`, `wrapped`: no `kind`); format 3 adds
 * kinds and who added them (src/format/slots.ts, docs/FORMAT.md "Key slots").
 */
export interface KeySlot {
  id: string;
  /** absent: a format-2 passphrase slot (AES-256-GCM under the passphrase-derived key, epoch 0 only) */
  kind?: 'passphrase' | 'ssh-ed25519' | 'x25519';
  label?: string;
  addedBy?: string;
  addedAt?: string;
  /** passphrase slots */
  kdf?: KdfParams;
  /** format-3 passphrase slots: base64 nonce || AES-256-GCM(KEK, the slot's age identity) || tag */
  secret?: string;
  /** format-3 passphrase and x25519 slots: the age recipient the data key is wrapped to */
  recipient?: string;
  /** ssh-ed25519 slots: `ssh-ed25519 <base64>` */
  publicKey?: string;
  /** format 2: base64 nonce || AES-256-GCM(data key) || tag; format 3: base64 age file of the current epoch's key */
  wrapped: string;
}

/** The plaintext store descriptor at the root of the lore ref's tree. */
export interface Descriptor {
  format: 'git-lore';
  version: number;
  storeId: string;
  slots: KeySlot[];
  /** HMAC of the store id under a subkey of the data key: proves a cached key belongs to this store. */
  keyCheck: string;
  /** Format 3: the current key epoch (absent: 0). */
  epoch?: number;
  /** Format 3, epoch > 0: the earlier epochs' keys, sealed under the current one. */
  history?: string;
  /** Format 3: HMAC of the slot list under the current key, so nobody without it adds or edits slots. */
  slotsMac?: string;
}

/** Format 3: key slots of several kinds, key epochs (docs/FORMAT.md). Written only once a store uses them. */
export const FORMAT_V3 = 3;
/** At most this many passphrase slots: each costs an Argon2id derivation to try. */
export const MAX_PASSPHRASE_SLOTS = 8;

/** Format 2: chunks and indexes (docs/FORMAT.md). */
export const FORMAT_V2 = FORMAT_VERSION;
/** The largest descriptor a reader accepts, and the most slots. */
export const DESCRIPTOR_MAX_BYTES = 1024 * 1024;
export const DESCRIPTOR_MAX_SLOTS = 64;

// `git-lore/1` below is a domain label, not the format version: it stays the same in format 2, so a
// store converts without anyone typing a passphrase (docs/FORMAT.md).
const slotAad = (storeId: string, slot: { id: string; kdf: KdfParams }) =>
  Buffer.from(`git-lore/1 key-slot\0${storeId}\0${slot.id}\0${JSON.stringify([slot.kdf.name, slot.kdf.salt, slot.kdf.memory, slot.kdf.iterations, slot.kdf.parallelism])}`, 'utf8');
const keyCheckOf = (dataKey: Buffer, storeId: string) => hmacHex(subkey(dataKey, 'check'), `git-lore/1 key-check\0${storeId}`);

/** Minimum passphrase length for new stores and slots. */
export const MIN_PASSPHRASE = 8;

/** Creates a new store: random store id and data key, one slot for the passphrase. */
export async function createDescriptor(passphrase: string | Uint8Array): Promise<{ descriptor: Descriptor; dataKey: Buffer; kek: Buffer }> {
  // (A Buffer's length is in bytes, at least its characters; the strength check counts characters first.)
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`, { hint: 'Choose a longer passphrase and run the command again.' });
  }
  const storeId = crypto.randomBytes(16).toString('hex');
  const dataKey = crypto.randomBytes(32);
  const { slot, kek } = await makeSlot(storeId, dataKey, passphrase);
  return { descriptor: { format: 'git-lore', version: FORMAT_VERSION, storeId, slots: [slot], keyCheck: keyCheckOf(dataKey, storeId) }, dataKey, kek };
}

/**
 * A descriptor (the current format) for a given store id and data key, with one slot for the passphrase (random
 * salt, slot id and nonce). `createDescriptor` draws both at random; test vectors fix them.
 */
export async function descriptorForKey(storeId: string, dataKey: Buffer, passphrase: string | Uint8Array): Promise<Descriptor> {
  if (!/^[0-9a-f]{32}$/.test(storeId) || dataKey.length !== 32) throw new RangeError('descriptorForKey: a store id is 32 hex, a data key 32 bytes');
  const { slot } = await makeSlot(storeId, dataKey, passphrase);
  return { format: 'git-lore', version: FORMAT_VERSION, storeId, slots: [slot], keyCheck: keyCheckOf(dataKey, storeId) };
}

async function makeSlot(storeId: string, dataKey: Buffer, passphrase: string | Uint8Array): Promise<{ slot: KeySlot; kek: Buffer }> {
  const kdf = newKdfParams();
  const id = crypto.randomBytes(4).toString('hex');
  const kek = await deriveKey(passphrase, kdf);
  return { slot: { id, kdf, wrapped: seal(kek, dataKey, slotAad(storeId, { id, kdf })).toString('base64') }, kek };
}

/** Tries every slot with the passphrase; returns the data key or throws "wrong passphrase". */
export async function unlock(d: Descriptor, passphrase: string | Uint8Array): Promise<Buffer> {
  // Every slot's parameters are checked before the first derivation (junk slots cost nothing).
  for (const slot of d.slots) if (slot.kdf) checkKdfParams(slot.kdf);
  for (const slot of d.slots) {
    if (!slot.kdf || slot.kind) continue;
    const kek = await deriveKey(passphrase, slot.kdf);
    let key: Buffer;
    try {
      key = openLegacySlot(d.storeId, slot, kek);
    } catch {
      continue;
    }
    verifyKey(d, key);
    return key;
  }
  throw new CryptoError('wrong passphrase: it opens none of the store\'s key slots', { hint: 'Ask a teammate for the store\'s passphrase and run `git lore sync setup` again. Nothing was written.' });
}

/** Opens a format-2 passphrase slot with its passphrase-derived key (KEK); CryptoError when it does not open. */
export function openLegacySlot(storeId: string, slot: KeySlot, kek: Buffer): Buffer {
  if (!slot.kdf) throw new CryptoError(`key slot ${slot.id} is not a passphrase slot`);
  return open(kek, Buffer.from(slot.wrapped, 'base64'), slotAad(storeId, { id: slot.id, kdf: slot.kdf }), 'key slot');
}

/**
 * Checks that a (cached) data key belongs to this descriptor. Fails when the descriptor on the ref
 * was replaced by someone who does not hold the key.
 */
export function verifyKey(d: Descriptor, dataKey: Buffer): void {
  if (!sameHex(keyCheckOf(dataKey, d.storeId), d.keyCheck)) {
    throw new CryptoError(`the store descriptor of store ${d.storeId} does not match its key`, {
      hint: 'The lore ref may have been tampered with (see docs/SECURITY.md); if the store was deliberately re-created, remove the cached key in LORE_HOME/keys and run `git lore sync setup`.',
    });
  }
}

export function serializeDescriptor(d: Descriptor): Buffer {
  return Buffer.from(`${JSON.stringify(d, null, 2)}\n`, 'utf8');
}

/**
 * Parses and validates a descriptor of format 1 or 2: at most 1 MiB and 64 slots, store id 32 hex, key check 64 hex, slots with
 * an id, KDF parameters and a wrapped key (the parameters themselves are checked by `unlock`).
 */
export function parseDescriptor(data: Buffer): Descriptor {
  const hint = 'The lore ref may be damaged; see docs/SECURITY.md.';
  if (data.length > DESCRIPTOR_MAX_BYTES) throw new LoreError(`the lore store descriptor (lore.json) is ${data.length} bytes, more than ${DESCRIPTOR_MAX_BYTES}`, { hint });
  let d: Descriptor;
  try {
    d = JSON.parse(data.toString('utf8')) as Descriptor;
  } catch (err) {
    throw new LoreError('the lore store descriptor (lore.json) is not valid JSON', { cause: err, hint });
  }
  if (!d || typeof d !== 'object' || d.format !== 'git-lore' || typeof d.storeId !== 'string' || !/^[0-9a-f]{32}$/.test(d.storeId) || !Array.isArray(d.slots) ||
    typeof d.keyCheck !== 'string' || !/^[0-9a-f]{64}$/.test(d.keyCheck)) {
    throw new LoreError('the lore store descriptor (lore.json) is malformed', { hint });
  }
  if (d.version !== 1 && d.version !== FORMAT_V2 && d.version !== FORMAT_V3) {
    throw new LoreError(`the lore store uses format version ${d.version}; this git-lore reads versions 1 to ${FORMAT_V3}`, { hint: 'Upgrade git-lore (./install.sh in a newer checkout).' });
  }
  if (d.slots.length < 1 || d.slots.length > DESCRIPTOR_MAX_SLOTS) throw new LoreError(`the lore store descriptor (lore.json) has ${d.slots.length} key slots (1 to ${DESCRIPTOR_MAX_SLOTS} allowed)`, { hint });
  for (const s of d.slots) {
    if (!s || typeof s !== 'object' || typeof s.id !== 'string' || typeof s.wrapped !== 'string') {
      throw new LoreError('the lore store descriptor (lore.json) has a malformed key slot', { hint });
    }
    if (d.version < FORMAT_V3 && (s.kind !== undefined || !s.kdf || typeof s.kdf !== 'object')) throw new LoreError('the lore store descriptor (lore.json) has a malformed key slot', { hint });
  }
  if (d.slots.filter((s) => s.kdf).length > MAX_PASSPHRASE_SLOTS) {
    throw new LoreError(`the lore store descriptor (lore.json) has more than ${MAX_PASSPHRASE_SLOTS} passphrase slots: refusing to try them`, { hint });
  }
  if (d.version === FORMAT_V3) validateV3(d, hint);
  else if (d.epoch !== undefined || d.history !== undefined || d.slotsMac !== undefined) throw new LoreError('the lore store descriptor (lore.json) is malformed', { hint });
  return d;
}

const SLOT_ID = /^[0-9a-f]{8}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const AGE = /^age1[02-9ac-hj-np-z]{58}$/;
const str = (x: unknown, max: number) => typeof x === 'string' && x.length <= max;

/** Format-3 fields: epoch, history, slot MAC, and each slot's fields for its kind (the MAC is checked with the key). */
function validateV3(d: Descriptor, hint: string): void {
  const bad = (why: string): never => {
    throw new LoreError(`the lore store descriptor (lore.json) ${why}`, { hint });
  };
  if (!Number.isSafeInteger(d.epoch) || d.epoch! < 0 || d.epoch! > 1_000_000) bad('names no valid key epoch');
  if ((d.epoch! > 0) !== (typeof d.history === 'string') || (d.history !== undefined && (!str(d.history, 65536) || !B64.test(d.history)))) bad('has a malformed key history');
  if (typeof d.slotsMac !== 'string' || !/^[0-9a-f]{64}$/.test(d.slotsMac)) bad('has no slot authentication');
  const ids = new Set<string>();
  for (const s of d.slots) {
    if (!SLOT_ID.test(s.id) || ids.has(s.id)) bad(`has a malformed or repeated slot id ${JSON.stringify(String(s.id).slice(0, 20))}`);
    ids.add(s.id);
    if (!str(s.wrapped, 4096) || !B64.test(s.wrapped)) bad(`slot ${s.id} has a malformed wrapped key`);
    for (const k of ['label', 'addedBy', 'addedAt'] as const) if (s[k] !== undefined && !str(s[k], 200)) bad(`slot ${s.id} has a malformed ${k}`);
    if (s.kind === undefined) {
      if (d.epoch !== 0) bad(`slot ${s.id} is a format-2 passphrase slot in a store whose key was rotated`);
    } else if (s.kind === 'passphrase') {
      if (!s.kdf || typeof s.kdf !== 'object' || !str(s.secret, 1024) || !B64.test(s.secret!) || !AGE.test(s.recipient ?? '')) bad(`passphrase slot ${s.id} is malformed`);
    } else if (s.kind === 'ssh-ed25519') {
      if (!str(s.publicKey, 200) || !/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/.test(s.publicKey!)) bad(`ssh slot ${s.id} is malformed`);
    } else if (s.kind === 'x25519') {
      if (!AGE.test(s.recipient ?? '')) bad(`age slot ${s.id} is malformed`);
    } else bad(`slot ${s.id} is of an unknown kind ${JSON.stringify(String(s.kind).slice(0, 30))}`);
  }
}

/** The same descriptor (store id, slots, key check) with version 2: what conversion writes. */
export function upgradeDescriptor(d: Descriptor): Descriptor {
  return { format: d.format, version: FORMAT_V2, storeId: d.storeId, slots: d.slots.map((s) => ({ ...s, kdf: { ...s.kdf! } })), keyCheck: d.keyCheck };
}
