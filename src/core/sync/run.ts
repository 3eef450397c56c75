import { LoreError, UsageError } from '../../errors.js';
import type { SyncOptions, SyncResult } from './types.js';
import { log } from '../../log.js';
import type { LoreContext } from '../context.js';
import { gitReason, type CatFile } from '../../git/git.js';
import { DESCRIPTOR_PATH, serializeDescriptor, upgradeDescriptor, verifyKey } from '../../format/descriptor.js';
import { contentDigestV2 } from '../../format/session-entry.js';
import { readRefState, type RefState } from '../../format/ref-store.js';
import { LORE_REF, LORE_REMOTES, fetchRefspec, trackingRef } from '../../format/refs.js';
import { checkKdfParams, sameHex } from '../../crypto/primitives.js';
import { importSessions } from '../import.js';
import { getSetting } from '../config.js';
import { networkAddress, pickRemote, pinAddress, readRemoteConfig, syncTarget, type SyncTarget } from './target.js';
import { checkPin } from './pins.js';
import { normalizeAddress } from './address.js';
import { fetchLore, peekLore } from './transport.js';
import { entriesKey, maybeCrash, readFailed, readSomeSessions, readSyncState, syncKeys, touchStamp, writeFailed, writtenSince } from './state.js';
import { loadStoreKeys } from './keys.js';
import { metaDigests, someMetaDigests } from './digests.js';
import { pullAll } from './pull.js';
import { damagedChunks, repairChunks, sealAll } from './seal.js';

/** Default limit of one session's native files for sync: 1 GiB (LORE_MAX_PAYLOAD_BYTES). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;
export const COMMITTER = 'git-lore <git-lore@invalid>';
const MAX_ATTEMPTS = 8;

export interface Reached {
  target: SyncTarget;
  remote: string;
  url: string;
  /** The remote's address as a pin key (docs/SECURITY.md, store pinning). */
  address: string | null;
  pushTracks: boolean;
  remoteTip: string | null;
  localTip: string | null;
  /** False when the fetch was left out (`reach`'s `optimistic`): the tips are those of the last sync. */
  fetched: boolean;
}

/**
 * Resolves the target and remote and fetches the remote's lore ref (or, for a dry run, only peeks
 * at it). With `optimistic`, when both lore refs are where the last complete sync left them, the
 * fetch is left out: a sync with something to send pushes on top of that tip, and a remote that
 * moved since rejects the push, which then fetches (`runSync`).
 */
export async function reach(ctx: LoreContext, opts: Pick<SyncOptions, 'global' | 'remote' | 'url' | 'dryRun'>, optimistic = false, targeted?: Promise<SyncTarget>): Promise<Reached> {
  // For this repository's store, its config and lore refs are read from the working folder while
  // rev-parse finds the repository: three git processes at once, not one after another.
  const here = opts.global ? null : ctx.git();
  const cfgEarly = here ? readRemoteConfig(here) : null;
  const refsEarly = here && optimistic && !opts.dryRun ? here.resolveRefs([LORE_REF, LORE_REMOTES]) : null;
  cfgEarly?.catch(() => undefined);
  refsEarly?.catch(() => undefined);
  const target = await (targeted ?? syncTarget(ctx, opts.global ? { global: true } : {}));
  const cfg = await (cfgEarly ?? readRemoteConfig(target.git));
  const remote = await pickRemote(target.git, opts.remote, cfg);
  const url = opts.url ?? (await networkAddress(target.git, remote, cfg));
  // git push updates the tracking ref itself when it pushes to the remote by name through our refspec.
  const pushTracks = url === remote && (cfg.fetch.get(remote) ?? []).includes(fetchRefspec(remote));
  const address = opts.url ? normalizeAddress(opts.url, target.gitDir) : await pinAddress(target.git, remote, target.gitDir, cfg);
  if (opts.dryRun) return { target, remote, url, address, pushTracks, remoteTip: await peekLore(target.git, remote, url), localTip: await target.git.resolve(LORE_REF), fetched: true };
  const reached = { target, remote, url, address, pushTracks };
  if (optimistic) {
    const refs = refsEarly ? await refsEarly : null;
    const tips = refs ? { localTip: refs.get(LORE_REF) ?? null, remoteTip: refs.get(trackingRef(remote)) ?? null } : await tipsOf(target.git, remote);
    const state = readSyncState(ctx, syncKeys(target, remote).state);
    if (tips.localTip && tips.localTip === tips.remoteTip && state?.tip === tips.localTip) return { ...reached, ...tips, fetched: false };
  }
  await fetchLore(target.git, remote, url);
  return { ...reached, ...(await tipsOf(target.git, remote)), fetched: true };
}

