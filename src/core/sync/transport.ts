import { LoreError } from '../../errors.js';
import { gitReason, type Git } from '../../git/git.js';
import { LORE_REF, fetchRefspec } from '../../format/refs.js';

const unreachable = (remote: string, stderr: string, cause?: unknown) =>
  new LoreError(`cannot fetch the lore ref from ${remote}: ${gitReason(stderr)}`, { cause, hint: `Check that \`git fetch ${remote}\` works; nothing was changed.` });

/**
 * Fetches the remote's lore ref into its tracking ref (one round trip). Returns false when the
 * remote has no lore ref (the exact refspec then fails; ls-remote tells that apart from an
 * unreachable remote, on the failure path only).
 */
export async function fetchLore(git: Git, remote: string, url: string = remote): Promise<boolean> {
  const r = await git.fetch(url, [fetchRefspec(remote)], { quiet: true });
  if (r.exitCode === 0) return true;
  let oid: string | null;
  try {
    oid = await git.lsRemote(url, LORE_REF);
  } catch {
    throw unreachable(remote, r.stderr);
  }
  if (oid) throw unreachable(remote, r.stderr);
  return false;
}

/**
 * The remote's lore tip without moving any ref: asks ls-remote, then fetches only the objects.
 * Null when the remote has no lore ref yet.
 */
export async function peekLore(git: Git, remote: string, url: string = remote): Promise<string | null> {
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

