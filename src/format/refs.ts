import type { Git } from '../git/git.js';

/**
 * The refs lore uses (docs/FORMAT.md). A module of its own, with no heavy imports, so that
 * git-remote-lore can name them without loading the sync machinery.
 */

/** The ref that holds a repository's encrypted sessions. */
export const LORE_REF = 'refs/lore/sessions';
/** The folder of every remote's tracking ref (a for-each-ref pattern that lists them all). */
export const LORE_REMOTES = 'refs/lore/remotes';
/** Where a remote's lore ref is fetched to. */
export const trackingRef = (remote: string) => `refs/lore/remotes/${remote}/sessions`;
/**
 * The fetch refspec: exactly the ref lore uses, so a plain `git fetch` brings it and nothing else
 * (a glob would let anyone with push access add refs that every fetch downloads). The price: a
 * plain `git fetch` fails while the remote lacks the ref, so it is configured only once the store
 * exists there (setup), and `git lore repair` re-creates a deleted ref.
 */
export const fetchRefspec = (remote: string) => `+refs/lore/sessions:refs/lore/remotes/${remote}/sessions`;
/** The glob refspec git-lore configured before (replaced by `ensureFetchRefspec`). */
const legacyRefspec = (remote: string) => `+refs/lore/sessions*:refs/lore/remotes/${remote}/sessions*`;

/**
 * Adds the fetch refspec to `remote.<name>.fetch` unless it is there, replacing the old glob
 * (never touches `.push`). A remote through git-remote-lore (`lore::` or `vcs=lore`) gets none:
 * the helper fetches the lore ref itself, and its ref list (which git matches refspecs against)
 * does not carry it.
 */
export async function ensureFetchRefspec(git: Git, remote: string, known?: { fetch: string[]; url: string | null; vcs: string | null }): Promise<void> {
  // `known`: the remote's configuration as the caller already read it (setup), saving three git calls.
  const key = `remote.${remote}.fetch`;
  const have = known ? known.fetch : await git.configGetAll(key);
  if (have.includes(legacyRefspec(remote))) await git.configUnsetValue(key, legacyRefspec(remote));
  const helper = known
    ? Boolean(known.url?.startsWith('lore::')) || known.vcs === 'lore'
    : (await git.configGet(`remote.${remote}.url`))?.startsWith('lore::') || (await git.configGet(`remote.${remote}.vcs`)) === 'lore';
  if (helper) {
    if (have.includes(fetchRefspec(remote))) await git.configUnsetValue(key, fetchRefspec(remote));
  } else if (!have.includes(fetchRefspec(remote))) await git.configAdd(key, fetchRefspec(remote));
}