/** The local lore ref and the remote's tracking ref. */
async function tipsOf(git: SyncTarget['git'], remote: string): Promise<{ localTip: string | null; remoteTip: string | null }> {
  const tips = await git.resolveRefs([LORE_REF, trackingRef(remote)]);
  return { remoteTip: tips.get(trackingRef(remote)) ?? null, localTip: tips.get(LORE_REF) ?? null };
}

/**
 * `git lore sync`: capture, fetch the lore ref, merge remote sessions into the local store,
 * seal this repository's new or changed sessions (only their new chunks), commit (objects first,
 * then a compare-and-swap of refs/lore/sessions) and push without force; on a rejected push,
 * fetch, merge and retry (bounded, jittered). A format-1 store is converted on its first write.
 * Work is proportional to what changed.
 */
export async function runSync(ctx: LoreContext, opts: SyncOptions = {}): Promise<SyncResult> {
  const started = new Date();
  // The remote's lore ref is fetched while capture runs (git works on the other core); a failure
  // is reported once capture is done.
  // A sync that pushes itself may leave the fetch out (see `reach`); one whose commit git's own
  // push carries (deferPush) or that does not push cannot learn from a rejected push.
  const targeted = syncTarget(ctx, opts.global ? { global: true } : {});
  targeted.catch(() => undefined);
  const reached = reach(ctx, opts, !opts.dryRun && !opts.deferPush && opts.push !== false, targeted);
  reached.catch(() => undefined);
  // The object reader starts as soon as the repository is known, while capture lists the agent
  // folders (another process; this thread waits then): a sync with something to send does not
  // wait for it afterwards. A sync with nothing to do never asks it anything.
  const reader = targeted.then((t) => t.git.catFile(), () => null);
  try {
    return await syncReached(ctx, opts, started, reached, reader);
  } finally {
    await (await reader)?.close();
  }
}

