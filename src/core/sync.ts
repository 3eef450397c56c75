import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { LoreError, UsageError, CryptoError, toLoreError } from '../errors.js';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { assertSafeName, gitReason, type CatFile, type Git, type RepoInfo } from '../git/git.js';
import { Keyring } from '../store/keyring.js';
import { packBundle, unpackBundle, type NativeFile } from '../store/bundle.js';
import type { SessionRow } from '../store/db.js';
import { createDescriptor, unlock, verifyKey, serializeDescriptor, DESCRIPTOR_PATH, FORMAT_VERSION } from '../format/descriptor.js';
import { contentDigest, openPayload, parseMeta, sealPayload, serializeMeta, sessionPaths, type SessionMeta } from '../format/session-entry.js';
import { readRefState, type RefSession, type RefState } from '../format/ref-store.js';
import { checkKdfParams, sameHex, subkey } from '../crypto/primitives.js';
import { readPassphrase } from './passphrase.js';
import { importSessions, sources, type ImportSummary } from './import.js';
import { mergeBundles } from './merge.js';
import { LORE_REF, ensureFetchRefspec, fetchRefspec, trackingRef } from '../format/refs.js';
import { getSetting } from './config.js';
import { persistSession } from './persist.js';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export { LORE_REF, trackingRef, fetchRefspec };
/** Default limit of one session's compressed payload: 100 MiB (LORE_MAX_PAYLOAD_BYTES). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 100 * 1024 * 1024;
const COMMITTER = 'git-lore <git-lore@invalid>';
const MAX_ATTEMPTS = 8;
const MANIFEST = 'manifest.json';
/** A quick sync reads the tree entries of at most this many changed sessions by path; more, and it lists the whole tree. */
const QUICK_MAX_SESSIONS = 200;

interface RepoHandle {
  git: Git;
  info: RepoInfo;
}

/**
 * What a store syncs: a repository's sessions through its own lore ref, or (global) every session
 * of this machine through the standalone repository `$LORE_HOME/sync`.
 */
export interface SyncTarget {
  git: Git;
  gitDir: string;
  /** The repository whose sessions this store carries; null for the global store (all sessions). */
  repoRoot: string | null;
  global: boolean;
}

/** The folder of the global store's repository. */
export const globalDir = (ctx: LoreContext) => path.join(ctx.paths.loreHome, 'sync');

/**
 * The target of a sync command. The global store's repository is created by setup (`create`);
 * its `origin` follows the `sync_global_remote` setting.
 */
export async function syncTarget(ctx: LoreContext, opts: { global?: boolean; create?: boolean } = {}): Promise<SyncTarget> {
  if (!opts.global) {
    const { git, info } = await openRepo(ctx);
    return { git, gitDir: info.gitDir, repoRoot: info.mainRoot, global: false };
  }
  const dir = globalDir(ctx);
  const remoteUrl = await getSetting(ctx, 'sync_global_remote');
  if (!remoteUrl) {
    throw new UsageError('no remote is configured for the global store', { hint: 'Run `git lore config set sync_global_remote <url of a private repository>`, then `git lore sync --global setup`.' });
  }
  if (!fs.existsSync(path.join(dir, 'HEAD'))) {
    if (!opts.create) throw new UsageError('the global store is not set up on this machine', { hint: 'Run `git lore sync --global setup`.' });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = await ctx.git(dir).raw(['init', '-q', '--bare', dir]);
    if (r.exitCode !== 0) throw new LoreError(`cannot create the global store repository in ${dir}: ${r.stderr.trim()}`);
  }
  const git = ctx.git(dir);
  if ((await git.configGet('remote.origin.url')) !== remoteUrl) {
    if ((await git.remotes()).includes('origin')) await git.configSet('remote.origin.url', remoteUrl);
    else await git.exec(['remote', 'add', 'origin', remoteUrl]);
  }
  return { git, gitDir: dir, repoRoot: null, global: true };
}

/** The repository of the current folder; a usage error outside one. */
export async function openRepo(ctx: LoreContext): Promise<RepoHandle> {
  const git = ctx.git();
  const info = await git.repoInfo();
  if (!info) throw new UsageError('not inside a git repository', { hint: 'cd into the repository whose sessions you want to sync.' });
  return { git: ctx.git(info.root), info };
}

/** What sync needs of the repository's remote configuration, read by one `git config` call. */
export interface RemoteConfig {
  loreRemote: string | null;
  urls: Map<string, string>;
  vcs: Map<string, string>;
  fetch: Map<string, string[]>;
}

