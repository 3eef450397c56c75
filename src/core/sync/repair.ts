import { LoreError } from '../../errors.js';
import { log } from '../../log.js';
import type { LoreContext } from '../context.js';
import { gitReason, type CatFile, type FastImportFile, type Git, type TreeEntry } from '../../git/git.js';
import { Keyring } from '../../store/keyring.js';
import { DESCRIPTOR_MAX_BYTES, DESCRIPTOR_PATH, parseDescriptor, type Descriptor } from '../../format/descriptor.js';
import { sealedEpoch } from '../../format/sealed-object.js';
import { META_MAX_BYTES, chunkPath, openPayload, parseChunkPath, parseMeta, parseSessionPath, sessionPaths } from '../../format/session-entry.js';
import { INDEX_MAX_BLOB, openIndex } from '../../format/session-index.js';
import { CHUNK_MAX_BLOB, openChunk } from '../../format/chunk.js';
import { LORE_REF, trackingRef } from '../../format/refs.js';
import { importSessions } from '../import.js';
import { COMMITTER, reach } from './run.js';
import { fetchLore } from './transport.js';
import { storeKeys, type StoreKeys } from './keys.js';
import { ChunkPresence, sealSession } from './seal.js';
import { pinStore, pinnedStore } from './pins.js';
import { syncKeys } from './state.js';

/** How many session and chunk entries repair looks at, at most (a hostile ref can list millions). */
const MAX_ENTRIES = 2_000_000;
/** How far back along the first parents repair looks for a descriptor this machine's key opens. */
const MAX_HISTORY = 200;

