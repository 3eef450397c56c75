import type { LoreContext } from '../context.js';
import { Keyring } from '../../store/keyring.js';
import { contentDigestV2 } from '../../format/session-entry.js';
import { readRefState } from '../../format/ref-store.js';
import { LORE_REF, trackingRef } from '../../format/refs.js';
import { sameHex, subkey } from '../../crypto/primitives.js';
import { importSessions } from '../import.js';
import { pickRemote, syncTarget } from './target.js';
import { readSyncState, syncKeys, writtenSince } from './state.js';
import { metaDigests, someMetaDigests } from './digests.js';

export interface SyncStatus {
  remote: string;
  setUp: boolean;
  storeId: string | null;
  keyCached: boolean;
  pending: number;
  lastSync: string | null;
  relation: 'in-sync' | 'ahead' | 'behind' | 'diverged' | 'no-remote-ref' | 'no-local-ref' | 'unknown';
}

/** `git lore sync status`: reads local state only (no network), so it is instant and works offline. */
export async function syncStatus(ctx: LoreContext, opts: { remote?: string; global?: boolean } = {}): Promise<SyncStatus> {
  await importSessions(ctx);
  const target = await syncTarget(ctx, opts.global ? { global: true } : {});
  const git = target.git;
  const scope = target.global ? undefined : target.repo ?? undefined;
  const remote = await pickRemote(git, opts.remote);
  const localTip = await git.resolve(LORE_REF);
  const remoteTip = await git.resolve(trackingRef(remote));
  const status: SyncStatus = { remote, setUp: false, storeId: null, keyCached: false, pending: 0, lastSync: null, relation: 'unknown' };
  const tip = localTip ?? remoteTip;
  if (!tip) {
    status.relation = 'no-local-ref';
    status.pending = ctx.db.sessionDigests(scope).length;
    return status;
  }
  const cat = git.catFile();
  try {
    // As in a quick sync: with the local ref where the last complete sync left it, only sessions
    // written since can be pending.
    const keys = syncKeys(target, remote);
    const since = writtenSince(ctx, readSyncState(ctx, keys.state), localTip, scope);
    const state = await readRefState(git, cat, tip, since?.map((r) => r.id));
    status.storeId = state.descriptor.storeId;
    const { key } = new Keyring(ctx.paths.loreHome).get(state.descriptor.storeId);
    status.keyCached = Boolean(key);
    status.setUp = status.keyCached;
    if (key) {
      const digestKey = subkey(key, 'digest');
      const v2 = state.descriptor.version === 2;
      const rows = since ?? ctx.db.sessionDigests(scope);
      const digests = since ? await someMetaDigests(ctx, cat, state, rows.map((r) => r.id)) : await metaDigests(ctx, cat, state);
      status.pending = rows.filter((row) => {
        const e = state.sessions.get(row.id);
        const d = e?.metaOid ? digests.get(e.metaOid) : undefined;
        return !(v2 && d && e?.indexOid && sameHex(contentDigestV2(digestKey, row.id, row.bundle_sha256), d));
      }).length;
    }
    status.lastSync = ctx.db.getKv(keys.lastSync);
  } finally {
    await cat.close();
  }
  if (!remoteTip) status.relation = localTip ? 'no-remote-ref' : 'no-local-ref';
  else if (!localTip) status.relation = 'no-local-ref';
  else if (localTip === remoteTip) status.relation = 'in-sync';
  else if (await git.isAncestor(remoteTip, localTip)) status.relation = 'ahead';
  else if (await git.isAncestor(localTip, remoteTip)) status.relation = 'behind';
  else status.relation = 'diverged';
  return status;
}
