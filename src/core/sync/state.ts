import fs from 'node:fs';
import path from 'node:path';
import { log } from '../../log.js';
import type { LoreContext } from '../context.js';
import type { SyncTarget } from './target.js';
import type { RepoKey } from '../../store/db.js';
import type { CatFile } from '../../git/git.js';
import { LoreError } from '../../errors.js';
import { DESCRIPTOR_MAX_BYTES, DESCRIPTOR_PATH, parseDescriptor } from '../../format/descriptor.js';
import { sessionPaths } from '../../format/session-entry.js';
import type { RefSession, RefState } from '../../format/ref-store.js';

/** A quick sync reads the tree entries of at most this many changed sessions by path; more, and it lists the whole tree. */
const QUICK_MAX_SESSIONS = 200;

/** What a complete sync left (kv `sync-state`): the lore ref, the session counter it started from, the store. */
export interface SyncState {
  tip: string;
  rev: string;
  storeId: string;
}

/** The kv keys of a target and remote: the last successful sync's time, and the state of the last complete one. */
export const syncKeys = (target: SyncTarget, remote: string) => ({
  failed: `failed\0${target.gitDir}\0${remote}`,
  lastSync: `last-sync\0${target.gitDir}\0${remote}`,
  state: `sync-state\0${target.gitDir}\0${remote}`,
});

export function readSyncState(ctx: LoreContext, key: string): SyncState | null {
  const [tip, rev, storeId] = ctx.db.getKv(key)?.split(' ') ?? [];
  return tip && rev ? { tip, rev, storeId: storeId ?? '' } : null;
}

/**
 * The sessions (of `scope`) written since the complete sync recorded in `state`, when the local
 * ref is still where that sync left it, so that every other session matches the ref; null when
 * it moved, or when they are too many to read their tree entries by path (the full path then).
 */
export function writtenSince(ctx: LoreContext, state: SyncState | null, localTip: string | null, scope: RepoKey | undefined): Array<{ id: string; bundle_sha256: string }> | null {
  if (!state || state.tip !== localTip) return null;
  const rows = ctx.db.sessionDigests(scope, state.rev);
  return rows.length <= QUICK_MAX_SESSIONS ? rows : null;
}

/**
 * Marks the time a successful sync started (`$GIT_DIR/lore/hook-stamp`): the pre-push shim
 * skips starting git-lore when no agent file is newer and the lore ref matches the remote's.
 */
export function touchStamp(target: SyncTarget, started: Date): void {
  if (target.global) return;
  try {
    const file = path.join(target.gitDir, 'lore', 'hook-stamp');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    fs.utimesSync(file, started, started);
  } catch (err) {
    log.sync('cannot touch the hook stamp: %s', (err as Error).message);
  }
}

/**
 * Test-only fault injection: LORE_TEST_CRASH=<point> kills the process there with SIGKILL
 * (points: after-capture, during-pull, during-encrypt, after-objects, after-update-ref, after-push;
 * docs/RELIABILITY.md).
 */
export function maybeCrash(ctx: LoreContext, point: string): void {
  if (ctx.env.vars.LORE_TEST_CRASH === point) process.kill(process.pid, 'SIGKILL');
}


/** A remote session's entries, as a key of what failed: the same entries fail the same way. */
export const entriesKey = (e: { id: string; metaOid?: string; indexOid?: string; payloadOid?: string }) => `${e.id}:${e.metaOid ?? ''}:${e.indexOid ?? e.payloadOid ?? ''}`;

/** The remote entries that failed to be read, as left by earlier syncs (bounded); empty when the chunk pool changed since. */
export function readFailed(ctx: LoreContext, key: string, chunkPool: string): Set<string> {
  try {
    const v = JSON.parse(ctx.db.getKv(key) ?? '{}') as { pool?: unknown; entries?: unknown };
    if (v.pool !== chunkPool || !Array.isArray(v.entries)) return new Set();
    return new Set(v.entries.filter((x): x is string => typeof x === 'string').slice(0, 100000));
  } catch {
    return new Set();
  }
}

export function writeFailed(ctx: LoreContext, key: string, chunkPool: string, entries: Set<string>): void {
  if (entries.size) ctx.db.setKv(key, JSON.stringify({ pool: chunkPool, entries: [...entries].slice(0, 100000) }));
  else ctx.db.deleteKv(key);
}

/**
 * The state of a lore commit with only the entries of `ids` (at most QUICK_MAX_SESSIONS): what
 * `readRefState(git, cat, commit, ids)` returns, looked up path by path through the sync's one
 * cat-file process (pipelined) instead of an `ls-tree` process. A path that is not a blob is
 * left out, as ls-tree's listing would have it under unknownPaths (never interpreted).
 */
export async function readSomeSessions(cat: CatFile, commit: string, ids: readonly string[]): Promise<RefState> {
  if (ids.length > QUICK_MAX_SESSIONS) throw new RangeError(`readSomeSessions: ${ids.length} sessions, more than ${QUICK_MAX_SESSIONS}`);
  const kinds = ['meta', 'idx', 'payload'] as const;
  const looked = await Promise.all([
    cat.stat(`${commit}:${DESCRIPTOR_PATH}`),
    ...ids.flatMap((id) => kinds.map((k) => cat.stat(`${commit}:${sessionPaths(id)[k]}`))),
  ]);
  const descriptor = looked[0];
  if (!descriptor || descriptor.type !== 'blob') {
    throw new LoreError(`commit ${commit.slice(0, 12)} of the lore ref has no ${DESCRIPTOR_PATH}: not a git-lore store`, { hint: 'The lore ref may be damaged; see docs/SECURITY.md.' });
  }
  if (descriptor.size > DESCRIPTOR_MAX_BYTES) {
    throw new LoreError(`the lore store descriptor (${DESCRIPTOR_PATH}) is ${descriptor.size} bytes, over the ${DESCRIPTOR_MAX_BYTES}-byte limit: refusing to read it`, { hint: 'The lore ref may have been tampered with; see docs/SECURITY.md.' });
  }
  const blob = await cat.get(descriptor.oid, DESCRIPTOR_MAX_BYTES);
  if (!blob || blob.tooLarge) throw new LoreError(`the lore store descriptor ${descriptor.oid} is missing from the object store`, { hint: 'Run `git lore sync` again to fetch it.' });
  const sessions = new Map<string, RefSession>();
  ids.forEach((id, i) => {
    const [meta, idx, payload] = kinds.map((_, k) => looked[1 + i * kinds.length + k]);
    const s: RefSession = { id };
    if (meta?.type === 'blob') Object.assign(s, { metaOid: meta.oid, metaSize: meta.size });
    if (idx?.type === 'blob') Object.assign(s, { indexOid: idx.oid, indexSize: idx.size });
    if (payload?.type === 'blob') Object.assign(s, { payloadOid: payload.oid, payloadSize: payload.size });
    if (s.metaOid || s.indexOid || s.payloadOid) sessions.set(id, s);
  });
  return { commit, descriptor: parseDescriptor(blob.data), descriptorOid: descriptor.oid, sessions, unknownPaths: [] };
}
