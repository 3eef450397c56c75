import { LoreError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import type { SyncTarget } from './target.js';

/**
 * Store pinning (docs/SECURITY.md): which store a clone's remote and a remote address carry, as
 * recorded when the store was created or joined with the passphrase. A cached key is used only
 * for a pinned store: someone who replaces the remote's lore ref with another store whose key
 * this machine happens to hold (a store shared in another repository) is refused, not adopted.
 */

/** What a pin is keyed by: the clone's git directory (and whether it is the global store's). */
export type PinScope = Pick<SyncTarget, 'gitDir' | 'global'>;

const keys = (target: PinScope, remote: string, address: string | null) => ({
  clone: `pin\0${target.gitDir}\0${remote}`,
  address: address ? `pin-address\0${address}` : null,
});

/** The store pinned for this clone's remote, or for its address; null when neither is pinned. */
export function pinnedStore(ctx: LoreContext, target: PinScope, remote: string, address: string | null): { clone: string | null; address: string | null } {
  const k = keys(target, remote, address);
  return { clone: ctx.db.getKv(k.clone), address: k.address ? ctx.db.getKv(k.address) : null };
}

/** Records that this clone's remote (and its address) carries `storeId`. */
export function pinStore(ctx: LoreContext, target: PinScope, remote: string, address: string | null, storeId: string): void {
  const k = keys(target, remote, address);
  ctx.db.setKv(k.clone, storeId);
  if (k.address) ctx.db.setKv(k.address, storeId);
}

/**
 * Checks, before anything is sent or received, that the store on the remote is the one pinned
 * for this clone's remote. Unpinned (a clone set up before pinning existed, or a fresh clone): the
 * store is pinned when this clone's own lore ref already belongs to it, or when the address is
 * pinned to it (another clone of the same remote joined it); otherwise it takes setup (and the
 * passphrase). Throws a LoreError that says what changed and what to do.
 */
export function checkPin(ctx: LoreContext, target: PinScope, remote: string, address: string | null, storeId: string, localStoreId: string | null): void {
  const pinned = pinnedStore(ctx, target, remote, address);
  const where = target.global ? 'the global store' : remote;
  if (pinned.clone && pinned.clone !== storeId) {
    throw new LoreError(`the lore store on ${where} changed: this clone joined store ${pinned.clone}, the remote now holds store ${storeId}. Nothing was sent or received`, {
      hint: `Someone with push access may have replaced it (docs/SECURITY.md). If your team re-created the store on purpose, run \`git lore sync setup${target.global ? ' --global' : ` --remote ${remote}`}\` and enter its passphrase to accept it.`,
    });
  }
  if (pinned.clone) return;
  if (localStoreId === storeId || pinned.address === storeId) {
    pinStore(ctx, target, remote, address, storeId);
    return;
  }
  throw new LoreError(`this clone has not joined the lore store on ${where} (store ${storeId}); nothing was sent or received`, {
    hint: `Run \`git lore sync setup${target.global ? ' --global' : ` --remote ${remote}`}\` and enter the team's passphrase.`,
  });
}