async function readRemoteConfig(git: Git): Promise<RemoteConfig> {
  const cfg: RemoteConfig = { loreRemote: null, urls: new Map(), vcs: new Map(), fetch: new Map() };
  const r = await git.raw(['config', '-z', '--get-regexp', '^(lore\\.remote|remote\\..*\\.(url|vcs|fetch))$']);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new LoreError(`cannot read the git configuration: ${gitReason(r.stderr)}`);
  for (const rec of r.stdout.toString('utf8').split('\0')) {
    const nl = rec.indexOf('\n');
    if (nl < 0) continue;
    const key = rec.slice(0, nl);
    const value = rec.slice(nl + 1);
    if (key === 'lore.remote') {
      cfg.loreRemote = value;
      continue;
    }
    // remote.<name>.<var>: the name may itself hold dots.
    const name = key.slice('remote.'.length, key.lastIndexOf('.'));
    const v = key.slice(key.lastIndexOf('.') + 1);
    if (v === 'url' && !cfg.urls.has(name)) cfg.urls.set(name, value);
    else if (v === 'vcs') cfg.vcs.set(name, value);
    else if (v === 'fetch') cfg.fetch.set(name, [...(cfg.fetch.get(name) ?? []), value]);
  }
  return cfg;
}

/** The remote to sync with: the option, else `lore.remote`, else the only remote, else origin. */
export async function pickRemote(git: Git, name?: string, known?: RemoteConfig): Promise<string> {
  const cfg = known ?? (await readRemoteConfig(git));
  let remotes = [...new Set([...cfg.urls.keys(), ...cfg.fetch.keys()])];
  const chosen = name ?? cfg.loreRemote ?? (remotes.length === 1 ? remotes[0]! : 'origin');
  assertSafeName('remote', chosen);
  // Remotes can also live outside the config (.git/remotes): ask git before saying no.
  if (!remotes.includes(chosen)) remotes = await git.remotes();
  if (!remotes.includes(chosen)) {
    throw new UsageError(`no remote named ${chosen}`, { hint: remotes.length ? `Use --remote with one of: ${remotes.join(', ')}.` : 'Add one with `git remote add origin <url>`.' });
  }
  return chosen;
}


/**
 * The address lore's own fetches and pushes use for a remote: for a remote that goes through
 * git-remote-lore (`lore::<inner>` or `remote.<name>.vcs=lore`) the inner address, so lore's
 * transfers do not re-enter the helper; otherwise the remote's name.
 */
export async function networkAddress(git: Git, remote: string, known?: RemoteConfig): Promise<string> {
  const cfg = known ?? (await readRemoteConfig(git));
  const url = cfg.urls.get(remote);
  if (url?.startsWith('lore::')) return url.slice('lore::'.length);
  if (url && cfg.vcs.get(remote) === 'lore') return url;
  return remote;
}

const unreachable = (remote: string, stderr: string, cause?: unknown) =>
  new LoreError(`cannot fetch the lore ref from ${remote}: ${gitReason(stderr)}`, { cause, hint: `Check that \`git fetch ${remote}\` works; nothing was changed.` });

/** Fetches the remote's lore ref into its tracking ref (one round trip). */
async function fetchLore(git: Git, remote: string, url: string = remote): Promise<void> {
  const r = await git.fetch(url, [fetchRefspec(remote)], { quiet: true });
  if (r.exitCode !== 0) throw unreachable(remote, r.stderr);
}

/**
 * The remote's lore tip without moving any ref: asks ls-remote, then fetches only the objects.
 * Null when the remote has no lore ref yet.
 */
async function peekLore(git: Git, remote: string, url: string = remote): Promise<string | null> {
  let oid: string | null;
  try {
    oid = await git.lsRemote(url, LORE_REF);
  } catch (err) {
    throw unreachable(remote, (err as { stderr?: string }).stderr ?? String(err), err);
  }
  if (oid && !(await git.resolve(`${oid}^{commit}`))) {
    const r = await git.fetch(url, [LORE_REF], { quiet: true });
    if (r.exitCode !== 0) throw unreachable(remote, r.stderr);
  }
  return oid;
}

/** What a complete sync left (kv `sync-state`): the lore ref, the session counter it started from, the store. */
interface SyncState {
  tip: string;
  rev: string;
  storeId: string;
}

/** The kv keys of a target and remote: the last successful sync's time, and the state of the last complete one. */
const syncKeys = (target: SyncTarget, remote: string) => ({
  lastSync: `last-sync\0${target.gitDir}\0${remote}`,
  state: `sync-state\0${target.gitDir}\0${remote}`,
});