export interface RepairOptions {
  remote?: string;
  global?: boolean;
  dryRun?: boolean;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface RepairResult {
  remote: string;
  storeId: string;
  /** Sessions of the remote that open whole: kept as they are. */
  kept: string[];
  /** Sessions that were damaged on the remote, written again from this machine's copy. */
  rewritten: string[];
  /** Sessions that were damaged on the remote and that this machine does not hold: left out, with why. */
  dropped: Array<{ id: string; reason: string }>;
  /** This repository's sessions that the remote lacked. */
  added: string[];
  /** Entries of the remote's tree that were not part of any good session (junk, unknown paths). */
  removedEntries: number;
  /** The descriptor was missing or damaged and was taken from an earlier commit. */
  descriptorRestored: boolean;
  commit: string | null;
  dryRun: boolean;
}

/**
 * `git lore repair`: checks the remote's store (and this machine's) and writes one new commit on
 * top of the remote tip that holds every good session: those that open whole are kept as they
 * are, damaged ones are written again from this machine's copy (or left out when it has none),
 * this repository's sessions the remote lacks are added, and entries that belong to no good
 * session are dropped. Pushed by compare-and-swap, never forced: teammates' syncs work again and
 * nothing that could be read is lost.
 */
export async function repairStore(ctx: LoreContext, opts: RepairOptions = {}): Promise<RepairResult> {
  await importSessions(ctx);
  const r = await reach(ctx, { ...opts, dryRun: true });
  const { target, remote, url } = r;
  const git = target.git;
  if (!opts.dryRun) await fetchLore(git, remote, url);
  const remoteTip = opts.dryRun ? r.remoteTip : await git.resolve(trackingRef(remote));
  const localTip = await git.resolve(LORE_REF);
  const base = remoteTip ?? localTip;
  if (!base) throw new LoreError(`there is no lore store on ${remote} or here to repair`, { hint: 'Run `git lore sync setup` to create one.' });
  const cat = git.catFile();
  try {
    const found = await findDescriptor(ctx, git, cat, [remoteTip, localTip], pinnedStore(ctx, target, remote, r.address).clone);
    const keys = storeKeys(found.descriptor.storeId, found.epochs.at(-1)!, found.epochs);
    const result: RepairResult = {
      remote, storeId: keys.storeId, kept: [], rewritten: [], dropped: [], added: [], removedEntries: 0,
      descriptorRestored: found.commit !== remoteTip, commit: null, dryRun: Boolean(opts.dryRun),
    };
    const entries = remoteTip ? await git.lsTree(remoteTip) : [];
    if (entries.length > MAX_ENTRIES) {
      throw new LoreError(`the lore ref on ${remote} lists ${entries.length} files, more than the ${MAX_ENTRIES} repair reads`, { hint: 'Ask the host to reset refs/lore/sessions to an earlier commit.' });
    }
    const chunkOids = new Map<string, TreeEntry>();
    const sessions = new Map<string, { meta?: TreeEntry; index?: TreeEntry; payload?: TreeEntry }>();
    for (const e of entries) {
      const cid = parseChunkPath(e.path);
      if (cid) {
        chunkOids.set(cid, e);
        continue;
      }
      const p = parseSessionPath(e.path);
      if (!p) continue;
      const s = sessions.get(p.id) ?? {};
      if (p.kind === 'meta') s.meta = e;
      else if (p.kind === 'index') s.index = e;
      else s.payload = e;
      sessions.set(p.id, s);
    }
    // The descriptor's own bytes: its slots, epoch and key history stay exactly as their holders wrote them.
    const files: FastImportFile[] = [{ path: DESCRIPTOR_PATH, data: found.bytes }];
    const keptChunks = new Set<string>();
    const damaged: string[] = [];
    let done = 0;
    for (const [id, s] of sessions) {
      done += 1;
      opts.onProgress?.('Checking sessions', done, sessions.size);
      const problem = await checkSession(cat, keys, id, s, chunkOids, keptChunks);
      if (!problem) {
        result.kept.push(id);
        for (const e of [s.meta, s.index ?? s.payload]) if (e) files.push({ path: e.path, oid: e.oid });
      } else {
        log.sync('repair: session %s: %s', id, problem);
        damaged.push(id);
        if (!ctx.db.getSession(id)) result.dropped.push({ id, reason: problem });
      }
    }
    for (const cid of keptChunks) files.push({ path: chunkPath(cid), oid: chunkOids.get(cid)!.oid });
    // Damaged sessions this machine holds, and this repository's sessions the remote lacks: sealed whole.
    const scope = target.global ? undefined : target.repo ?? undefined;
    const missing = ctx.db.sessionDigests(scope).map((x) => x.id).filter((id) => !sessions.has(id));
    const presence = new ChunkPresence(cat, null);
    await presence.missing([...keptChunks]);
    for (const id of [...damaged, ...missing]) {
      const row = ctx.db.getSession(id);
      if (!row) continue;
      const sealed = await sealSession(ctx, keys, presence, row, Number.MAX_SAFE_INTEGER);
      if (!sealed) continue;
      const p = sessionPaths(id);
      files.push({ path: p.meta, data: sealed.meta }, { path: p.idx, data: sealed.index }, ...sealed.chunks);
      (sessions.has(id) ? result.rewritten : result.added).push(id);
    }
    const keptPaths = new Set(files.map((f) => f.path));
    result.removedEntries = entries.filter((e) => !keptPaths.has(e.path)).length;
    if (opts.dryRun) return result;
    if (!result.rewritten.length && !result.added.length && !result.removedEntries && !result.descriptorRestored && remoteTip) return result;
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const { oid: commit, scratch } = await git.fastImportScratch({
      parents: [base], files, replaceAll: true, message: `lore: repair (${result.kept.length + result.rewritten.length + result.added.length} sessions)\n`, committer: COMMITTER, time: ctx.env.now(),
    });
    if (!(await git.updateRef(LORE_REF, commit, localTip, 'lore repair', scratch))) {
      await git.deleteRef(scratch);
      throw new LoreError('another git-lore command moved the lore ref meanwhile; nothing was pushed', { hint: 'Run `git lore repair` again.' });
    }
    const pushed = await git.push(url, [`${LORE_REF}:${LORE_REF}`]);
    const ref = pushed.refs.find((x) => x.dst === LORE_REF);
    if (pushed.run.exitCode !== 0 || !ref || ref.flag === '!') {
      throw new LoreError(`cannot push the repaired store to ${remote}: ${gitReason(pushed.run.stderr) || ref?.reason || 'unknown error'}`, {
        hint: `The repair is committed locally in ${LORE_REF}; if someone pushed meanwhile, run \`git lore repair\` again.`,
      });
    }
    await git.setRef(trackingRef(remote), commit);
    pinStore(ctx, target, remote, r.address, keys.storeId);
    const k = syncKeys(target, remote);
    ctx.db.deleteKv(k.failed);
    ctx.db.deleteKv(k.state);
    result.commit = commit;
    return result;
  } finally {
    await cat.close();
  }
}

/**
 * The descriptor to repair with: among those of the pinned store along the first parents of the
 * given tips (the remote's may have been replaced, damaged or rolled back), the one at the highest
 * key epoch that this machine's keys open (newest first among equals). Never an older epoch than
 * one that opens: a writer without the key who puts back an earlier descriptor (with a removed
 * member's slot in it) does not get it kept. The keys are every epoch's, from the cached key, a
 * rotation picked up through this machine's slot as sync does (src/core/keys/machine-key.ts).
 */
async function findDescriptor(ctx: LoreContext, git: Git, cat: CatFile, tips: Array<string | null>, pinned: string | null): Promise<{ descriptor: Descriptor; epochs: Buffer[]; commit: string; bytes: Buffer }> {
  const keyring = new Keyring(ctx.paths.loreHome);
  const seen = new Set<string>();
  const candidates: Array<{ descriptor: Descriptor; commit: string; bytes: Buffer }> = [];
  for (const tip of tips) {
    if (!tip) continue;
    const commits = await git.firstParents(tip, MAX_HISTORY);
    for (const c of commits) {
      let d: Descriptor;
      let bytes: Buffer;
      try {
        const blob = await cat.get(`${c}:${DESCRIPTOR_PATH}`, DESCRIPTOR_MAX_BYTES);
        if (!blob || blob.tooLarge) continue;
        const text = blob.data.toString('latin1');
        if (seen.has(text)) continue;
        seen.add(text);
        bytes = blob.data;
        d = parseDescriptor(blob.data);
      } catch {
        continue; // damaged: look further back
      }
      if (pinned && d.storeId !== pinned) continue;
      if (!keyring.get(d.storeId).key) continue;
      candidates.push({ descriptor: d, commit: c, bytes });
    }
  }
  // Highest epoch first; the sort is stable, so the newest stays first among equals.
  candidates.sort((a, b) => (b.descriptor.epoch ?? 0) - (a.descriptor.epoch ?? 0));
  const { currentKeys } = await import('../keys/machine-key.js');
  for (const c of candidates) {
    try {
      return { ...c, epochs: await currentKeys(ctx, c.descriptor) };
    } catch (err) {
      log.sync('repair: the descriptor of %s does not open here: %s', c.commit, (err as Error).message);
    }
  }
  throw new LoreError('no store descriptor on the remote or here opens with a key cached on this machine', { hint: 'Run `git lore sync setup` to join the store with its passphrase, then `git lore repair`.' });
}

/** Why a remote session does not open whole (null: it does; its chunks are added to `chunks`). */
async function checkSession(cat: CatFile, keys: StoreKeys, id: string, s: { meta?: TreeEntry; index?: TreeEntry; payload?: TreeEntry }, chunkOids: Map<string, TreeEntry>, chunks: Set<string>): Promise<string | null> {
  if (!s.meta || (!s.index && !s.payload)) return 'metadata or index missing';
  try {
    if (s.meta.size > META_MAX_BYTES) return 'metadata over the size limit';
    const meta = (await cat.get(s.meta.oid, META_MAX_BYTES))?.data;
    if (!meta) return 'metadata missing';
    parseMeta(meta, id);
    if (!s.index) {
      const blob = await cat.get(s.payload!.oid, 4 * 1024 * 1024 * 1024);
      if (!blob) return 'payload missing';
      openPayload(keys.forEpoch(0).dataKey, keys.storeId, id, meta, blob.data);
      return null;
    }
    if (s.index.size > INDEX_MAX_BLOB) return 'index over the size limit';
    const idx = (await cat.get(s.index.oid, INDEX_MAX_BLOB))?.data;
    if (!idx) return 'index missing';
    // Sealed under the epoch its header names (older sessions stay under older keys); its chunks too.
    const epoch = keys.forEpoch(sealedEpoch(idx));
    const index = openIndex(epoch.dataKey, keys.storeId, id, meta, idx, epoch.epoch);
    const mine = new Set<string>();
    for (const f of index.files) {
      for (const [cid, length] of f.chunks) {
        if (mine.has(cid) || chunks.has(cid)) continue;
        const e = chunkOids.get(cid);
        if (!e) return `chunk ${cid.slice(0, 12)} missing`;
        if (e.size > CHUNK_MAX_BLOB) return `chunk ${cid.slice(0, 12)} over the size limit`;
        const blob = await cat.get(e.oid, CHUNK_MAX_BLOB);
        if (!blob) return `chunk ${cid.slice(0, 12)} missing`;
        openChunk(epoch.chunk, keys.storeId, cid, blob.data, length, undefined, epoch.epoch);
        mine.add(cid);
      }
    }
    for (const c of mine) chunks.add(c);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
