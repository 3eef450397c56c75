import { CryptoError, LoreError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { Keyring } from '../../store/keyring.js';
import { verifyKey } from '../../format/descriptor.js';
import { chunkKeys, type ChunkKeys } from '../../format/chunk.js';
import type { RefState } from '../../format/ref-store.js';
import { subkey } from '../../crypto/primitives.js';

/** One key epoch's data key and its chunk subkeys. */
export interface EpochKeys {
  epoch: number;
  dataKey: Buffer;
  chunk: ChunkKeys;
}

/**
 * Everything a sync derives from a store's keys, once: the current epoch's (what it writes with),
 * the digest key (epoch 0's for the store's life, so a rotation does not make every session look
 * changed) and, through `forEpoch`, any earlier epoch's (what older objects were sealed with).
 */
export interface StoreKeys extends EpochKeys {
  storeId: string;
  digest: Buffer;
  /** The keys of epoch `e`; CryptoError when this machine does not know it. */
  forEpoch(e: number): EpochKeys;
}

/** `epochs[i]` is epoch i's key; the last is the current one. One key: a store never rotated. */
export function storeKeys(storeId: string, dataKey: Buffer, epochs: Buffer[] = [dataKey]): StoreKeys {
  const cache = new Map<number, EpochKeys>();
  const forEpoch = (e: number): EpochKeys => {
    const key = epochs[e];
    if (!key) throw new CryptoError(`sealed under key epoch ${e}, which this machine does not know yet (the store is at epoch ${epochs.length - 1})`, { hint: 'Run `git lore sync` to pick up the store\'s current keys.' });
    let k = cache.get(e);
    if (!k) cache.set(e, (k = { epoch: e, dataKey: key, chunk: chunkKeys(key) }));
    return k;
  };
  const current = forEpoch(epochs.length - 1);
  return { storeId, ...current, digest: subkey(epochs[0]!, 'digest'), forEpoch };
}

/** Loads the data key cached for a store, checked against the store's descriptor. */
export function cachedKey(ctx: LoreContext, state: RefState): Buffer {
  const { key, problem } = new Keyring(ctx.paths.loreHome).get(state.descriptor.storeId);
  if (!key) {
    throw new LoreError(problem ? `${problem} for lore store ${state.descriptor.storeId}` : `no key is cached for lore store ${state.descriptor.storeId} on this machine`, {
      hint: 'Run `git lore sync setup` once to enter the passphrase.',
    });
  }
  verifyKey(state.descriptor, key);
  return key;
}

/**
 * The store's keys for a sync: the cached key, and when the store's key was rotated since, the new
 * epoch picked up through this machine's slot (src/core/keys/machine-key.ts); every epoch's key.
 */
export async function loadStoreKeys(ctx: LoreContext, state: RefState): Promise<StoreKeys> {
  const { currentKeys } = await import('../keys/machine-key.js');
  const epochs = await currentKeys(ctx, state.descriptor);
  return storeKeys(state.descriptor.storeId, epochs[epochs.length - 1]!, epochs);
}
