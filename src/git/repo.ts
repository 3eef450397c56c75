import path from 'node:path';
import type { GitRunner } from './runner.js';

/** Where a repository lives and what it is: rev-parse, init, ls-files, remotes. */

/** Where a repository lives. `mainRoot` is the main worktree's root (linked worktrees share it). */
export interface RepoInfo {
  root: string;
  gitDir: string;
  commonDir: string;
  mainRoot: string;
}

/**
 * Describes the repository containing the runner's folder. Returns null when the folder is not
 * inside a git repository with a work tree (or does not exist).
 */
export async function repoInfo(g: GitRunner): Promise<RepoInfo | null> {
  const r = await g.raw(['rev-parse', '--path-format=absolute', '--show-toplevel', '--absolute-git-dir', '--git-common-dir']).catch(() => null);
  if (!r || r.exitCode !== 0) return null;
  const [root, gitDir, commonDir] = r.stdout.toString('utf8').replace(/\n$/, '').split('\n');
  if (!root || !gitDir || !commonDir) return null;
  const mainRoot = commonDir !== gitDir && path.basename(commonDir) === '.git' ? path.dirname(commonDir) : root;
  return { root, gitDir, commonDir, mainRoot };
}

/** Whether the repository is a shallow clone. */
export async function isShallow(g: GitRunner): Promise<boolean> {
  const r = await g.raw(['rev-parse', '--is-shallow-repository']);
  return r.exitCode === 0 && r.stdout.toString('utf8').trim() === 'true';
}

/** The absolute git dir (works for bare repositories). Throws GitError when not a repository. */
export async function gitDir(g: GitRunner): Promise<string> {
  return (await g.text(['rev-parse', '--absolute-git-dir'])).replace(/\n$/, '');
}

/**
 * The absolute path git uses for `name` inside the git dir (`git rev-parse --git-path`: honours
 * core.hooksPath for `hooks`, and linked worktrees' own files). Throws GitError.
 */
export async function gitPath(g: GitRunner, name: string): Promise<string> {
  const out = (await g.text(['rev-parse', '--path-format=absolute', '--git-path', name])).replace(/\n$/, '');
  return path.resolve(g.dir, out);
}

/** Tracked files at or under `paths` (literal paths, relative to the runner's folder), from the index. Throws GitError. */
export async function lsFiles(g: GitRunner, paths: readonly string[]): Promise<string[]> {
  const out = await g.exec(['--literal-pathspecs', 'ls-files', '-z', '--', ...paths]);
  return out.toString('utf8').split('\0').filter(Boolean);
}

/** Creates a bare repository in the runner's folder (which must exist). Throws GitError. */
export async function initBare(g: GitRunner): Promise<void> {
  await g.exec(['init', '-q', '--bare']);
}

/** Names of configured remotes. */
export async function remotes(g: GitRunner): Promise<string[]> {
  return (await g.text(['remote'])).split('\n').filter(Boolean);
}

/** Adds a remote. Throws GitError (it exists already, an invalid name). */
export async function remoteAdd(g: GitRunner, name: string, url: string): Promise<void> {
  await g.exec(['remote', 'add', '--end-of-options', name, url]);
}
