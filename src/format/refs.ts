import type { Git } from '../git/git.js';

/**
 * The refs lore uses (docs/FORMAT.md). A module of its own, with no heavy imports, so that
 * git-remote-lore can name them without loading the sync machinery.
 */

/** The ref that holds a repository's encrypted sessions. */
export const LORE_REF = 'refs/lore/sessions';
/** Where a remote's lore ref is fetched to. */
export const trackingRef = (remote: string) => `refs/lore/remotes/${remote}/sessions`;
/** The glob fetch refspec: a plain `git fetch` brings the ref, and does not fail while the remote lacks it. */
export const fetchRefspec = (remote: string) => `+refs/lore/sessions*:refs/lore/remotes/${remote}/sessions*`;

/** Adds the glob fetch refspec to `remote.<name>.fetch` unless it is there (never touches `.push`). */
export async function ensureFetchRefspec(git: Git, remote: string): Promise<void> {
  const key = `remote.${remote}.fetch`;
  if (!(await git.configGetAll(key)).includes(fetchRefspec(remote))) await git.configAdd(key, fetchRefspec(remote));
}
