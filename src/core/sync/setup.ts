import fs from 'node:fs';
import path from 'node:path';
import { LoreError, UsageError } from '../../errors.js';
import { getSetting } from '../config.js';
import type { LoreContext } from '../context.js';
import { gitReason } from '../../git/git.js';
import { Keyring } from '../../store/keyring.js';
import { createDescriptor, serializeDescriptor, parseDescriptor, DESCRIPTOR_PATH } from '../../format/descriptor.js';
import { currentKeys, identityToJoin, joinWithIdentity, joinWithPassphrase, rememberKey } from '../keys/machine-key.js';
import { assertStrongPassphrase } from '../keys/strength.js';
import { readRefState } from '../../format/ref-store.js';
import { LORE_REF, ensureFetchRefspec, trackingRef } from '../../format/refs.js';
import { readPassphrase } from '../passphrase.js';
import { globalDir, networkAddress, pickRemote, pinAddress, syncTarget } from './target.js';
import { normalizeAddress, pinStore, pinnedStore } from './pins.js';
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
  const target = await syncTarget(ctx, { ...(opts.global ? { global: true } : {}), create: true });
  const git = target.git;
  const remote = await pickRemote(git, opts.remote);
  const url = opts.url ?? (await networkAddress(git, remote));
  const address = opts.url ? normalizeAddress(opts.url, target.gitDir) : await pinAddress(git, remote, target.gitDir);
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
        const pinned = pinnedStore(ctx, target, remote, address);
        const localStore = localTip && localTip !== tip ? (await readRefState(git, cat, localTip)).descriptor.storeId : localTip ? d.storeId : null;
        // A cached key counts only for the store this clone (or another clone of this address)
        // joined with the passphrase; any other store takes the passphrase (store pinning).
        const trusted = pinned.clone ? pinned.clone === d.storeId : pinned.address === d.storeId || localStore === d.storeId;
        let action: SetupResult['action'] = 'already';
        let key: Buffer;
        // A cached key that no longer opens the store (rotated while this machine had no slot
        // recorded, or removed) is not fatal here: setup joins again.
        const current = cached && trusted ? await currentKeys(ctx, d).catch(() => null) : null;
        if (current) {
          key = current.at(-1)!;
        } else {
          // A member's ssh (or age) key with a slot in the store joins without the passphrase.
          const file = await identityToJoin(ctx, d, opts.identity);
          if (file) key = await joinWithIdentity(ctx, d, file);
          else {
            const changed = pinned.clone && pinned.clone !== d.storeId;
            const passphrase = await readPassphrase(ctx.env, {
              confirm: false,
              purpose: changed ? `accept the new lore store ${d.storeId} on ${remote} (this clone joined ${pinned.clone})` : `join the lore store on ${remote}`,
            });
            key = await joinWithPassphrase(ctx, d, passphrase);
          }
          action = 'joined';
        }
        // Only now that the passphrase is proven does anything get written.
        keyring.put(d.storeId, key);
        pinStore(ctx, target, remote, address, d.storeId);
        await ensureFetchRefspec(git, remote);
        if (remoteTip) {
          await git.setRef(trackingRef(remote), remoteTip);
          if (!localTip) await git.updateRef(LORE_REF, remoteTip, null);
          else if (localStore !== d.storeId) {
            // The store was replaced and the passphrase accepted the new one: the old ref is kept aside.
            await git.setRef(`refs/lore/replaced/${localStore}`, localTip);
            await git.updateRef(LORE_REF, remoteTip, localTip);
          } else if (localTip !== remoteTip && (await git.isAncestor(localTip, remoteTip))) await git.updateRef(LORE_REF, remoteTip, localTip);
        }
        return { action, storeId: d.storeId, remote };
      }
      const passphrase = await readPassphrase(ctx.env, { confirm: true, purpose: 'create a lore store' });
      await assertStrongPassphrase(passphrase);
      const { descriptor, dataKey, kek } = await createDescriptor(passphrase);
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
      await ensureFetchRefspec(git, remote);
      await git.setRef(trackingRef(remote), commit);
      return { action: 'created', storeId: descriptor.storeId, remote };
    }
    throw new LoreError('the lore store on the remote changed twice during setup', { hint: 'Run `git lore sync setup` again.' });
  } finally {
    await cat.close();
  }
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
