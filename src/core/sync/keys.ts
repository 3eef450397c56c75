import { LoreError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { Keyring } from '../../store/keyring.js';
import { verifyKey } from '../../format/descriptor.js';
import { chunkKeys, type ChunkKeys } from '../../format/chunk.js';
import type { RefState } from '../../format/ref-store.js';
import { subkey } from '../../crypto/primitives.js';

/** Everything a sync derives from a store's data key, once. */
export interface StoreKeys {
  storeId: string;
  dataKey: Buffer;
  digest: Buffer;
  chunk: ChunkKeys;
}

export function storeKeys(storeId: string, dataKey: Buffer): StoreKeys {
  return { storeId, dataKey, digest: subkey(dataKey, 'digest'), chunk: chunkKeys(dataKey) };
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
