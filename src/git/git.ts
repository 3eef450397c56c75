import type { Env } from '../env.js';
import { UsageError } from '../errors.js';
import { blame, type BlameLine } from './blame.js';
import { CatFile } from './cat-file.js';
import * as config from './config.js';
import { logPatches, type LogCommit } from './log.js';
import * as objects from './objects.js';
import type { FastImportCommit, TreeChange, TreeEntry } from './objects.js';
import * as refs from './refs.js';
import * as repo from './repo.js';
import type { RepoInfo } from './repo.js';
import { GitRunner } from './runner.js';
import * as transport from './transport.js';
import type { FetchOptions, PromptPolicy, PushOptions, PushRefResult, RemoteListing, TransferOptions } from './transport.js';
import type { RunResult } from '../process/collect.js';

/**
 * Package git: every invocation of the system `git` binary made by git-lore goes through this
 * folder, one function per operation, plumbing and machine formats only (`-z` where git has it).
 * `Git` is the handle the rest of the code uses; the functions live by concern in repo.ts,
 * refs.ts, objects.ts, cat-file.ts, config.ts, transport.ts, blame.ts and log.ts, over the
 * runner of runner.ts, which nothing outside src/git/ reaches (docs/architecture.md, "git").
 */

export { ZERO_OID } from './refs.js';
export { parsePushPorcelain, defaultPrompt } from './transport.js';
export type { CatObject } from './cat-file.js';
export type { AddedLine, LogCommit, LogFile } from './log.js';
export type { BlameLine, CatFile, FastImportCommit, FetchOptions, PromptPolicy, PushOptions, PushRefResult, RemoteListing, RepoInfo, TransferOptions, TreeChange, TreeEntry };
export type { FastImportFile } from './objects.js';

/** git's own reason from its stderr: the first `fatal:`/`error:` line, else the last line ('' for none). For messages only, never for decisions. */
export function gitReason(stderr: string, opts: { stripPrefix?: boolean } = {}): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const line = lines.find((l) => /^(fatal|error): /.test(l)) ?? lines.slice(-1)[0] ?? '';
  return opts.stripPrefix ? line.replace(/^(fatal|error): /, '') : line;
}

/** Refuses user-typed names that git would take for options. */
export function assertSafeName(kind: string, value: string): void {
  if (!value || value.startsWith('-') || /[\0\n]/.test(value)) {
    throw new UsageError(`invalid ${kind}: ${JSON.stringify(value)}`, { hint: `Give a ${kind} that does not start with '-'.` });
  }
}

/** A handle on one repository (or a bare git dir): every operation runs with `-C dir`. */
export class Git {
  readonly dir: string;
  private readonly env: Env;
  private readonly g: GitRunner;

  /** `extraEnv` is added to every git child's environment (the remote helper's GIT_DIR). */
  constructor(env: Env, dir: string, extraEnv: Record<string, string> = {}) {
    this.env = env;
    this.dir = dir;
    this.g = new GitRunner(env, dir, extraEnv);
  }

  // Where and what the repository is (repo.ts).

  /** The repository containing `dir`; null outside one. */
  repoInfo(): Promise<RepoInfo | null> { return repo.repoInfo(this.g); }
  /** Whether the repository is a shallow clone. */
  isShallow(): Promise<boolean> { return repo.isShallow(this.g); }
  /** The absolute git dir (bare repositories too). Throws GitError outside a repository. */
  gitDir(): Promise<string> { return repo.gitDir(this.g); }
  /** The absolute path of `name` in the git dir as git resolves it (`hooks` honours core.hooksPath). */
  gitPath(name: string): Promise<string> { return repo.gitPath(this.g, name); }
  /** Tracked files at or under the given literal paths. */
  lsFiles(paths: readonly string[]): Promise<string[]> { return repo.lsFiles(this.g, paths); }
  /** Creates a bare repository in `dir` (which must exist). */
  initBare(): Promise<void> { return repo.initBare(this.g); }
  /** Names of configured remotes. */
  remotes(): Promise<string[]> { return repo.remotes(this.g); }
  /** Adds a remote. */
  remoteAdd(name: string, url: string): Promise<void> { return repo.remoteAdd(this.g, name, url); }

  // Refs and history (refs.ts).

  /** A ref or revision's object id; null when it does not exist. */
  resolve(rev: string): Promise<string | null> { return refs.resolve(this.g, rev); }
  /** The ids of those full ref names that exist, from one process. */
  resolveRefs(names: readonly string[]): Promise<Map<string, string>> { return refs.resolveRefs(this.g, names); }
  /** Compare-and-swap update of `ref` from `oldOid` (null: absent) to `newOid`; false when another writer moved it. */
  updateRef(ref: string, newOid: string, oldOid: string | null, message = 'lore', alsoDelete?: string): Promise<boolean> { return refs.updateRef(this.g, ref, newOid, oldOid, message, alsoDelete); }
  /** Points `ref` at `oid` unconditionally (tracking refs). */
  setRef(ref: string, oid: string): Promise<void> { return refs.setRef(this.g, ref, oid); }
  /** Deletes `ref` (only while at `oldOid`, when given); whether git deleted it. */
  deleteRef(ref: string, oldOid?: string): Promise<boolean> { return refs.deleteRef(this.g, ref, oldOid); }
  /** True when `ancestor` is an ancestor of (or equal to) `rev`. */
  isAncestor(ancestor: string, rev: string): Promise<boolean> { return refs.isAncestor(this.g, ancestor, rev); }
  /** Short names of the local branches containing `commit`. */
  branchesContaining(commit: string): Promise<string[]> { return refs.branchesContaining(this.g, commit); }
  /** The number of commits in a rev-list range. */
  countCommits(range: string): Promise<number> { return refs.countCommits(this.g, range); }
  /** The first-parent history of `tip`, newest first, at most `max`. */
  firstParents(tip: string, max: number): Promise<string[]> { return refs.firstParents(this.g, tip, max); }
  /** The root commits of HEAD's history (sorted); [] before the first commit. */
  rootCommits(): Promise<string[]> { return refs.rootCommits(this.g); }
  /** The branch HEAD is on; null when detached. */
  currentBranch(): Promise<string | null> { return refs.currentBranch(this.g); }

