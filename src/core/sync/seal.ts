import { createHash, createHmac } from 'node:crypto';
import { BugError, LoreError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import type { CatFile, Git } from '../../git/git.js';
import type { SessionRow } from '../../store/db.js';
import { chunkId, sealChunk } from '../../format/chunk.js';
import { sealIndex, type SessionIndex } from '../../format/session-index.js';
import { chunkPath, contentDigestV2, serializeMetaV2 } from '../../format/session-entry.js';
import { FORMAT_V2 } from '../../format/descriptor.js';
import type { StoreKeys } from './keys.js';
import type { RefState } from '../../format/ref-store.js';
import { sessionPaths } from '../../format/session-entry.js';
import type { SyncOptions, SyncResult } from './types.js';
import { maybeCrash } from './state.js';

/** One session ready to commit: its metadata, sealed index and the chunks the ref lacks. */
export interface SealedSession {
  meta: Buffer;
  index: Buffer;
  digest: string;
  chunks: Array<{ path: string; data: Buffer }>;
}

/**
 * Which chunks a commit on `base` already has: those in the base tree (asked through cat-file,
 * size only, pipelined) and those added by this commit so far. One per sync.
 */
export class ChunkPresence {
  private readonly added = new Set<string>();
  /** `base` null: a tree built from nothing (repair), where every chunk is written. */
  constructor(private readonly cat: CatFile, private readonly base: string | null) {}

  /** Of these chunk ids, the ones neither in the base tree nor added yet (and marks them added). */
  async missing(cids: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(cids)].filter((c) => !this.added.has(c));
    const base = this.base;
    const found = base ? await Promise.all(unique.map((c) => this.cat.info(`${base}:${chunkPath(c)}`))) : unique.map(() => null);
    const out = new Set<string>();
    unique.forEach((c, i) => {
      if (!found[i]) out.add(c);
      this.added.add(c);
    });
    return out;
  }
}

/**
 * Seals one session as format 2: chunk ids for its pieces, sealed chunks for those the ref lacks,
 * a sealed index and the plaintext metadata. Reads only the pieces that are new to the ref. Null
 * when the session's files add up to more than `maxBytes`.
 */
export async function sealSession(ctx: LoreContext, keys: StoreKeys, presence: ChunkPresence, row: SessionRow, maxBytes: number): Promise<SealedSession | null> {
  const files = ctx.db.sessionFiles(row.id);
  if (!files.length) throw new LoreError(`the stored copy of session ${row.id} is missing`, { hint: 'Run `git lore import` to capture it again.' });
  if (files.reduce((n, f) => n + f.size, 0) > maxBytes) return null;
  const index: SessionIndex = {
    v: FORMAT_V2, id: row.id, tool: row.tool, toolVersion: row.tool_version, branch: row.branch, startedAt: row.started_at, updatedAt: row.updated_at,
    messageCount: row.message_count, agentRoots: row.agent_root ? row.agent_root.split('\n') : [],
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, chunks: f.pieces.map((p) => [chunkId(keys.chunk.id, Buffer.from(p.sha, 'hex')), p.length] as [string, number]) })),
  };
  const pieceOf = new Map<string, (typeof files)[number]['pieces'][number]>();
  files.forEach((f, i) => f.pieces.forEach((p, j) => pieceOf.set(index.files[i]!.chunks[j]![0], p)));
  const missing = await presence.missing([...pieceOf.keys()]);
  const chunks: SealedSession['chunks'] = [];
  for (const cid of missing) {
    const sealed = sealChunk(keys.chunk, keys.storeId, ctx.db.pieces.get(pieceOf.get(cid)!), keys.epoch);
    if (sealed.cid !== cid) throw new BugError(`internal error (a bug in git-lore): chunk id mismatch for session ${row.id}`);
    chunks.push({ path: chunkPath(cid), data: sealed.blob });
  }
  const origin = row.origin_machine ?? ctx.machineId;
  const meta = {
    id: row.id, tool: row.tool, startedAt: toMinute(row.started_at), updatedAt: toMinute(row.updated_at), messageCount: row.message_count,
    // This machine's sessions name it by an id of its own per store, so the host cannot link one
    // person's sessions across repositories; received sessions keep the id they came with.
    originMachine: origin === ctx.machineId ? machineIdFor(ctx.machineId, keys.storeId) : origin,
    branch: row.branch, digest: contentDigestV2(keys.digest, row.id, row.bundle_sha256),
  };
  const metaBytes = serializeMetaV2(meta);
  return { meta: metaBytes, index: sealIndex(keys.dataKey, keys.storeId, row.id, metaBytes, index, keys.epoch), digest: meta.digest, chunks };
}