function readSyncState(ctx: LoreContext, key: string): SyncState | null {
  const [tip, rev, storeId] = ctx.db.getKv(key)?.split(' ') ?? [];
  return tip && rev ? { tip, rev, storeId: storeId ?? '' } : null;
}

/**
 * The sessions (of `scope`) written since the complete sync recorded in `state`, when the local
 * ref is still where that sync left it, so that every other session matches the ref; null when
 * it moved, or when they are too many to read their tree entries by path (the full path then).
 */
function writtenSince(ctx: LoreContext, state: SyncState | null, localTip: string | null, scope: string | undefined): Array<{ id: string; bundle_sha256: string }> | null {
  if (!state || state.tip !== localTip) return null;
  const rows = ctx.db.sessionDigests(scope, state.rev);
  return rows.length <= QUICK_MAX_SESSIONS ? rows : null;
}

export interface SetupOptions {
  remote?: string;
  /** The global personal store instead of this repository's. */
  global?: boolean;
  /** Talk to this address instead of the remote's URL (git-remote-lore passes the inner address). */
  url?: string;
}

export interface SetupResult {
  action: 'created' | 'joined' | 'already';
  storeId: string;
  remote: string;
}

/**
 * `git lore sync setup`: joins the store found on the remote (passphrase asked once, checked by
 * unwrapping a key slot) or creates one (asked twice) and pushes it. A wrong passphrase writes
 * nothing. The data key is cached in LORE_HOME/keys/<store-id>.
 */
export async function setupStore(ctx: LoreContext, opts: SetupOptions = {}): Promise<SetupResult> {
  const { git } = await syncTarget(ctx, { ...(opts.global ? { global: true } : {}), create: true });
  const remote = await pickRemote(git, opts.remote);
  const url = opts.url ?? (await networkAddress(git, remote));
  const keyring = new Keyring(ctx.paths.loreHome);
  const cat = git.catFile();
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const remoteTip = await peekLore(git, remote, url);
      const localTip = await git.resolve(LORE_REF);
      const tip = remoteTip ?? localTip;
      if (tip) {
        const state = await readRefState(git, cat, tip);
        const d = state.descriptor;
        const cached = keyring.get(d.storeId).key;
        let action: SetupResult['action'] = 'already';
        let key: Buffer;
        if (cached) {
          verifyKey(d, cached);
          key = cached;
        } else {
          const passphrase = await readPassphrase(ctx.env, { confirm: false, purpose: `join the lore store on ${remote}` });
          key = await unlock(d, passphrase);
          action = 'joined';
        }
        // Only now that the passphrase is proven does anything get written.
        keyring.put(d.storeId, key);
        await ensureFetchRefspec(git, remote);
        if (remoteTip) {
          await git.exec(['update-ref', trackingRef(remote), remoteTip]);
          if (!localTip) await git.updateRef(LORE_REF, remoteTip, null);
          else if (localTip !== remoteTip && (await git.isAncestor(localTip, remoteTip))) await git.updateRef(LORE_REF, remoteTip, localTip);
        }
        return { action, storeId: d.storeId, remote };
      }
      const passphrase = await readPassphrase(ctx.env, { confirm: true, purpose: 'create a lore store' });
      const { descriptor, dataKey } = await createDescriptor(passphrase);
      const commit = await git.fastImportCommit({
        parents: [], files: [{ path: DESCRIPTOR_PATH, data: serializeDescriptor(descriptor) }],
        message: 'lore: create store\n', committer: COMMITTER, time: ctx.env.now(),
      });
      if (!(await git.updateRef(LORE_REF, commit, null))) continue;
      const pushed = await git.push(url, [`${LORE_REF}:${LORE_REF}`]);
      const ref = pushed.refs.find((r) => r.dst === LORE_REF);
      if (pushed.run.exitCode !== 0 || !ref || ref.flag === '!') {
        // Someone created a store on the remote in between: drop ours and join theirs.
        await git.raw(['update-ref', '-d', LORE_REF, commit]);
        if (ref?.flag === '!') continue;
        throw new LoreError(`cannot push the new lore store to ${remote}: ${gitReason(pushed.run.stderr)}`, { hint: `Check that you can push to ${remote}, then run \`git lore sync setup\` again.` });
      }
      keyring.put(descriptor.storeId, dataKey);
      await ensureFetchRefspec(git, remote);
      await git.exec(['update-ref', trackingRef(remote), commit]);
      return { action: 'created', storeId: descriptor.storeId, remote };
    }
    throw new LoreError('the lore store on the remote changed twice during setup', { hint: 'Run `git lore sync setup` again.' });
  } finally {
    await cat.close();
  }
}

