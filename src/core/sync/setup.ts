import fs from 'node:fs';
import path from 'node:path';
import { LoreError, UsageError } from '../../errors.js';
import { getSetting } from '../config.js';
import type { LoreContext } from '../context.js';
import { gitReason, type Git } from '../../git/git.js';
import { Keyring } from '../../store/keyring.js';
import { createDescriptor, serializeDescriptor, parseDescriptor, DESCRIPTOR_PATH } from '../../format/descriptor.js';
import { currentKeys, identityToJoin, joinWithIdentity, joinWithPassphrase, rememberKey } from '../keys/machine-key.js';
import { assertStrongPassphrase } from '../keys/strength.js';
import { readRefState } from '../../format/ref-store.js';
import { LORE_REF, ensureFetchRefspec, trackingRef } from '../../format/refs.js';
import { readPassphrase } from '../passphrase.js';
import { globalDir, networkAddress, openRepo, pickRemote, pinAddress, readRemoteConfig, syncTarget } from './target.js';
import { pinStore, pinnedStore, type PinScope } from './pins.js';
import { normalizeAddress } from './address.js';
import { peekLore } from './transport.js';
import { COMMITTER } from './run.js';

export interface SetupOptions {
  remote?: string;
  /** The global personal store instead of this repository's. */
  global?: boolean;
  /** Talk to this address instead of the remote's URL (git-remote-lore passes the inner address). */
  url?: string;
  /** Say what would be created or joined; ask nothing, fetch nothing, write nothing. */
  dryRun?: boolean;
  /** Join with this ssh (or age) private key instead of the passphrase (default: LORE_SSH_KEY, ~/.ssh/id_ed25519 when it has a slot). */
  identity?: string;
  /**
   * The store id a member announced (`git lore keys add` prints it): lets a join by key accept a
   * store other than the one this clone or address knew. Without it, such a join takes the passphrase.
   */
  acceptStore?: string;
}

export interface SetupResult {
  action: 'created' | 'joined' | 'already';
  storeId: string | null;
  remote: string;
  /** Set for a dry run: `action` is what setup would do, and `storeId` is null when it would create one. */
  dryRun?: true;
}

/**
 * `git lore sync setup`: joins the store found on the remote (passphrase asked once, checked by
 * unwrapping a key slot) or creates one (asked twice) and pushes it. A wrong passphrase writes
 * nothing. The data key is cached in LORE_HOME/keys/<store-id>.
 */