/** runSync once the fetch is under way and the object reader starting: capture, then the sync proper. */
async function syncReached(ctx: LoreContext, opts: SyncOptions, started: Date, reached: Promise<Reached>, reader: Promise<CatFile | null>): Promise<SyncResult> {
  const dryRun = Boolean(opts.dryRun);
  const capture = opts.noCapture ? null : await importSessions(ctx);
  maybeCrash(ctx, 'after-capture');
  const r = await reached;
  const { target, remote, url, pushTracks } = r;
  const git = target.git;
  const keys_ = syncKeys(target, remote);
  const maxBytes = opts.maxPayloadBytes ?? (Number(await getSetting(ctx, 'max_payload_bytes')) || DEFAULT_MAX_PAYLOAD_BYTES);
  const result: SyncResult = {
    remote, storeId: '', pulled: [], pushed: [], oversized: [], failed: [], stillFailing: 0, commit: null, retries: 0, dryRun, converted: false, capture, warnings: [...(capture?.warnings ?? [])],
  };
  /**
   * A successful sync: the time (for `sync status`), the stamp the pre-push shim compares with,
   * and, when nothing failed or was skipped, the ref it left and the session counter it started
   * from: a later sync that finds both unchanged has nothing to do.
   */
  const markSynced = (tip: string | null, rev: string | null) => {
    ctx.db.setKv(keys_.lastSync, ctx.env.now().toISOString());
    if (tip && rev && !result.failed.length && !result.oversized.length) ctx.db.setKv(keys_.state, `${tip} ${rev} ${result.storeId}`);
    else ctx.db.deleteKv(keys_.state);
    touchStamp(target, started);
  };
  let remoteTip = r.remoteTip;
  let localTip = r.localTip;
  let fetched = r.fetched;
  /** Fetches the remote's lore ref: after a first fetch left out (`reach`), or a refused push. */
  const refetch = async () => {
    fetched = true;
    await fetchLore(git, remote, url);
    remoteTip = await git.resolve(trackingRef(remote));
  };
  const state = readSyncState(ctx, keys_.state);
  // Nothing to send after all: only the fetch can tell whether there is something to receive.
  if (!fetched && state?.rev === ctx.db.sessionsRev()) await refetch();
  if (remoteTip && remoteTip === localTip && state?.tip === localTip && state.rev === ctx.db.sessionsRev()) {
    log.sync('nothing new here or on %s since the last sync (%s)', remote, localTip.slice(0, 12));
    result.storeId = state.storeId;
    if (!dryRun) markSynced(localTip, state.rev);
    return result;
  }
  if (!remoteTip && !localTip) {
    throw new UsageError('this repository has no lore store yet', { hint: `Run \`git lore sync setup${opts.remote ? ` --remote ${remote}` : ''}\` first.` });
  }
  const cat = (await reader)!;
  const states = new Map<string, RefState>();
  const stateOf = async (commit: string) => {
    let s = states.get(commit);
    if (!s) {
      s = await readRefState(git, cat, commit);
      states.set(commit, s);
    }
    return s;
  };
  const scope = target.global ? undefined : target.repo ?? undefined;
  // Quick: both refs are where our last complete sync left them, so every session in the ref
  // was pulled or sent then, and only the sessions written here since need a look: no pull, no
  // digest work for the thousands that did not change, and only their entries of the tree.
  const tip = (remoteTip ?? localTip)!;
  const since = tip === localTip ? writtenSince(ctx, state, localTip, scope) : null;
  const partial = since ? await readSomeSessions(cat, tip, since.map((s) => s.id)) : null;
  const first = partial ?? (await stateOf(tip));
  const localStore = localTip ? (localTip === first.commit ? first : await stateOf(localTip)).descriptor.storeId : null;
  // Before any key is used: the store must be the one this clone joined (store pinning). Checked
  // again for every tip a retry fetches: the ref can be swapped between two pushes.
  const checkStore = (remoteStore: string) => {
    checkPin(ctx, target, remote, r.address, remoteStore, localStore);
    if (localStore && localStore !== remoteStore) {
      throw new LoreError(`the local lore ref belongs to store ${localStore}, the remote's to ${remoteStore}; nothing was sent or received`, {
        hint: `If your team re-created the store on purpose, run \`git lore sync setup${opts.remote ? ` --remote ${remote}` : ''}\` and enter its passphrase to accept it.`,
      });
    }
  };
  checkStore(first.descriptor.storeId);
  let keys = await loadStoreKeys(ctx, first);
  let keyed = first.descriptorOid;
  result.storeId = keys.storeId;
  warnWeakSlots(first, remote, result);
  const pulledOrSame = new Set<string>();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // Quick while both refs are still where the partial read found them (a fetch that found
    // nothing new keeps it quick; a rejected push or another local sync does not).
    const quick = partial !== null && localTip === partial.commit && (remoteTip ?? localTip) === partial.commit && state?.storeId === keys.storeId && partial.descriptor.version >= 2;
    const sinceRev = quick ? state?.rev : undefined;
    const base = quick ? partial : await stateOf((remoteTip ?? localTip)!);
    if (base.commit !== first.commit) checkStore(base.descriptor.storeId);
    if (base.descriptorOid !== keyed) {
      // A retry fetched a descriptor other than the one the keys came from (a key rotation).
      keys = await loadStoreKeys(ctx, base);
      keyed = base.descriptorOid;
      warnWeakSlots(base, remote, result);
    }
    verifyKey(base.descriptor, keys.dataKey);
    const converting = base.descriptor.version === 1;
    const known = quick ? base : localTip ? await stateOf(localTip) : null;
    // Read before the session digests: a session written after this moves the counter on.
    let rev = ctx.db.sessionsRev();
    const mine = new Map(ctx.db.sessionDigests(scope, sinceRev).map((row) => [row.id, row]));
    // Failures are remembered with the chunk pool they were read from: when it changed (a
    // holder wrote missing chunks again), they are tried again.
    const chunkPool = quick ? '' : (await git.resolve(`${base.commit}:chunks`)) ?? '';
    const failedBefore = quick ? new Set<string>() : readFailed(ctx, keys_.failed, chunkPool);
    const digests = quick ? await someMetaDigests(ctx, cat, base, [...mine.keys()]) : await metaDigests(ctx, cat, base, (e) => !failedBefore.has(entriesKey(e)));
    const localDigest = (id: string, hash: string) => contentDigestV2(keys.digest, id, hash);
    if (quick) log.sync('quick sync: %d sessions written since the last one', mine.size);

    // Pull: sessions whose entries changed since our last view and whose content we lack.
    const failedNow = new Set<string>();
    const toPull = quick ? [] : [...base.sessions.values()].filter((e) => {
      if (!e.metaOid || pulledOrSame.has(`${e.id}\0${e.metaOid}`)) return false;
      // Entries that failed before and have not changed fail the same way: not read again.
      if (failedBefore.has(entriesKey(e))) {
        failedNow.add(entriesKey(e));
        return false;
      }
      const seen = known?.sessions.get(e.id);
      const local = mine.get(e.id) ?? ctx.db.getSession(e.id);
      const sameEntries = seen?.metaOid === e.metaOid && seen.indexOid === e.indexOid && seen.payloadOid === e.payloadOid;
      if (sameEntries && local) return false;
      const d = digests.get(e.metaOid);
      // A changed index or metadata blob is opened even when the digest matches ours: that is
      // how tampering shows (and a holder's sync then repairs it).
      return !(local && d && sameHex(localDigest(e.id, local.bundle_sha256), d) && sameEntries);
    });
    await pullAll(ctx, cat, keys, base.commit, toPull, target, maxBytes, opts, result, pulledOrSame, remote);
    if (!dryRun) {
      const failed = new Set(result.failed.map((f) => f.id));
      for (const e of toPull) if (failed.has(e.id)) failedNow.add(entriesKey(e));
      writeFailed(ctx, keys_.failed, chunkPool, failedNow);
    }
    const failedThisTime = new Set(result.failed.map((f) => f.id));
    result.stillFailing = [...failedNow].filter((k) => !failedThisTime.has(k.slice(0, k.indexOf(':')))).length;
    if (result.stillFailing) {
      result.warnings.push(`${result.stillFailing} session${result.stillFailing === 1 ? '' : 's'} on ${remote} still cannot be read (unchanged since an earlier sync reported ${result.stillFailing === 1 ? 'it' : 'them'}); \`git lore repair\` writes a store without them`);
    }

    // Push: this repository's sessions whose content differs from the ref's (all that the ref
    // holds in format 1, when converting).
    const failedIds = new Set(result.failed.map((f) => f.id));
    if (pulledOrSame.size) rev = ctx.db.sessionsRev();
    const pool = pulledOrSame.size ? ctx.db.sessionDigests(scope, sinceRev) : [...mine.values()];
    if (converting) {
      const inPool = new Set(pool.map((p) => p.id));
      for (const e of base.sessions.values()) {
        const local = inPool.has(e.id) ? null : ctx.db.getSession(e.id);
        if (local) pool.push({ id: local.id, bundle_sha256: local.bundle_sha256 });
      }
    }
    const candidates = pool.filter((row) => {
      // A good local copy of a session whose remote entry failed is written again: that repairs the ref.
      if (failedIds.has(row.id)) return true;
      const e = base.sessions.get(row.id);
      const d = e?.metaOid ? digests.get(e.metaOid) : undefined;
      return !(d && e?.indexOid && sameHex(localDigest(row.id, row.bundle_sha256), d));
    });
    const rows = candidates.map((c) => ctx.db.getSession(c.id)!).filter(Boolean);
    result.converted = converting;
    // Chunks altered or removed on the remote since our last view: written again from our copies.
    // Compared with the last tip this machine knows the remote held (where the last complete sync
    // left both refs), not with the local ref: a commit of ours that a refused push never
    // delivered holds chunks the remote never had, which are not damage.
    const seen = state?.tip ?? known?.commit;
    const damaged = !quick && seen && seen !== base.commit ? await damagedChunks(git, seen, base.commit).catch(() => (known && known.commit !== base.commit ? damagedChunks(git, known.commit, base.commit) : new Set<string>())) : new Set<string>();
    if (dryRun) {
      result.pushed = rows.map((row) => row.id);
      return result;
    }
    if (opts.push === false) {
      if (base.commit !== localTip && (!localTip || (await git.isAncestor(localTip, base.commit)))) await git.updateRef(LORE_REF, base.commit, localTip);
      touchStamp(target, started);
      return result;
    }
    const written = await sealAll(ctx, cat, keys, base, rows, maxBytes, opts, result);
    if (damaged.size) {
      const repaired = repairChunks(ctx, keys, damaged, ctx.db.sessionDigests(scope).map((row) => row.id));
      if (repaired.length) {
        written.files.push(...repaired);
        result.warnings.push(`${repaired.length} chunk${repaired.length === 1 ? ' was' : 's were'} altered or removed on ${remote}; written again from this machine's copy (docs/SECURITY.md)`);
      }
    }
    if (!written.ids.length && !converting && written.files.length === 0) {
      if (!fetched) {
        // Nothing to send after all (the sessions written since belong elsewhere): fetch, then sync as usual.
        await refetch();
        continue;
      }
      if (base.commit !== localTip && !(await git.updateRef(LORE_REF, base.commit, localTip))) {
        localTip = await git.resolve(LORE_REF);
        continue;
      }
      markSynced(base.commit, remoteTip === base.commit ? rev : null);
      return result;
    }
    if (converting) {
      written.files.push({ path: DESCRIPTOR_PATH, data: serializeDescriptor(upgradeDescriptor(base.descriptor)) });
      opts.onProgress?.('Converting the store to format 2', 1, 1);
    }
    written.files.sort((a, b) => (a.path < b.path ? -1 : 1));
    // A repaired chunk's path is also listed by the session that added it again: keep one.
    written.files = [...new Map(written.files.map((f) => [f.path, f])).values()];
    const n = written.ids.length;
    const { oid: commit, scratch } = await git.fastImportScratch({
      parents: [base.commit], files: written.files, message: `lore: ${n} session${n === 1 ? '' : 's'}${converting ? ' (store converted to format 2)' : ''}\n`, committer: COMMITTER, time: ctx.env.now(),
    });
    maybeCrash(ctx, 'after-objects');
    if (!(await git.updateRef(LORE_REF, commit, localTip, 'lore', scratch))) {
      await git.deleteRef(scratch);
      // Another sync on this machine moved the ref: start over from its result.
      localTip = await git.resolve(LORE_REF);
      result.retries += 1;
      continue;
    }
    localTip = commit;
    ctx.db.putMetaDigests(written.metas);
    maybeCrash(ctx, 'after-update-ref');
    if (opts.deferPush) {
      result.commit = commit;
      result.pushed = written.ids.sort();
      return result;
    }
    const pushed = await git.push(url, [`${LORE_REF}:${LORE_REF}`]);
    const ref = pushed.refs.find((x) => x.dst === LORE_REF);
    if (pushed.run.exitCode === 0 && ref && ref.flag !== '!') {
      maybeCrash(ctx, 'after-push');
      if (!pushTracks) await git.setRef(trackingRef(remote), commit);
      markSynced(commit, rev);
      result.commit = commit;
      result.pushed = written.ids.sort();
      return result;
    }
    if (ref?.flag === '!') {
      // Rejected (someone pushed in between, or the remote could not lock the ref): fetch, merge, retry.
      result.retries += 1;
      log.sync('push rejected (%s); fetching and retrying', ref.reason);
      // A push made without a fetch first was rejected for what the fetch would have shown: no wait.
      if (fetched) await sleep(40 * 2 ** Math.min(attempt, 5) * (0.5 + Math.random()));
      await refetch();
      continue;
    }
    throw new LoreError(`cannot push the lore ref to ${remote}: ${gitReason(pushed.run.stderr) || ref?.reason || 'unknown error'}`, {
      hint: `Your sessions are committed locally in ${LORE_REF}; run \`git lore sync\` again when ${remote} accepts pushes.`,
    });
  }
  throw new LoreError(`the lore ref on ${remote} kept moving: gave up after ${MAX_ATTEMPTS} attempts`, { hint: 'Run `git lore sync` again.' });
}

function warnWeakSlots(state: RefState, remote: string, result: SyncResult): void {
  for (const slot of state.descriptor.slots) {
    if (!slot.kdf && slot.kind) continue;
    try {
      checkKdfParams(slot.kdf!);
    } catch {
      result.warnings.push(`the store descriptor on ${remote} names weak or malformed key-derivation parameters in key slot ${slot.id}: someone without the passphrase may have edited it (docs/SECURITY.md); joins will refuse it`);
    }
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

