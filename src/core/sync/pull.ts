import { isTranscriptPath } from '../../sources/registry.js';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { DataError, failureKind, toLoreError, type FailureKind } from '../../errors.js';
import { log } from '../../log.js';
import type { LoreContext } from '../context.js';
import type { CatFile } from '../../git/git.js';
import { unpackBundle, type NativeFile } from '../../store/bundle.js';
import type { PieceRef } from '../../store/pieces.js';
import { Cutter } from '../../store/cutter.js';
import { META_MAX_BYTES, openPayload, parseMeta, chunkPath } from '../../format/session-entry.js';
import { INDEX_MAX_BLOB, isNativePath, openIndex, type SessionIndex } from '../../format/session-index.js';
import { CHUNK_MAX_BLOB, chunkId, openChunk } from '../../format/chunk.js';
import type { RefSession } from '../../format/ref-store.js';
import { sources } from '../import.js';
import { updateSession, type FileVersion } from '../session-update.js';
import type { EpochKeys, StoreKeys } from './keys.js';
import { sealedEpoch } from '../../format/sealed-object.js';
import type { SyncTarget } from './target.js';
import type { RefState } from '../../format/ref-store.js';
import type { SyncOptions, SyncResult } from './types.js';
import { maybeCrash } from './state.js';

const gunzip = promisify(zlib.gunzip);
const MANIFEST = 'manifest.json';

export type PullOutcome = { kind: 'merged'; conflicts: number } | { kind: 'same' } | { kind: 'oversized' } | { kind: 'failed'; reason: string; cause: FailureKind };

const malformed = (reason: string): PullOutcome => ({ kind: 'failed', reason, cause: 'malformed' });

/**
 * Decrypts one remote session (format 2, or format 1 in a store not yet converted) and merges it
 * into the local store. Only the chunks this machine lacks are read. Never applies data that
 * failed authentication; every size is checked before anything is read.
 */
export async function pullOne(ctx: LoreContext, cat: CatFile, keys: StoreKeys, commit: string, e: RefSession, target: SyncTarget, maxBytes: number): Promise<PullOutcome> {
  if (!e.metaOid || !(e.indexOid || e.payloadOid)) return malformed('metadata or index missing from the ref');
  if ((e.metaSize ?? 0) > META_MAX_BYTES) return malformed(`metadata of ${e.metaSize} bytes is over the ${META_MAX_BYTES}-byte limit`);
  try {
    const metaBlob = await cat.get(e.metaOid, META_MAX_BYTES);
    if (!metaBlob || metaBlob.tooLarge) return malformed('metadata missing from the local object store');
    const meta = parseMeta(metaBlob.data, e.id);
    const source = sources(ctx, { unreadable: () => undefined }).find((s) => s.tool === meta.tool);
    if (!source) return malformed(`unknown tool ${meta.tool}`);
    let versions: FileVersion[];
    let agentRoots: string[];
    if (e.indexOid) {
      if ((e.indexSize ?? 0) > INDEX_MAX_BLOB) return malformed(`index of ${e.indexSize} bytes is over the ${INDEX_MAX_BLOB}-byte limit`);
      const blob = await cat.get(e.indexOid, INDEX_MAX_BLOB);
      if (!blob || blob.tooLarge) return malformed('index missing from the local object store');
      // The index's header names its key epoch; its chunks are of the same epoch.
      const epoch = keys.forEpoch(sealedEpoch(blob.data));
      const index = openIndex(epoch.dataKey, keys.storeId, e.id, metaBlob.data, blob.data, epoch.epoch);
      if (index.tool !== meta.tool) throw new DataError(`session ${e.id}: the index names tool ${index.tool}, the metadata ${meta.tool}`);
      if (index.files.reduce((n, f) => n + f.size, 0) > maxBytes) return { kind: 'oversized' };
      versions = await fetchFiles(ctx, cat, keys.storeId, epoch, commit, e.id, index);
      agentRoots = index.agentRoots;
    } else {
      if ((e.payloadSize ?? 0) > maxBytes) return { kind: 'oversized' };
      const blob = await cat.get(e.payloadOid!, maxBytes);
      if (!blob || blob.tooLarge) return malformed('payload missing from the local object store');
      const gz = openPayload(keys.forEpoch(0).dataKey, keys.storeId, e.id, metaBlob.data, blob.data);
      const { files, manifest } = await decodePayload(gz, e.id, maxBytes);
      const cutter = new Cutter(ctx.paths.loreHome, ctx.db.pieces);
      versions = files.map((f) => ({ file: { path: f.path, size: f.data.length, sha256: crypto.createHash('sha256').update(f.data).digest('hex'), pieces: cutter.cut(f.data) } }));
      agentRoots = manifest?.agentRoots ?? [];
    }
    const local = ctx.db.getSession(e.id);
    const r = await updateSession(ctx, source, e.id, versions, {
      origin: 'sync',
      originMachine: meta.originMachine,
      placement: { repoRoot: local?.repo_root ?? target.repoRoot, repoId: local?.repo_id ?? target.repo?.id ?? null, agentRoots, realRoot: null },
      fromSync: true,
      // For agents whose files record no times: the time the sender's capture gave it.
      ...((meta.startedAt ?? meta.updatedAt) ? { timeHint: (meta.startedAt ?? meta.updatedAt)! } : {}),
    });
    return r.status === 'unchanged' ? { kind: 'same' } : { kind: 'merged', conflicts: r.conflicts };
  } catch (err) {
    const le = toLoreError(err);
    const cause = failureKind(le);
    // A bug is logged with its stack (DEBUG=lore:*) and reported as a bug, not as tampering.
    log.sync('session %s failed (%s): %O', e.id, cause, cause === 'bug' ? err : le.message);
    return { kind: 'failed', reason: le.message, cause };
  }
}

