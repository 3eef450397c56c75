/**
 * Sync of a store through a lore ref: the use cases (`runSync`, `setupStore`, `syncStatus`) and
 * what other use cases share (the target repository, the remote choice). One module per step:
 * target (which repository and remote), transport (fetch, peek), setup, pull, seal, run (the
 * retry loop), status, state (what the last sync left).
 */
export { runSync, DEFAULT_MAX_PAYLOAD_BYTES } from './run.js';
export type { SyncOptions, SyncResult } from './types.js';
export { setupStore, type SetupOptions, type SetupResult } from './setup.js';
export { syncStatus, type SyncStatus } from './status.js';
export { syncTarget, globalDir, openRepo, pickRemote, networkAddress, type SyncTarget, type RemoteConfig } from './target.js';
export { maybeCrash } from './state.js';
export { cachedKey } from './keys.js';
export { LORE_REF, trackingRef, fetchRefspec } from '../../format/refs.js';
