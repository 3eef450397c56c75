import { log } from '../../log.js';
import type { LoreContext } from '../context.js';
import type { CatFile } from '../../git/git.js';
import { META_MAX_BYTES, parseMeta } from '../../format/session-entry.js';
import type { RefSession, RefState } from '../../format/ref-store.js';

/** Reads and parses one metadata blob within its size limit; null (logged) when it is missing, too large or malformed. */
async function readDigest(cat: CatFile, id: string, oid: string, size: number | undefined): Promise<string | null> {
  if ((size ?? 0) > META_MAX_BYTES) {
    log.sync('metadata of %s is %d bytes, over the limit; not read', id, size);
    return null;
  }
  try {
    const blob = await cat.get(oid, META_MAX_BYTES);
    return blob && !blob.tooLarge ? parseMeta(blob.data, id).digest : null;
  } catch (err) {
    log.sync('unreadable metadata for %s: %s', id, (err as Error).message);
    return null;
  }
}

/** Digests of the ref's metadata blobs, read once per blob id ever (cached in lore.db). */
export async function metaDigests(ctx: LoreContext, cat: CatFile, base: RefState, wanted: (e: RefSession) => boolean = () => true): Promise<Map<string, string>> {
  const have = ctx.db.metaDigests();
  // An entry without an index (or format-1 payload) cannot be a session: its metadata is not worth reading.
  const missing = [...base.sessions.values()].filter((e) => e.metaOid && (e.indexOid || e.payloadOid) && !have.has(e.metaOid) && wanted(e));
  // Requests are pipelined through the one cat-file process.
  const digests = await Promise.all(missing.map((e) => readDigest(cat, e.id, e.metaOid!, e.metaSize)));
  const fresh: Array<{ oid: string; sessionId: string; digest: string }> = [];
  missing.forEach((e, i) => {
    const d = digests[i];
    if (!d) return;
    have.set(e.metaOid!, d);
    fresh.push({ oid: e.metaOid!, sessionId: e.id, digest: d });
  });
  if (fresh.length) ctx.db.putMetaDigests(fresh);
  return have;
}

/** Digests of the ref's metadata blobs for a few sessions: from the cache, else read through cat-file. */
export async function someMetaDigests(ctx: LoreContext, cat: CatFile, base: RefState, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const e = base.sessions.get(id);
    if (!e?.metaOid) continue;
    const d = ctx.db.metaDigest(id, e.metaOid) ?? (await readDigest(cat, id, e.metaOid, e.metaSize));
    if (d) out.set(e.metaOid, d);
  }
  return out;
}