/**
 * The files of a format-2 index as local pieces: chunks this machine already holds (by id) are
 * not read; the others are read (size first), opened, checked and stored. Each file's bytes are
 * hashed as they are assembled and must match the index (a member holding the key could still
 * send an index that lies).
 */
async function fetchFiles(ctx: LoreContext, cat: CatFile, storeId: string, keys: EpochKeys, commit: string, sessionId: string, index: SessionIndex): Promise<FileVersion[]> {
  const pieces = ctx.db.pieces;
  const local = new Map(ctx.db.sessionFiles(sessionId).map((f) => [f.path, f]));
  const byCid = new Map<string, PieceRef>();
  for (const f of local.values()) for (const p of f.pieces) byCid.set(chunkId(keys.chunk.id, Buffer.from(p.sha, 'hex')), p);
  const out: FileVersion[] = [];
  for (const f of index.files) {
    if (local.get(f.path)?.sha256 === f.sha256) continue;
    const h = crypto.createHash('sha256');
    const refs: PieceRef[] = [];
    for (const [cid, length] of f.chunks) {
      let ref = byCid.get(cid);
      let data: Buffer;
      if (ref) data = pieces.get(ref);
      else {
        const blob = await cat.get(`${commit}:${chunkPath(cid)}`, CHUNK_MAX_BLOB);
        if (!blob) throw new DataError(`session ${sessionId}: chunk ${cid.slice(0, 12)} is missing from the lore ref`);
        if (blob.tooLarge) throw new DataError(`session ${sessionId}: chunk ${cid.slice(0, 12)} is ${blob.size} bytes, over the limit`);
        data = openChunk(keys.chunk, storeId, cid, blob.data, length, undefined, keys.epoch);
        ref = pieces.put(data);
        byCid.set(cid, ref);
      }
      if (data.length !== length) throw new DataError(`session ${sessionId}: chunk ${cid.slice(0, 12)} has ${data.length} bytes, the index says ${length}`);
      h.update(data);
      refs.push(ref);
    }
    if (h.digest('hex') !== f.sha256) throw new DataError(`session ${sessionId}: ${f.path} does not match the digest its index states`);
    out.push({ file: { path: f.path, size: f.size, sha256: f.sha256, pieces: refs } });
  }
  return out;
}