  // Objects (objects.ts, cat-file.ts).

  /** A tree's blobs, recursively, with sizes (only `paths`, when given). */
  lsTree(treeish: string, paths?: readonly string[]): Promise<TreeEntry[]> { return objects.lsTree(this.g, treeish, paths); }
  /** The blobs that differ between two trees (no renames), optionally under some paths only. */
  diffTree(from: string, to: string, paths?: readonly string[]): Promise<TreeChange[]> { return objects.diffTree(this.g, from, to, paths); }
  /** The blob at `path` in `treeish`; null when there is none. */
  readBlob(treeish: string, path: string): Promise<Buffer | null> { return objects.readBlob(this.g, treeish, path); }
  /** Writes objects and a commit in one pack; returns the commit id (publishing is the caller's CAS). */
  fastImportCommit(spec: FastImportCommit): Promise<string> { return objects.fastImportCommit(this.g, spec); }
  /** fastImportCommit, leaving its scratch ref for `updateRef`'s `alsoDelete`. */
  fastImportScratch(spec: FastImportCommit): Promise<{ oid: string; scratch: string }> { return objects.fastImportScratch(this.g, spec); }
  /** Starts a long-lived `git cat-file --batch-command` reader. Close it when done. */
  catFile(): CatFile { return new CatFile(this.g); }

  // Configuration (config.ts).

  /** One config value; null when unset. `file`: a config file instead of the repository's. */
  configGet(key: string, file?: string): Promise<string | null> { return config.configGet(this.g, key, file); }
  /** A boolean config value as git reads it; null when unset or not a boolean. */
  configGetBool(key: string): Promise<boolean | null> { return config.configGetBool(this.g, key); }
  /** Every value of a multi-valued key. */
  configGetAll(key: string, file?: string): Promise<string[]> { return config.configGetAll(this.g, key, file); }
  /** The keys matching a regexp, with their values, in config order. */
  configGetRegexp(regexp: string): Promise<Array<[string, string]>> { return config.configGetRegexp(this.g, regexp); }
  /** Every key and value of a config file ([] when unreadable). */
  configList(file: string): Promise<Array<[string, string]>> { return config.configList(this.g, file); }
  configSet(key: string, value: string, file?: string): Promise<void> { return config.configSet(this.g, key, value, file); }
  configAdd(key: string, value: string, file?: string): Promise<void> { return config.configAdd(this.g, key, value, file); }
  /** Removes every value of `key` (unset: no-op). */
  configUnset(key: string, file?: string): Promise<void> { return config.configUnset(this.g, key, file); }
  /** Removes the values of `key` equal to `value`. */
  configUnsetValue(key: string, value: string): Promise<void> { return config.configUnsetValue(this.g, key, value); }
  /** The pager git would use; null for none. */
  pagerCommand(): Promise<string | null> { return config.pagerCommand(this.g); }
  /** Whether git would colour output for `name`. */
  colorBool(name: string, stdoutIsTTY: boolean): Promise<boolean> { return config.colorBool(this.g, name, stdoutIsTTY); }

  // Remotes (transport.ts). `prompt` defaults to `defaultPrompt(env)`: ask only at a terminal.

  /** Fetches refspecs; returns the run (a failure is not thrown). */
  fetch(remote: string, refspecs: readonly string[], opts: Partial<FetchOptions> = {}): Promise<RunResult> {
    return transport.fetch(this.g, remote, refspecs, { prompt: transport.defaultPrompt(this.env), ...opts });
  }
  /** Pushes refspecs without hooks; per-ref porcelain results (flag `!`: rejected). */
  push(remote: string, refspecs: readonly string[], opts: Partial<PushOptions> = {}): Promise<{ run: RunResult; refs: PushRefResult[] }> {
    return transport.push(this.g, remote, refspecs, { prompt: transport.defaultPrompt(this.env), ...opts });
  }
  /** A remote ref's id without fetching; null when absent. Throws GitError when unreachable. */
  lsRemote(remote: string, ref: string, prompt: PromptPolicy = transport.defaultPrompt(this.env)): Promise<string | null> { return transport.lsRemote(this.g, remote, ref, prompt); }
  /** Every ref of a remote with its symbolic refs. Throws GitError when unreachable. */
  lsRemoteAll(remote: string, prompt: PromptPolicy = transport.defaultPrompt(this.env)): Promise<RemoteListing> { return transport.lsRemoteAll(this.g, remote, prompt); }

  // Lines and their history (blame.ts, log.ts).

  /** `git blame --porcelain`, parsed. */
  blame(file: string, opts: { rev?: string; range?: string; flags?: readonly string[] } = {}): Promise<BlameLine[]> { return blame(this.g, file, opts); }
  /** The commits of a range with the lines each added, paths exact (`-z`). */
  logPatches(range: string, opts: { max?: number } = {}): Promise<LogCommit[]> { return logPatches(this.g, range, opts); }
}
