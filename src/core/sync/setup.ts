import { LoreError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { gitReason } from '../../git/git.js';
import { Keyring } from '../../store/keyring.js';
import { createDescriptor, serializeDescriptor, DESCRIPTOR_PATH } from '../../format/descriptor.js';
import { currentKeys, identityToJoin, joinWithIdentity, joinWithPassphrase, rememberKey } from '../keys/machine-key.js';
import { assertStrongPassphrase } from '../keys/strength.js';
import { readRefState } from '../../format/ref-store.js';
import { LORE_REF, ensureFetchRefspec, trackingRef } from '../../format/refs.js';
import { readPassphrase } from '../passphrase.js';
import { networkAddress, pickRemote, syncTarget } from './target.js';
import { peekLore } from './transport.js';
import { COMMITTER } from './run.js';

export interface SetupOptions {
  remote?: string;
  /** The global personal store instead of this repository's. */
  global?: boolean;
  /** Talk to this address instead of the remote's URL (git-remote-lore passes the inner address). */
  url?: string;
  /** Join with this ssh (or age) private key instead of the passphrase (default: LORE_SSH_KEY, ~/.ssh/id_ed25519 when it has a slot). */
  identity?: string;
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
        // A cached key that no longer opens the store (rotated while this machine had no slot
        // recorded, or removed) is not fatal here: setup joins again.
        const current = cached ? await currentKeys(ctx, d).catch(() => null) : null;
        if (current) {
          key = current.at(-1)!;
        } else {
          // A member's ssh (or age) key with a slot in the store joins without the passphrase.
          const file = await identityToJoin(ctx, d, opts.identity);
          if (file) key = await joinWithIdentity(ctx, d, file);
          else {
            const passphrase = await readPassphrase(ctx.env, { confirm: false, purpose: `join the lore store on ${remote}` });
            key = await joinWithPassphrase(ctx, d, passphrase);
          }
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
        await git.raw(['update-ref', '-d', LORE_REF, commit]);
        if (ref?.flag === '!') continue;
        throw new LoreError(`cannot push the new lore store to ${remote}: ${gitReason(pushed.run.stderr)}`, { hint: `Check that you can push to ${remote}, then run \`git lore sync setup\` again.` });
      }
      rememberKey(ctx, descriptor.storeId, dataKey, { slot: descriptor.slots[0]!.id, kind: 'passphrase', kek: kek.toString('base64') });
      await ensureFetchRefspec(git, remote);
      await git.exec(['update-ref', trackingRef(remote), commit]);
      return { action: 'created', storeId: descriptor.storeId, remote };
    }
    throw new LoreError('the lore store on the remote changed twice during setup', { hint: 'Run `git lore sync setup` again.' });
  } finally {
    await cat.close();
  }
}