/** What a format-1 payload's manifest.json holds besides the native files (docs/FORMAT.md). */
interface Manifest {
  agentRoots: string[];
}

/**
 * The plaintext of a format-1 payload (after authentication): gzip of a tar of native files plus
 * manifest.json. Bounded (decompressed size), validated (paths), and every failure is a
 * DataError naming the session: a member holding the key could still send garbage.
 */
export async function decodePayload(gz: Buffer, sessionId: string, maxPayload: number): Promise<{ files: NativeFile[]; manifest: Manifest | null }> {
  let entries: NativeFile[];
  try {
    const tar = await gunzip(gz, { maxOutputLength: Math.min(4 * maxPayload + 64 * 1024 * 1024, 2 ** 31) });
    entries = await unpackBundle(tar);
  } catch (err) {
    throw new DataError(`session ${sessionId}: the payload does not decode (${(err as Error).message})`, { cause: err });
  }
  const manifestFile = entries.find((f) => f.path === MANIFEST);
  let manifest: Manifest | null = null;
  if (manifestFile) {
    try {
      const m = JSON.parse(manifestFile.data.toString('utf8')) as Manifest;
      manifest = m && typeof m === 'object' ? { agentRoots: Array.isArray(m.agentRoots) ? m.agentRoots.filter((r) => typeof r === 'string') : [] } : null;
    } catch (err) {
      throw new DataError(`session ${sessionId}: the payload's manifest is not valid JSON`, { cause: err });
    }
  }
  const files = entries.filter((f) => f.path !== MANIFEST);
  for (const f of files) {
    if (!isNativePath(f.path)) throw new DataError(`session ${sessionId}: payload holds an unexpected path ${JSON.stringify(f.path)}`);
  }
  if (!files.some((f) => isTranscriptPath(f.path))) throw new DataError(`session ${sessionId}: the payload holds no transcript`);
  return { files, manifest };
}

/** Receives the sessions to pull, one by one, recording outcomes in the result. */
export async function pullAll(
  ctx: LoreContext, cat: CatFile, keys: StoreKeys, commit: string, toPull: RefState['sessions'] extends Map<string, infer E> ? E[] : never,
  target: SyncTarget, maxBytes: number, opts: SyncOptions, result: SyncResult, pulledOrSame: Set<string>, remote: string,
): Promise<void> {
  let done = 0;
  const pulled = new Set(result.pulled);
  for (const e of toPull) {
    done += 1;
    opts.onProgress?.('Receiving sessions', done, toPull.length);
    if (opts.dryRun) {
      result.pulled.push(e.id);
      continue;
    }
    const outcome = await pullOne(ctx, cat, keys, commit, e, target, maxBytes);
    pulledOrSame.add(`${e.id}\0${e.metaOid}`);
    if (outcome.kind === 'failed') {
      result.failed.push({ id: e.id, reason: outcome.reason, cause: outcome.cause });
    } else if (outcome.kind === 'oversized') {
      if (!result.oversized.includes(e.id)) result.oversized.push(e.id);
      result.warnings.push(`skipped session ${e.id} from ${remote}: it is over the ${maxBytes}-byte limit (LORE_MAX_PAYLOAD_BYTES)`);
    } else if (outcome.kind === 'merged') {
      if (!pulled.has(e.id)) result.pulled.push(e.id);
      pulled.add(e.id);
      if (outcome.conflicts) {
        result.warnings.push(`session ${e.id}: ${outcome.conflicts} line${outcome.conflicts === 1 ? '' : 's'} from ${remote} conflict with this machine's; both versions are kept (docs/SECURITY.md)`);
      }
    }
    if (done === 1) maybeCrash(ctx, 'during-pull');
  }
}