export async function setupStore(ctx: LoreContext, opts: SetupOptions = {}): Promise<SetupResult> {
  if (opts.dryRun) return setupDryRun(ctx, opts);
  // Setup reads the repository, not its sessions: the non-global target is opened without the
  // repository identity a sync needs (two git calls fewer); pins name the clone by its git dir.
  let git: Git;
  let target: PinScope;
  if (opts.global) {
    const t = await syncTarget(ctx, { global: true, create: true });
    git = t.git;
    target = t;
  } else {
    const repo = await openRepo(ctx);
    git = repo.git;
    target = { gitDir: repo.info.gitDir, global: false };
  }
  const cfg = await readRemoteConfig(git);
  const remote = await pickRemote(git, opts.remote, cfg);
  const url = opts.url ?? (await networkAddress(git, remote, cfg));
  const address = opts.url ? normalizeAddress(opts.url, target.gitDir) : await pinAddress(git, remote, target.gitDir, cfg);
  // What the fetch refspec needs to know of the remote's configuration, from the read above.
  const remoteCfg = { fetch: cfg.fetch.get(remote) ?? [], url: cfg.urls.get(remote) ?? null, vcs: cfg.vcs.get(remote) ?? null };
  const keyring = new Keyring(ctx.paths.loreHome);
  const cat = git.catFile();
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      // The remote round trip and the local refs at once; the local store opens meanwhile.
      const peek = peekLore(git, remote, url);
      const refs = git.resolveRefs([LORE_REF, trackingRef(remote)]);
      peek.catch(() => undefined);
      refs.catch(() => undefined);
      void ctx.db;
      const [remoteTip, local] = await Promise.all([peek, refs]);
      const localTip = local.get(LORE_REF) ?? null;
      const tip = remoteTip ?? localTip;
      if (tip) {
        const state = await readRefState(git, cat, tip, []);
        const d = state.descriptor;
        if (opts.acceptStore && opts.acceptStore !== d.storeId) {
          throw new LoreError(`the lore store on ${remote} is store ${d.storeId}, not ${opts.acceptStore} (--accept-store); nothing was joined`, { hint: 'Check the store id with the member who added your key.' });
        }
        const cached = keyring.get(d.storeId).key;
        const pinned = pinnedStore(ctx, target, remote, address);
        const localStore = localTip && localTip !== tip ? (await readRefState(git, cat, localTip, [])).descriptor.storeId : localTip ? d.storeId : null;
        // A cached key counts only for the store this clone (or another clone of this address)
        // joined with the passphrase; any other store takes the passphrase (store pinning).
        const trusted = pinned.clone ? pinned.clone === d.storeId : pinned.address === d.storeId || localStore === d.storeId;
        // The store this clone, this address or this clone's lore ref knew before, when it is not this one.
        const before = [pinned.clone, pinned.address, localStore].find((s) => s && s !== d.storeId) ?? null;
        let action: SetupResult['action'] = 'already';
        let key: Buffer;
        // A cached key that no longer opens the store (rotated while this machine had no slot
        // recorded, or removed) is not fatal here: setup joins again.
        const current = cached && trusted ? await currentKeys(ctx, d).catch(() => null) : null;
        if (current) {
          key = current.at(-1)!;
        } else {
          // A member's ssh (or age) key with a slot in the store joins without the passphrase,
          // but only a store met for the first time or accepted by its id: anyone can write a
          // store that a public key opens, so a key opening it proves nothing about whose it is.
          const file = await identityToJoin(ctx, d, opts.identity);
          if (file && before && opts.acceptStore !== d.storeId && !(await passphraseAvailable(ctx))) throw storeChangedForKey(remote, before, d.storeId, target.global);
          if (file && (!before || opts.acceptStore === d.storeId)) key = await joinWithIdentity(ctx, d, file);
          else {
            const passphrase = await readPassphrase(ctx.env, {
              confirm: false,
              purpose: before ? `accept the new lore store ${d.storeId} on ${remote} (this clone knew store ${before})` : `join the lore store on ${remote}`,
            });
            try {
              key = await joinWithPassphrase(ctx, d, passphrase);
            } finally {
              passphrase.fill(0);
            }
          }
          action = 'joined';
        }
        // Only now that the passphrase (or key) is proven does anything get written.
        keyring.put(d.storeId, key);
        pinStore(ctx, target, remote, address, d.storeId);
        const writes: Array<Promise<unknown>> = [ensureFetchRefspec(git, remote, remoteCfg)];
        if (remoteTip) {
          if (local.get(trackingRef(remote)) !== remoteTip) writes.push(git.setRef(trackingRef(remote), remoteTip));
          if (!localTip) writes.push(git.updateRef(LORE_REF, remoteTip, null));
          else if (localStore !== d.storeId) {
            // The store was replaced and the passphrase accepted the new one: the old ref is kept aside.
            await git.setRef(`refs/lore/replaced/${localStore}`, localTip);
            writes.push(git.updateRef(LORE_REF, remoteTip, localTip));
          } else if (localTip !== remoteTip && (await git.isAncestor(localTip, remoteTip))) writes.push(git.updateRef(LORE_REF, remoteTip, localTip));
        }
        await Promise.all(writes);
        return { action, storeId: d.storeId, remote };
      }
      const passphrase = await readPassphrase(ctx.env, { confirm: true, purpose: 'create a lore store' });
      let made: Awaited<ReturnType<typeof createDescriptor>>;
      try {
        await assertStrongPassphrase(passphrase);
        made = await createDescriptor(passphrase);
      } finally {
        passphrase.fill(0);
      }
      const { descriptor, dataKey, kek } = made;
      const commit = await git.fastImportCommit({
        parents: [], files: [{ path: DESCRIPTOR_PATH, data: serializeDescriptor(descriptor) }],
        message: 'lore: create store\n', committer: COMMITTER, time: ctx.env.now(),
      });
      if (!(await git.updateRef(LORE_REF, commit, null))) continue;
      const pushed = await git.push(url, [`${LORE_REF}:${LORE_REF}`]);
      const ref = pushed.refs.find((r) => r.dst === LORE_REF);
      if (pushed.run.exitCode !== 0 || !ref || ref.flag === '!') {
        // Someone created a store on the remote in between: drop ours and join theirs.
        await git.deleteRef(LORE_REF, commit);
        if (ref?.flag === '!') continue;
        throw new LoreError(`cannot push the new lore store to ${remote}: ${gitReason(pushed.run.stderr)}`, { hint: `Check that you can push to ${remote}, then run \`git lore sync setup\` again.` });
      }
      rememberKey(ctx, descriptor.storeId, dataKey, { slot: descriptor.slots[0]!.id, kind: 'passphrase', kek: kek.toString('base64') });
      pinStore(ctx, target, remote, address, descriptor.storeId);
      await ensureFetchRefspec(git, remote, remoteCfg);
      await git.setRef(trackingRef(remote), commit);
      return { action: 'created', storeId: descriptor.storeId, remote };
    }
    throw new LoreError('the lore store on the remote changed twice during setup', { hint: 'Run `git lore sync setup` again.' });
  } finally {
    await cat.close();
  }
}


