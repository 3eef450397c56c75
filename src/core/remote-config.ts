import { UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { openRepo, pickRemote } from './sync/index.js';
import { ensureFetchRefspec } from '../format/refs.js';

/**
 * `git lore remote enable|disable [<remote>]`: routes an existing remote through git-remote-lore
 * with `remote.<name>.vcs=lore` (its URL stays readable by other tools), or back.
 */
export async function setRemoteHelper(ctx: LoreContext, opts: { remote?: string; enable: boolean }): Promise<{ remote: string; changed: boolean }> {
  const { git } = await openRepo(ctx);
  const remote = await pickRemote(git, opts.remote);
  const url = await git.configGet(`remote.${remote}.url`);
  if (url?.startsWith('lore::')) {
    if (opts.enable) return { remote, changed: false };
    await git.configSet(`remote.${remote}.url`, url.slice('lore::'.length));
    return { remote, changed: true };
  }
  const current = await git.configGet(`remote.${remote}.vcs`);
  if (opts.enable) {
    if (current === 'lore') return { remote, changed: false };
    if (current) throw new UsageError(`remote ${remote} already goes through the ${current} helper`, { hint: `Unset it first: git config --unset remote.${remote}.vcs` });
    await git.configSet(`remote.${remote}.vcs`, 'lore');
    await ensureFetchRefspec(git, remote);
    return { remote, changed: true };
  }
  if (current !== 'lore') return { remote, changed: false };
  await git.configUnset(`remote.${remote}.vcs`);
  return { remote, changed: true };
}
