import crypto from 'node:crypto';
import { CryptoError, LoreError, UsageError } from '../errors.js';
import { checkKdfParams, deriveKey, hmacHex, newKdfParams, open, sameHex, seal, subkey, type KdfParams } from '../crypto/primitives.js';

/** The on-ref format version this code writes and reads (docs/FORMAT.md). */
export const FORMAT_VERSION = 1;
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

const slotAad = (storeId: string, slot: Pick<KeySlot, 'id' | 'kdf'>) =>
  Buffer.from(`git-lore/${FORMAT_VERSION} key-slot\0${storeId}\0${slot.id}\0${JSON.stringify([slot.kdf.name, slot.kdf.salt, slot.kdf.memory, slot.kdf.iterations, slot.kdf.parallelism])}`, 'utf8');
const keyCheckOf = (dataKey: Buffer, storeId: string) => hmacHex(subkey(dataKey, 'check'), `git-lore/${FORMAT_VERSION} key-check\0${storeId}`);

/** Minimum passphrase length for new stores and slots. */
export const MIN_PASSPHRASE = 8;

/** Creates a new store: random store id and data key, one slot for the passphrase. */
export async function createDescriptor(passphrase: string): Promise<{ descriptor: Descriptor; dataKey: Buffer }> {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`, { hint: 'Choose a longer passphrase and run the command again.' });
  }
  const storeId = crypto.randomBytes(16).toString('hex');
  const dataKey = crypto.randomBytes(32);
  const slot = await makeSlot(storeId, dataKey, passphrase);
  return { descriptor: { format: 'git-lore', version: FORMAT_VERSION, storeId, slots: [slot], keyCheck: keyCheckOf(dataKey, storeId) }, dataKey };
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

/** Parses and validates a descriptor; throws a clear error for anything else. */
export function parseDescriptor(data: Buffer): Descriptor {
  let d: Descriptor;
  try {
    d = JSON.parse(data.toString('utf8')) as Descriptor;
  } catch (err) {
    throw new LoreError('the lore store descriptor (lore.json) is not valid JSON', { cause: err, hint: 'The lore ref may be damaged; see docs/SECURITY.md.' });
  }
  if (!d || d.format !== 'git-lore' || typeof d.storeId !== 'string' || !/^[0-9a-f]{32}$/.test(d.storeId) || !Array.isArray(d.slots) || typeof d.keyCheck !== 'string') {
    throw new LoreError('the lore store descriptor (lore.json) is malformed', { hint: 'The lore ref may be damaged; see docs/SECURITY.md.' });
  }
  if (d.version !== FORMAT_VERSION) {
    throw new LoreError(`the lore store uses format version ${d.version}; this git-lore reads version ${FORMAT_VERSION}`, { hint: 'Upgrade git-lore (./install.sh in a newer checkout).' });
  }
  return d;
}