/** Whether a passphrase can be had without failing: set in the environment, or a terminal to ask on. */
async function passphraseAvailable(ctx: LoreContext): Promise<boolean> {
  return Boolean(ctx.env.vars.LORE_PASSPHRASE || ctx.env.vars.LORE_PASSPHRASE_FILE || (ctx.env.prompt && ctx.env.stdinIsTTY));
}

function storeChangedForKey(remote: string, before: string, now: string, global: boolean): LoreError {
  const where = global ? 'the global store' : remote;
  return new LoreError(`the lore store on ${where} is not the one this clone knew: it knew store ${before}, the remote holds store ${now}. Your key opens it, but anyone with push access can write a store your public key opens; nothing was joined`, {
    hint: `If a member told you the store id ${now}, run \`git lore sync setup${global ? ' --global' : ''} --accept-store ${now}\`; or join with the team's passphrase (LORE_PASSPHRASE). See docs/SECURITY.md.`,
  });
}

/** What setup would do: one `ls-remote` (and reading the local ref); no prompt, no fetch, no write. */
async function setupDryRun(ctx: LoreContext, opts: SetupOptions): Promise<SetupResult> {
  let git;
  let remote: string;
  let url: string;
  const noRepoYet = Boolean(opts.global) && !fs.existsSync(path.join(globalDir(ctx), 'HEAD'));
  if (noRepoYet) {
    // The global store's repository does not exist yet: ask its address directly.
    const setting = await getSetting(ctx, 'sync_global_remote');
    if (!setting) throw new UsageError('no remote is configured for the global store', { hint: 'Run `git lore config set sync_global_remote <url of a private repository>`, then `git lore sync --global setup`.' });
    git = ctx.git();
    remote = 'origin';
    url = opts.url ?? setting;
  } else {
    git = (await syncTarget(ctx, { ...(opts.global ? { global: true } : {}) })).git;
    remote = await pickRemote(git, opts.remote);
    url = opts.url ?? (await networkAddress(git, remote));
  }
  let remoteTip: string | null;
  try {
    remoteTip = await git.lsRemote(url, LORE_REF);
  } catch (err) {
    throw new LoreError(`cannot reach ${opts.global ? 'the global store' : remote}: ${gitReason((err as { stderr?: string }).stderr ?? String(err))}`, { cause: err });
  }
  const tip = remoteTip ?? (noRepoYet ? null : await git.resolve(LORE_REF));
  if (!tip) return { action: 'created', storeId: null, remote, dryRun: true };
  // The store id is in the descriptor; read it only when its objects are already here (no fetch).
  const local = await git.readBlob(tip, DESCRIPTOR_PATH);
  const storeId = local ? parseDescriptor(local).storeId : null;
  const cached = storeId ? Boolean(new Keyring(ctx.paths.loreHome).get(storeId).key) : false;
  return { action: cached ? 'already' : 'joined', storeId, remote, dryRun: true };
}
