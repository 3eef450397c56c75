import { LoreError, UsageError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { gitReason, type CatFile, type Git } from '../../git/git.js';
import { DESCRIPTOR_PATH, serializeDescriptor, type Descriptor } from '../../format/descriptor.js';
import { readRefState, type RefState } from '../../format/ref-store.js';
import { LORE_REF, trackingRef } from '../../format/refs.js';
import { networkAddress, pickRemote, syncTarget, type SyncTarget } from '../sync/target.js';
import { fetchLore } from '../sync/transport.js';
import { COMMITTER } from '../sync/run.js';
import { log } from '../../log.js';

/** Which store a key command works on: this repository's (default remote) or the global one. */
export interface StoreChoice {
  remote?: string;
  global?: boolean;
}

/** The remote's store, fetched now: where key commands read and write. */
export interface RemoteStore {
  target: SyncTarget;
  git: Git;
  cat: CatFile;
  remote: string;
  url: string;
  state: RefState;
}

/** Fetches the remote's lore ref and reads its state; UsageError when the remote has no store. */
export async function openRemoteStore(ctx: LoreContext, opts: StoreChoice): Promise<RemoteStore> {
  const target = await syncTarget(ctx, opts.global ? { global: true } : {});
  const git = target.git;
  const remote = await pickRemote(git, opts.remote);
  const url = await networkAddress(git, remote);
  await fetchLore(git, remote, url);
  const tip = await git.resolve(trackingRef(remote));
  if (!tip) throw new UsageError(`${remote} has no lore store yet`, { hint: 'Run `git lore sync setup` first.' });
  const cat = git.catFile();
  try {
    return { target, git, cat, remote, url, state: await readRefState(git, cat, tip) };
  } catch (err) {
    await cat.close();
    throw err;
  }
}

/**
 * Writes a new descriptor as one commit on top of the remote's lore tip (the tree unchanged but
 * `lore.json` and the `files` that `build` returns) and pushes it as a fast-forward: a compare-and-swap. When someone pushed in
 * between, fetches and calls `build` again on the new tip, so two members changing keys at once
 * both land, one after the other. `build` runs before anything is written and may throw.
 */
export async function commitDescriptor<T>(
  ctx: LoreContext, opts: StoreChoice, message: string,
  build: (store: RemoteStore) => Promise<{ descriptor: Descriptor; result: T; files?: Array<{ path: string; data: Buffer }> }>,
): Promise<T & { commit: string; remote: string }> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const store = await openRemoteStore(ctx, opts);
    const { git, remote, url, state } = store;
    try {
      const { descriptor, result, files = [] } = await build(store);
      const commit = await git.fastImportCommit({
        parents: [state.commit], files: [{ path: DESCRIPTOR_PATH, data: serializeDescriptor(descriptor) }, ...files], message: `lore: ${message}\n`, committer: COMMITTER, time: ctx.env.now(),
      });
      const pushed = await git.push(url, [`${commit}:${LORE_REF}`]);
      const ref = pushed.refs.find((r) => r.dst === LORE_REF);
      if (pushed.run.exitCode === 0 && ref && ref.flag !== '!') {
        await git.setRef(trackingRef(remote), commit);
        const local = await git.resolve(LORE_REF);
        if (!local || (await git.isAncestor(local, commit))) await git.updateRef(LORE_REF, commit, local);
        return { ...result, commit, remote };
      }
      if (ref?.flag !== '!') {
        throw new LoreError(`cannot push the lore ref to ${remote}: ${gitReason(pushed.run.stderr) || ref?.reason || 'unknown error'}`, { hint: `Nothing changed on ${remote}; run the command again when it accepts pushes.` });
      }
      log.sync('key change rejected on %s (someone pushed in between); applying it again on the new tip', remote);
      await new Promise((res) => setTimeout(res, 30 * (attempt + 1) * (0.5 + Math.random())));
    } finally {
      await store.cat.close();
    }
  }
  throw new LoreError(`the lore ref on ${opts.remote ?? 'the remote'} kept moving: gave up`, { hint: 'Run the command again.' });
}