export interface SyncOptions {
  remote?: string;
  /** The global personal store instead of this repository's. */
  global?: boolean;
  /** Talk to this address instead of the remote's URL (git-remote-lore passes the inner address). */
  url?: string;
  /** Commit and update refs/lore/sessions but leave the push to the caller (git-remote-lore pushes it with the code). */
  deferPush?: boolean;
  dryRun?: boolean;
  /** Skip capture. */
  noCapture?: boolean;
  /** false: receive only (the post-merge hook); nothing is committed or pushed. */
  push?: boolean;
  maxPayloadBytes?: number;
  /** Called with progress for long syncs (the CLI shows it on a TTY). */
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface SyncResult {
  remote: string;
  storeId: string;
  /** Sessions received from the remote and merged into the local store (or, with --dry-run, that would be). */
  pulled: string[];
  /** Sessions written to the ref and pushed (or, with --dry-run, that would be). */
  pushed: string[];
  /** Sessions skipped for their size. */
  oversized: string[];
  /** Remote sessions that failed authentication or could not be read: reported, skipped, never applied. */
  failed: Array<{ id: string; reason: string }>;
  commit: string | null;
  retries: number;
  dryRun: boolean;
  capture: ImportSummary | null;
  warnings: string[];
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

/**
 * `git lore sync`: capture, fetch the lore ref, merge remote sessions into the local store,
 * encrypt this repository's new or changed sessions, commit (objects first, then a
 * compare-and-swap of refs/lore/sessions) and push without force; on a rejected push, fetch,
 * merge and retry (bounded, jittered). Work is proportional to what changed.
 */
export async function runSync(ctx: LoreContext, opts: SyncOptions = {}): Promise<SyncResult> {
  const started = new Date();
  const dryRun = Boolean(opts.dryRun);
  // The remote's lore ref is fetched while capture runs (git works on the other core); a failure
  // is reported once capture is done, as before.
  const reached = (async () => {
    const target = await syncTarget(ctx, opts.global ? { global: true } : {});
    const cfg = await readRemoteConfig(target.git);
    const remote = await pickRemote(target.git, opts.remote, cfg);
    const url = opts.url ?? (await networkAddress(target.git, remote, cfg));
    // git push updates the tracking ref itself when it pushes to the remote by name through our refspec.
    const pushTracks = url === remote && (cfg.fetch.get(remote) ?? []).includes(fetchRefspec(remote));
    if (dryRun) return { target, remote, url, pushTracks, remoteTip: await peekLore(target.git, remote, url), localTip: await target.git.resolve(LORE_REF) };
    await fetchLore(target.git, remote, url);
    const tips = await target.git.resolveRefs([LORE_REF, trackingRef(remote)]);
    return { target, remote, url, pushTracks, remoteTip: tips.get(trackingRef(remote)) ?? null, localTip: tips.get(LORE_REF) ?? null };
  })();
  reached.catch(() => undefined);
  const capture = opts.noCapture ? null : await importSessions(ctx);
  maybeCrash(ctx, 'after-capture');
  const { target, remote, url, pushTracks, remoteTip: fetchedTip, localTip: resolvedTip } = await reached;
  const git = target.git;
  const maxPayload = opts.maxPayloadBytes ?? (Number(await getSetting(ctx, 'max_payload_bytes')) || DEFAULT_MAX_PAYLOAD_BYTES);
  const result: SyncResult = {
    remote, storeId: '', pulled: [], pushed: [], oversized: [], failed: [], commit: null, retries: 0, dryRun, capture, warnings: [...(capture?.warnings ?? [])],
  };
  const keys = syncKeys(target, remote);
  /**
   * A successful sync: the time (for `sync status`), the stamp the pre-push shim compares with,
   * and, when nothing failed or was skipped, the ref it left and the session counter it started
   * from: a later sync that finds both unchanged has nothing to do.
   */
  const markSynced = (tip: string | null, rev: string | null) => {
    ctx.db.setKv(keys.lastSync, ctx.env.now().toISOString());
    if (tip && rev && !result.failed.length && !result.oversized.length) ctx.db.setKv(keys.state, `${tip} ${rev} ${result.storeId}`);
    else ctx.db.deleteKv(keys.state);
    touchStamp(target, started);
  };
  let remoteTip = fetchedTip;
  let localTip = resolvedTip;
  const state = readSyncState(ctx, keys.state);
  if (remoteTip && remoteTip === localTip && state?.tip === localTip && state.rev === ctx.db.sessionsRev()) {
    log.sync('nothing new here or on %s since the last sync (%s)', remote, localTip.slice(0, 12));
    result.storeId = state.storeId;
    if (!dryRun) markSynced(localTip, state.rev);
    return result;
  }
  const cat = git.catFile();
  const states = new Map<string, RefState>();
  const stateOf = async (commit: string) => {
    let s = states.get(commit);
    if (!s) {
      s = await readRefState(git, cat, commit);
      states.set(commit, s);
    }
    return s;
  };
  try {
    if (!remoteTip && !localTip) {
      throw new UsageError('this repository has no lore store yet', { hint: `Run \`git lore sync setup${opts.remote ? ` --remote ${remote}` : ''}\` first.` });
    }
    const scope = target.global ? undefined : target.repoRoot ?? '';
    // Quick: both refs are where our last complete sync left them, so every session in the ref
    // was pulled or sent then, and only the sessions written here since need a look: no pull, no
    // digest work for the thousands that did not change, and only their entries of the tree.
    const tip = (remoteTip ?? localTip)!;
    const since = tip === localTip ? writtenSince(ctx, state, localTip, scope) : null;
    const partial = since ? await readRefState(git, cat, tip, since.map((r) => r.id)) : null;
    const first = partial ?? (await stateOf(tip));
    const storeId = first.descriptor.storeId;
    result.storeId = storeId;
    const key = cachedKey(ctx, first);
    const digestKey = subkey(key, 'digest');
    for (const slot of first.descriptor.slots) {
      try {
        checkKdfParams(slot.kdf);
      } catch {
        result.warnings.push(`the store descriptor on ${remote} names weak or malformed key-derivation parameters in key slot ${slot.id}: someone without the passphrase may have edited it (docs/SECURITY.md); joins will refuse it`);
      }
    }
    if (remoteTip && localTip && remoteTip !== localTip) {
      const other = await stateOf(localTip);
      if (other.descriptor.storeId !== storeId) {
        throw new LoreError(`the local lore ref belongs to store ${other.descriptor.storeId}, the remote's to ${storeId}`, {
          hint: `If the remote store replaced yours, run \`git update-ref -d ${LORE_REF}\` and \`git lore sync setup\`.`,
        });
      }
    }
    const pulledOrSame = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const quick = attempt === 0 && partial !== null && state?.storeId === storeId;
      const sinceRev = quick ? state?.rev : undefined;
      const base = quick ? partial : await stateOf((remoteTip ?? localTip)!);
      verifyKey(base.descriptor, key);
      const known = quick ? base : localTip ? await stateOf(localTip) : null;
      // Read before the session digests: a session written after this moves the counter on.
      let rev = ctx.db.sessionsRev();
      const mine = new Map(ctx.db.sessionDigests(scope, sinceRev).map((r) => [r.id, r]));
      const digests = quick ? await someMetaDigests(ctx, cat, base, [...mine.keys()]) : await metaDigests(ctx, cat, base);
      const anyLocal = (id: string) => mine.get(id) ?? ctx.db.getSession(id);
      if (quick) log.sync('quick sync: %d sessions written since the last one', mine.size);

      // Pull: sessions whose metadata changed since our last view and whose content we lack.
      const toPull = quick ? [] : [...base.sessions.values()].filter((e) => {
        if (!e.metaOid || pulledOrSame.has(`${e.id}\0${e.metaOid}`)) return false;
        const seen = known?.sessions.get(e.id);
        const local = anyLocal(e.id);
        if (seen?.metaOid === e.metaOid && seen.payloadOid === e.payloadOid && local) return false;
        const d = digests.get(e.metaOid);
        // A changed payload or metadata blob is opened even when the digest matches ours: that is
        // how tampering shows (and a holder's sync then repairs it).
        return !(local && d && sameHex(contentDigest(digestKey, e.id, local.bundle_sha256), d) && seen?.payloadOid === e.payloadOid && seen?.metaOid === e.metaOid);
      });
      let done = 0;
      for (const e of toPull) {
        opts.onProgress?.('Receiving sessions', ++done, toPull.length);
        if (dryRun) {
          result.pulled.push(e.id);
          continue;
        }
        const outcome = await pullOne(ctx, cat, key, storeId, e, target, maxPayload);
        pulledOrSame.add(`${e.id}\0${e.metaOid}`);
        if (outcome.kind === 'failed') {
          if (!result.failed.some((f) => f.id === e.id)) result.failed.push({ id: e.id, reason: outcome.reason });
        } else if (outcome.kind === 'oversized') {
          if (!result.oversized.includes(e.id)) result.oversized.push(e.id);
          result.warnings.push(`skipped session ${e.id} from ${remote}: its payload (${e.payloadSize} bytes) is over the ${maxPayload}-byte limit (LORE_MAX_PAYLOAD_BYTES)`);
        } else if (outcome.kind === 'merged' && !result.pulled.includes(e.id)) result.pulled.push(e.id);
        if (done === 1) maybeCrash(ctx, 'during-pull');
      }

      // Push: this repository's sessions whose content differs from the ref's.
      const failedIds = new Set(result.failed.map((f) => f.id));
      if (pulledOrSame.size) rev = ctx.db.sessionsRev();
      const candidates = (pulledOrSame.size ? ctx.db.sessionDigests(scope, sinceRev) : [...mine.values()]).filter((row) => {
        // A good local copy of a session whose remote blob failed is written again: that repairs the ref.
        if (failedIds.has(row.id)) return true;
        const e = base.sessions.get(row.id);
        const d = e?.metaOid ? digests.get(e.metaOid) : undefined;
        return !(d && e?.payloadOid && sameHex(contentDigest(digestKey, row.id, row.bundle_sha256), d));
      });
      const rows = candidates.map((c) => ctx.db.getSession(c.id)!).filter(Boolean);
      if (dryRun) {
        result.pushed = rows.map((r) => r.id);
        return result;
      }
      if (opts.push === false) {
        if (base.commit !== localTip && (!localTip || (await git.isAncestor(localTip, base.commit)))) await git.updateRef(LORE_REF, base.commit, localTip);
        touchStamp(target, started);
        return result;
      }
      const files: Array<{ path: string; data: Buffer }> = [];
      const written: string[] = [];
      const newMetas: Array<{ oid: string; sessionId: string; digest: string }> = [];
      await pool(rows, 2, async (row, i) => {
        opts.onProgress?.('Encrypting sessions', i + 1, rows.length);
        const sealed = await sealSession(ctx, key, digestKey, storeId, row, maxPayload);
        if (i === 0) maybeCrash(ctx, 'during-encrypt');
        if (!sealed) {
          if (!result.oversized.includes(row.id)) result.oversized.push(row.id);
          result.warnings.push(`skipped session ${row.id}: its compressed payload is over the ${maxPayload}-byte limit (LORE_MAX_PAYLOAD_BYTES)`);
          return;
        }
        const paths = sessionPaths(row.id);
        files.push({ path: paths.meta, data: sealed.meta }, { path: paths.payload, data: sealed.payload });
        newMetas.push({ oid: blobOid(sealed.meta), sessionId: row.id, digest: sealed.digest });
        written.push(row.id);
      });
      if (!written.length) {
        if (base.commit !== localTip && !(await git.updateRef(LORE_REF, base.commit, localTip))) {
          localTip = await git.resolve(LORE_REF);
          continue;
        }
        markSynced(base.commit, remoteTip === base.commit ? rev : null);
        return result;
      }
      files.sort((a, b) => (a.path < b.path ? -1 : 1));
      const { oid: commit, scratch } = await git.fastImportScratch({
        parents: [base.commit], files, message: `lore: ${written.length} session${written.length === 1 ? '' : 's'}\n`, committer: COMMITTER, time: ctx.env.now(),
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
      ctx.db.putMetaDigests(newMetas);
      maybeCrash(ctx, 'after-update-ref');
      if (opts.deferPush) {
        result.commit = commit;
        result.pushed = written.sort();
        return result;
      }
      const pushed = await git.push(url, [`${LORE_REF}:${LORE_REF}`]);
      const ref = pushed.refs.find((r) => r.dst === LORE_REF);
      if (pushed.run.exitCode === 0 && ref && ref.flag !== '!') {
        maybeCrash(ctx, 'after-push');
        if (!pushTracks) await git.raw(['update-ref', trackingRef(remote), commit]);
        markSynced(commit, rev);
        result.commit = commit;
        result.pushed = written.sort();
        return result;
      }
      if (ref?.flag === '!') {
        // Rejected (someone pushed in between, or the remote could not lock the ref): fetch, merge, retry.
        result.retries += 1;
        log.sync('push rejected (%s); fetching and retrying', ref.reason);
        await sleep(40 * 2 ** Math.min(attempt, 5) * (0.5 + Math.random()));
        await fetchLore(git, remote, url);
        remoteTip = await git.resolve(trackingRef(remote));
        continue;
      }
      throw new LoreError(`cannot push the lore ref to ${remote}: ${gitReason(pushed.run.stderr) || ref?.reason || 'unknown error'}`, {
        hint: `Your sessions are committed locally in ${LORE_REF}; run \`git lore sync\` again when ${remote} accepts pushes.`,
      });
    }
    throw new LoreError(`the lore ref on ${remote} kept moving: gave up after ${MAX_ATTEMPTS} attempts`, { hint: 'Run `git lore sync` again.' });
  } finally {
    await cat.close();
  }
}

/**
 * Marks the time a successful sync started (`$GIT_DIR/lore/hook-stamp`): the pre-push shim
 * skips starting git-lore when no agent file is newer and the lore ref matches the remote's.
 */
function touchStamp(target: SyncTarget, started: Date): void {
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

/** Digests of the ref's metadata blobs, read once per blob id ever (cached in lore.db). */
async function metaDigests(ctx: LoreContext, cat: CatFile, base: RefState): Promise<Map<string, string>> {
  const have = ctx.db.metaDigests();
  const fresh: Array<{ oid: string; sessionId: string; digest: string }> = [];
  const missing = [...base.sessions.values()].filter((e) => e.metaOid && !have.has(e.metaOid));
  // Requests are pipelined through the one cat-file process.
  const blobs = await Promise.all(missing.map((e) => cat.get(e.metaOid!)));
  for (const [i, e] of missing.entries()) {
    const blob = blobs[i];
    if (!blob || !e.metaOid) continue;
    try {
      const meta = parseMeta(blob.data, e.id);
      have.set(e.metaOid, meta.digest);
      fresh.push({ oid: e.metaOid, sessionId: e.id, digest: meta.digest });
    } catch (err) {
      log.sync('unreadable metadata for %s: %s', e.id, (err as Error).message);
    }
  }
  if (fresh.length) ctx.db.putMetaDigests(fresh);
  return have;
}

/** Digests of the ref's metadata blobs for a few sessions: from the cache, else read through cat-file. */
async function someMetaDigests(ctx: LoreContext, cat: CatFile, base: RefState, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const e = base.sessions.get(id);
    if (!e?.metaOid) continue;
    let d = ctx.db.metaDigest(id, e.metaOid);
    if (!d) {
      const blob = await cat.get(e.metaOid);
      try {
        d = blob ? parseMeta(blob.data, id).digest : null;
      } catch (err) {
        log.sync('unreadable metadata for %s: %s', id, (err as Error).message);
      }
    }
    if (d) out.set(e.metaOid, d);
  }
  return out;
}

type PullOutcome = { kind: 'merged' } | { kind: 'same' } | { kind: 'oversized' } | { kind: 'failed'; reason: string };

/** Decrypts one remote session and merges it into the local store. Never applies data that failed authentication. */
async function pullOne(ctx: LoreContext, cat: CatFile, key: Buffer, storeId: string, e: RefSession, target: SyncTarget, maxPayload: number): Promise<PullOutcome> {
  if (!e.payloadOid || !e.metaOid) return { kind: 'failed', reason: 'metadata or payload missing from the ref' };
  if ((e.payloadSize ?? 0) > maxPayload) return { kind: 'oversized' };
  try {
    const metaBlob = await cat.get(e.metaOid);
    const payloadBlob = await cat.get(e.payloadOid);
    if (!metaBlob || !payloadBlob) return { kind: 'failed', reason: 'objects missing from the local object store' };
    const meta = parseMeta(metaBlob.data, e.id);
    const gz = openPayload(key, storeId, e.id, metaBlob.data, payloadBlob.data);
    const { files, manifest } = await decodePayload(gz, e.id, maxPayload);
    const source = sources(ctx, { unreadable: () => undefined }).find((s) => s.tool === meta.tool);
    if (!source) return { kind: 'failed', reason: `unknown tool ${meta.tool}` };
    const local = ctx.db.getSession(e.id);
    const localBundle = local ? ctx.db.getBundle(e.id) : null;
    const merged = localBundle ? mergeBundles(await unpackBundle(localBundle), files) : files;
    const r = await persistSession(ctx, source, e.id, merged, {
      origin: 'sync',
      originMachine: meta.originMachine,
      placement: { repoRoot: local?.repo_root ?? target.repoRoot, agentRoots: manifest?.agentRoots ?? [], realRoot: null },
      repoCache: new Map(),
    });
    return r.status === 'unchanged' ? { kind: 'same' } : { kind: 'merged' };
  } catch (err) {
    const le = toLoreError(err);
    log.sync('session %s failed: %s', e.id, le.message);
    return { kind: 'failed', reason: le.message };
  }
}

/**
 * The plaintext of a payload (after authentication): gzip of a tar of native files plus
 * manifest.json. Bounded (decompressed size), validated (paths), and every failure is a
 * CryptoError naming the session: a member holding the key could still send garbage.
 */
export async function decodePayload(gz: Buffer, sessionId: string, maxPayload: number): Promise<{ files: NativeFile[]; manifest: Manifest | null }> {
  let entries: NativeFile[];
  try {
    const tar = await gunzip(gz, { maxOutputLength: 4 * maxPayload + 64 * 1024 * 1024 });
    entries = await unpackBundle(tar);
  } catch (err) {
    throw new CryptoError(`session ${sessionId}: the payload does not decode (${(err as Error).message})`, { cause: err });
  }
  const manifestFile = entries.find((f) => f.path === MANIFEST);
  let manifest: Manifest | null = null;
  if (manifestFile) {
    try {
      const m = JSON.parse(manifestFile.data.toString('utf8')) as Manifest;
      manifest = m && typeof m === 'object' ? { ...m, agentRoots: Array.isArray(m.agentRoots) ? m.agentRoots.filter((r) => typeof r === 'string') : [] } : null;
    } catch (err) {
      throw new CryptoError(`session ${sessionId}: the payload's manifest is not valid JSON`, { cause: err });
    }
  }
  const files = entries.filter((f) => f.path !== MANIFEST);
  for (const f of files) {
    if (!/^(claude|codex)\/[^\0]+$/.test(f.path) || f.path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      throw new CryptoError(`session ${sessionId}: payload holds an unexpected path ${JSON.stringify(f.path)}`);
    }
  }
  if (!files.some((f) => f.path.endsWith('.jsonl'))) throw new CryptoError(`session ${sessionId}: the payload holds no transcript`);
  return { files, manifest };
}

/** What the payload's manifest.json holds besides the native files (docs/FORMAT.md). */
interface Manifest {
  v: number;
  id: string;
  tool: string;
  toolVersion: string | null;
  branch: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  messageCount: number;
  agentRoots: string[];
  edits: Array<{ seq: number; file: string; movePath: string | null; op: string; ts: string | null; added: string[] }>;
}

/** Encrypts one session: metadata (plaintext) and payload (gzip(tar(native files + manifest)) under AES-256-GCM). */
async function sealSession(ctx: LoreContext, key: Buffer, digestKey: Buffer, storeId: string, row: SessionRow, maxPayload: number): Promise<{ meta: Buffer; payload: Buffer; digest: string } | null> {
  const bundle = ctx.db.getBundle(row.id);
  if (!bundle) throw new LoreError(`the stored copy of session ${row.id} is missing`, { hint: 'Run `git lore import` to capture it again.' });
  const manifest: Manifest = {
    v: FORMAT_VERSION, id: row.id, tool: row.tool, toolVersion: row.tool_version, branch: row.branch, startedAt: row.started_at,
    updatedAt: row.updated_at, messageCount: row.message_count, agentRoots: row.agent_root ? row.agent_root.split('\n') : [],
    edits: ctx.db.edits(row.id).map((e) => ({ seq: e.seq, file: e.file, movePath: e.move_path, op: e.op, ts: e.ts, added: JSON.parse(e.added_json) as string[] })),
  };
  const files: NativeFile[] = [...(await unpackBundle(bundle)), { path: MANIFEST, data: Buffer.from(JSON.stringify(manifest), 'utf8'), mtimeMs: 0 }];
  const gz = await gzip(await packBundle(files), { level: 6 });
  if (gz.length > maxPayload) return null;
  const meta: SessionMeta = {
    v: FORMAT_VERSION, id: row.id, tool: row.tool, startedAt: row.started_at, updatedAt: row.updated_at, messageCount: row.message_count,
    originMachine: row.origin_machine ?? ctx.machineId, branch: row.branch, digest: contentDigest(digestKey, row.id, row.bundle_sha256),
  };
  const metaBytes = serializeMeta(meta);
  return { meta: metaBytes, payload: sealPayload(key, storeId, row.id, metaBytes, gz), digest: meta.digest };
}

async function pool<T>(items: T[], width: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** The id git gives a blob (SHA-1 of its header and content), computed without asking git. */
function blobOid(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const scope = target.global ? undefined : target.repoRoot ?? '';
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
      const rows = since ?? ctx.db.sessionDigests(scope);
      const digests = since ? await someMetaDigests(ctx, cat, state, rows.map((r) => r.id)) : await metaDigests(ctx, cat, state);
      status.pending = rows.filter((row) => {
        const e = state.sessions.get(row.id);
        const d = e?.metaOid ? digests.get(e.metaOid) : undefined;
        return !(d && sameHex(contentDigest(digestKey, row.id, row.bundle_sha256), d));
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
