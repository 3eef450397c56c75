import fs from 'node:fs';
import path from 'node:path';
import { LoreError, UsageError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { assertSafeName, gitReason, type Git, type RepoInfo } from '../../git/git.js';
import { getSetting } from '../config.js';
import { normalizeAddress } from './address.js';
import { repoScope } from '../repo-id.js';
import type { RepoKey } from '../../store/db.js';

interface RepoHandle {
  git: Git;
  info: RepoInfo;
}

/**
 * What a store syncs: a repository's sessions through its own lore ref, or (global) every session
 * of this machine through the standalone repository `$LORE_HOME/sync`.
 */
export interface SyncTarget {
  git: Git;
  gitDir: string;
  /** The repository whose sessions this store carries; null for the global store (all sessions). */
  repoRoot: string | null;
  /** That repository's identity and root: the scope of its sessions; null for the global store. */
  repo: RepoKey | null;
  global: boolean;
}

/** The folder of the global store's repository. */
export const globalDir = (ctx: LoreContext) => path.join(ctx.paths.loreHome, 'sync');

/**
 * The target of a sync command. The global store's repository is created by setup (`create`);
 * its `origin` follows the `sync_global_remote` setting.
 */
export async function syncTarget(ctx: LoreContext, opts: { global?: boolean; create?: boolean } = {}): Promise<SyncTarget> {
  if (!opts.global) {
    const { git, info } = await openRepo(ctx);
    const repo = await repoScope(ctx, git, info);
    ctx.db.backfillRepoId(repo);
    return { git, gitDir: info.gitDir, repoRoot: info.mainRoot, repo, global: false };
  }
  const dir = globalDir(ctx);
  const remoteUrl = await getSetting(ctx, 'sync_global_remote');
  if (!remoteUrl) {
    throw new UsageError('no remote is configured for the global store', { hint: 'Run `git lore config set sync_global_remote <url of a private repository>`, then `git lore sync --global setup`.' });
  }
  if (!fs.existsSync(path.join(dir, 'HEAD'))) {
    if (!opts.create) throw new UsageError('the global store is not set up on this machine', { hint: 'Run `git lore sync --global setup`.' });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await ctx.git(dir).initBare().catch((err: { stderr?: string }) => {
      throw new LoreError(`cannot create the global store repository in ${dir}: ${gitReason(err.stderr ?? String(err))}`, { cause: err });
    });
  }
  const git = ctx.git(dir);
  if ((await git.configGet('remote.origin.url')) !== remoteUrl) {
    if ((await git.remotes()).includes('origin')) await git.configSet('remote.origin.url', remoteUrl);
    else await git.remoteAdd('origin', remoteUrl);
  }
  return { git, gitDir: dir, repoRoot: null, repo: null, global: true };
}

/** The repository of the current folder; a usage error outside one. */
export async function openRepo(ctx: LoreContext): Promise<RepoHandle> {
  const info = await ctx.repoInfo();
  if (!info) throw new UsageError('not inside a git repository', { hint: 'cd into the repository whose sessions you want to sync.' });
  return { git: ctx.git(info.root), info };
}

/** What sync needs of the repository's remote configuration, read by one `git config` call. */
export interface RemoteConfig {
  loreRemote: string | null;
  urls: Map<string, string>;
  vcs: Map<string, string>;
  fetch: Map<string, string[]>;
}

export async function readRemoteConfig(git: Git): Promise<RemoteConfig> {
  const cfg: RemoteConfig = { loreRemote: null, urls: new Map(), vcs: new Map(), fetch: new Map() };
  const pairs = await git.configGetRegexp('^(lore\\.remote|remote\\..*\\.(url|vcs|fetch))$').catch((err: { stderr?: string }) => {
    throw new LoreError(`cannot read the git configuration: ${gitReason(err.stderr ?? String(err))}`, { cause: err });
  });
  for (const [key, value] of pairs) {
    if (key === 'lore.remote') {
      cfg.loreRemote = value;
      continue;
    }
    // remote.<name>.<var>: the name may itself hold dots.
    const name = key.slice('remote.'.length, key.lastIndexOf('.'));
    const v = key.slice(key.lastIndexOf('.') + 1);
    if (v === 'url' && !cfg.urls.has(name)) cfg.urls.set(name, value);
    else if (v === 'vcs') cfg.vcs.set(name, value);
    else if (v === 'fetch') cfg.fetch.set(name, [...(cfg.fetch.get(name) ?? []), value]);
  }
  return cfg;
}

/** The remote to sync with: the option, else `lore.remote`, else the only remote, else origin. */
export async function pickRemote(git: Git, name?: string, known?: RemoteConfig): Promise<string> {
  const cfg = known ?? (await readRemoteConfig(git));
  let remotes = [...new Set([...cfg.urls.keys(), ...cfg.fetch.keys()])];
  const chosen = name ?? cfg.loreRemote ?? (remotes.length === 1 ? remotes[0]! : 'origin');
  assertSafeName('remote', chosen);
  // Remotes can also live outside the config (.git/remotes): ask git before saying no.
  if (!remotes.includes(chosen)) remotes = await git.remotes();
  if (!remotes.includes(chosen)) {
    throw new UsageError(`no remote named ${chosen}`, { hint: remotes.length ? `Use --remote with one of: ${remotes.join(', ')}.` : 'Add one with `git remote add origin <url>`.' });
  }
  return chosen;
}


/**
 * The address lore's own fetches and pushes use for a remote: for a remote that goes through
 * git-remote-lore (`lore::<inner>` or `remote.<name>.vcs=lore`) the inner address, so lore's
 * transfers do not re-enter the helper; otherwise the remote's name.
 */
export async function networkAddress(git: Git, remote: string, known?: RemoteConfig): Promise<string> {
  const cfg = known ?? (await readRemoteConfig(git));
  const url = cfg.urls.get(remote);
  if (url?.startsWith('lore::')) return url.slice('lore::'.length);
  if (url && cfg.vcs.get(remote) === 'lore') return url;
  return remote;
}


/** The address a remote points at (its URL, `lore::` removed), normalized as a pin key; null when it has none. */
export async function pinAddress(git: Git, remote: string, cwd: string, known?: RemoteConfig): Promise<string | null> {
  const cfg = known ?? (await readRemoteConfig(git));
  const url = cfg.urls.get(remote);
  return url ? normalizeAddress(url, cwd) : null;
}
