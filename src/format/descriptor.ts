import crypto from 'node:crypto';
import { CryptoError, LoreError, UsageError } from '../errors.js';
import { checkKdfParams, deriveKey, hmacHex, newKdfParams, open, sameHex, seal, subkey, type KdfParams } from '../crypto/primitives.js';

/** The on-ref format version this code writes (docs/FORMAT.md); it reads 1 and 2. */
export const FORMAT_VERSION = 2;
export const DESCRIPTOR_PATH = 'lore.json';

export interface KeySlot {
  id: string;
  kdf: KdfParams;
  /** base64: nonce || AES-256-GCM(data key) || tag, under the passphrase-derived key */
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
}

/** Format 2: chunks and indexes (docs/FORMAT.md). */
export const FORMAT_V2 = FORMAT_VERSION;
/** The largest descriptor a reader accepts, and the most slots. */
export const DESCRIPTOR_MAX_BYTES = 1024 * 1024;
export const DESCRIPTOR_MAX_SLOTS = 64;

// `git-lore/1` below is a domain label, not the format version: it stays the same in format 2, so a
// store converts without anyone typing a passphrase (docs/FORMAT.md).
const slotAad = (storeId: string, slot: Pick<KeySlot, 'id' | 'kdf'>) =>
  Buffer.from(`git-lore/1 key-slot\0${storeId}\0${slot.id}\0${JSON.stringify([slot.kdf.name, slot.kdf.salt, slot.kdf.memory, slot.kdf.iterations, slot.kdf.parallelism])}`, 'utf8');
const keyCheckOf = (dataKey: Buffer, storeId: string) => hmacHex(subkey(dataKey, 'check'), `git-lore/1 key-check\0${storeId}`);

/** Minimum passphrase length for new stores and slots. */
export const MIN_PASSPHRASE = 8;

/** Creates a new store: random store id and data key, one slot for the passphrase. */
export async function createDescriptor(passphrase: string): Promise<{ descriptor: Descriptor; dataKey: Buffer }> {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`, { hint: 'Choose a longer passphrase and run the command again.' });
  }
  const storeId = crypto.randomBytes(16).toString('hex');
  const dataKey = crypto.randomBytes(32);
  return { descriptor: await descriptorForKey(storeId, dataKey, passphrase), dataKey };
}

/**
 * A descriptor (the current format) for a given store id and data key, with one slot for the passphrase (random
 * salt, slot id and nonce). `createDescriptor` draws both at random; test vectors fix them.
 */
export async function descriptorForKey(storeId: string, dataKey: Buffer, passphrase: string): Promise<Descriptor> {
  if (!/^[0-9a-f]{32}$/.test(storeId) || dataKey.length !== 32) throw new RangeError('descriptorForKey: a store id is 32 hex, a data key 32 bytes');
  const slot = await makeSlot(storeId, dataKey, passphrase);
  return { format: 'git-lore', version: FORMAT_VERSION, storeId, slots: [slot], keyCheck: keyCheckOf(dataKey, storeId) };
}

async function makeSlot(storeId: string, dataKey: Buffer, passphrase: string): Promise<KeySlot> {
  const kdf = newKdfParams();
  const id = crypto.randomBytes(4).toString('hex');
  const kek = await deriveKey(passphrase, kdf);
  return { id, kdf, wrapped: seal(kek, dataKey, slotAad(storeId, { id, kdf })).toString('base64') };
}

/** Tries every slot with the passphrase; returns the data key or throws "wrong passphrase". */
export async function unlock(d: Descriptor, passphrase: string): Promise<Buffer> {
  for (const slot of d.slots) {
    checkKdfParams(slot.kdf);
    const kek = await deriveKey(passphrase, slot.kdf);
    let key: Buffer;
    try {
      key = open(kek, Buffer.from(slot.wrapped, 'base64'), slotAad(d.storeId, slot), 'key slot');
    } catch {
      continue;
    }
    verifyKey(d, key);
    return key;
  }
  throw new CryptoError('wrong passphrase: it opens none of the store\'s key slots', { hint: 'Ask a teammate for the store\'s passphrase and run `git lore sync setup` again. Nothing was written.' });
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
  if (d.version !== 1 && d.version !== FORMAT_V2) {
    throw new LoreError(`the lore store uses format version ${d.version}; this git-lore reads versions 1 and ${FORMAT_V2}`, { hint: 'Upgrade git-lore (./install.sh in a newer checkout).' });
  }
  if (d.slots.length < 1 || d.slots.length > DESCRIPTOR_MAX_SLOTS) throw new LoreError(`the lore store descriptor (lore.json) has ${d.slots.length} key slots (1 to ${DESCRIPTOR_MAX_SLOTS} allowed)`, { hint });
  for (const s of d.slots) {
    if (!s || typeof s !== 'object' || typeof s.id !== 'string' || typeof s.wrapped !== 'string' || !s.kdf || typeof s.kdf !== 'object') {
      throw new LoreError('the lore store descriptor (lore.json) has a malformed key slot', { hint });
    }
  }
  return d;
}

/** The same descriptor (store id, slots, key check) with version 2: what conversion writes. */
export function upgradeDescriptor(d: Descriptor): Descriptor {
  return { format: d.format, version: FORMAT_V2, storeId: d.storeId, slots: d.slots.map((s) => ({ ...s, kdf: { ...s.kdf } })), keyCheck: d.keyCheck };
}
