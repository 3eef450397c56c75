import type { LoreContext } from '../context.js';
import { INDEX_MAX_BLOB } from '../../format/session-index.js';
import { sealedEpoch } from '../../format/sealed-object.js';
import { sessionPaths } from '../../format/session-entry.js';
import { getSetting } from '../config.js';
import { runSync, DEFAULT_MAX_PAYLOAD_BYTES } from '../sync/run.js';
import { loadStoreKeys } from '../sync/keys.js';
import { ChunkPresence, sealSession } from '../sync/seal.js';
import { commitDescriptor, type StoreChoice } from './change.js';

/**
 * Re-seals under the current key epoch every session of the store whose index is sealed under an
 * earlier one: a sync first (so this machine holds every session it can read), then one commit
 * of new indexes and chunks, pushed by compare-and-swap (redone on a moved tip). Sessions this
 * machine could not pull stay as they are and are listed. Killed part-way, nothing is half
 * written: run it again (`git lore keys reseal`).
 */
export async function resealAll(ctx: LoreContext, opts: StoreChoice): Promise<{ resealed: number; missing: string[]; commit: string | null }> {
  await runSync(ctx, { ...opts });
  const maxBytes = Number(await getSetting(ctx, 'max_payload_bytes')) || DEFAULT_MAX_PAYLOAD_BYTES;
  let resealed = 0;
  let missing: string[] = [];
  let nothing = false;
  try {
    const r = await commitDescriptor(ctx, opts, 'keys: re-seal sessions under the current key', async ({ cat, state }) => {
      const keys = await loadStoreKeys(ctx, state);
      const presence = new ChunkPresence(cat, state.commit);
      const files: Array<{ path: string; data: Buffer }> = [];
      resealed = 0;
      missing = [];
      for (const e of state.sessions.values()) {
        if (!e.indexOid) continue;
        const blob = await cat.get(e.indexOid, INDEX_MAX_BLOB);
        if (!blob || blob.tooLarge || sealedEpoch(blob.data) >= keys.epoch) continue;
        const row = ctx.db.getSession(e.id);
        const sealed = row ? await sealSession(ctx, keys, presence, row, maxBytes) : null;
        if (!sealed) {
          missing.push(e.id);
          continue;
        }
        const paths = sessionPaths(e.id);
        files.push({ path: paths.meta, data: sealed.meta }, { path: paths.idx, data: sealed.index }, ...sealed.chunks);
        resealed += 1;
      }
      if (!files.length) {
        nothing = true;
        throw new NothingToDo();
      }
      return { descriptor: state.descriptor, result: {}, files };
    });
    return { resealed, missing, commit: r.commit };
  } catch (err) {
    if (nothing && err instanceof NothingToDo) return { resealed: 0, missing, commit: null };
    throw err;
  }
}

class NothingToDo extends Error {}
