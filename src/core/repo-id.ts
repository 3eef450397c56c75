import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import type { Git, RepoInfo } from '../git/git.js';
import { normalizeAddress } from './sync/address.js';

/** A repository as git-lore scopes sessions by it: its identity, and where its main worktree is here. */
export interface RepoScope {
  /** What every clone of the repository shares (docs/repository-identity.md). */
  id: string;
  /** The main worktree's root on this machine (shown, and where restore writes by default). */
  root: string;
}

const CACHE = 'repo-id';

/** Path-named identities (repositories without commits) per context: see repoScope. */
const unborn = new WeakMap<LoreContext, Map<string, string>>();

/**
 * The identity of a repository: a digest of its root commits (what every clone, worktree and moved
 * copy shares). A shallow clone, whose root commits are only its shallow boundary, is named by its
 * origin's address instead; a repository without commits by its path. Cached in
 * `$GIT_COMMON_DIR/lore/repo-id` (root commits do not change unless history is rewritten:
 * remove the file to compute it again).
 */
export async function repoScope(ctx: LoreContext, git: Git, info: RepoInfo): Promise<RepoScope> {
  // A repository without commits is named by its path, which is not cached on disk (its first
  // commit changes its identity): remembered for this context's lifetime instead, so a capture of
  // many sessions asks git once, not twice per session.
  const known = unborn.get(ctx)?.get(info.commonDir);
  if (known) return { id: known, root: info.mainRoot };
  const file = path.join(info.commonDir, 'lore', CACHE);
  try {
    const cached = fs.readFileSync(file, 'utf8').trim();
    if (/^(git|url|path):/.test(cached)) return { id: cached, root: info.mainRoot };
  } catch {
    /* computed below */
  }
  const id = await computeId(ctx, git, info);
  if (id.startsWith('path:')) {
    const memo = unborn.get(ctx) ?? new Map<string, string>();
    memo.set(info.commonDir, id);
    unborn.set(ctx, memo);
  } else {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp-${process.pid}`, `${id}\n`);
      fs.renameSync(`${file}.tmp-${process.pid}`, file);
    } catch (err) {
      log.import('cannot cache the repository id: %s', (err as Error).message);
    }
  }
  return { id, root: info.mainRoot };
}

async function computeId(ctx: LoreContext, git: Git, info: RepoInfo): Promise<string> {
  if (await git.isShallow()) {
    const url = await git.configGet('remote.origin.url');
    if (url) return `url:${normalizeAddress(url, ctx.env.cwd)}`;
  }
  const roots = await git.rootCommits();
  if (!roots.length) return `path:${info.mainRoot}`;
  return `git:${crypto.createHash('sha256').update(roots.sort().join('\n')).digest('hex').slice(0, 32)}`;
}