/**
 * Chunks that changed or vanished between two commits of the ref. A sync never rewrites or
 * removes a chunk, so these were altered by someone else (a host or a writer without the key).
 */
export async function damagedChunks(git: Git, from: string, to: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const c of await git.diffTree(from, to, ['chunks'])) {
    if (c.status === 'A') continue;
    const cid = c.path.slice(c.path.lastIndexOf('/') + 1);
    if (/^[0-9a-f]{64}$/.test(cid)) out.add(cid);
  }
  return out;
}

/** Seals again the damaged chunks this machine holds (any session of `ids`): the files that repair them. */
export function repairChunks(ctx: LoreContext, keys: StoreKeys, damaged: Set<string>, ids: readonly string[]): Array<{ path: string; data: Buffer }> {
  const out = new Map<string, Buffer>();
  for (const id of ids) {
    for (const f of ctx.db.sessionFiles(id)) {
      for (const p of f.pieces) {
        const cid = chunkId(keys.chunk.id, Buffer.from(p.sha, 'hex'));
        if (!damaged.has(cid) || out.has(cid)) continue;
        out.set(cid, sealChunk(keys.chunk, keys.storeId, ctx.db.pieces.get(p), keys.epoch).blob);
      }
    }
    if (out.size === damaged.size) break;
  }
  return [...out].map(([cid, data]) => ({ path: chunkPath(cid), data }));
}

/** This machine's id as one store sees it: 128 bits of HMAC-SHA256(machine id, store id). */
export function machineIdFor(machineId: string, storeId: string): string {
  return createHmac('sha256', machineId).update(`git-lore machine\0${storeId}`).digest('hex').slice(0, 32);
}

/** An ISO time rounded down to the minute (plaintext metadata; the index keeps the exact time). */
export function toMinute(iso: string | null): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t - (t % 60000)).toISOString();
}

/** Seals the sessions to write: the files of one commit (new chunks, indexes, metadata, removed format-1 payloads). */
export async function sealAll(
  ctx: LoreContext, cat: CatFile, keys: StoreKeys, base: RefState, rows: Array<NonNullable<ReturnType<LoreContext['db']['getSession']>>>,
  maxBytes: number, opts: SyncOptions, result: SyncResult,
): Promise<{ ids: string[]; files: Array<{ path: string; data?: Buffer }>; metas: Array<{ oid: string; sessionId: string; digest: string }> }> {
  const presence = new ChunkPresence(cat, base.commit);
  const out = { ids: [] as string[], files: [] as Array<{ path: string; data?: Buffer }>, metas: [] as Array<{ oid: string; sessionId: string; digest: string }> };
  let i = 0;
  for (const row of rows) {
    i += 1;
    opts.onProgress?.('Encrypting sessions', i, rows.length);
    let sealed;
    try {
      sealed = await sealSession(ctx, keys, presence, row, maxBytes);
    } catch (err) {
      result.warnings.push(`skipped session ${row.id}: ${(err as Error).message}`);
      continue;
    }
    if (i === 1) maybeCrash(ctx, 'during-encrypt');
    if (!sealed) {
      if (!result.oversized.includes(row.id)) result.oversized.push(row.id);
      result.warnings.push(`skipped session ${row.id}: its native files are over the ${maxBytes}-byte limit (LORE_MAX_PAYLOAD_BYTES)`);
      continue;
    }
    const paths = sessionPaths(row.id);
    out.files.push({ path: paths.meta, data: sealed.meta }, { path: paths.idx, data: sealed.index }, ...sealed.chunks);
    if (base.sessions.get(row.id)?.payloadOid) out.files.push({ path: paths.payload });
    out.metas.push({ oid: blobOid(sealed.meta), sessionId: row.id, digest: sealed.digest });
    out.ids.push(row.id);
  }
  return out;
}

/** The id git gives a blob (SHA-1 of its header and content), computed without asking git. */
function blobOid(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}
