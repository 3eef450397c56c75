import type { Env } from '../env.js';
import { GitError } from '../errors.js';
import type { RunResult } from '../process/collect.js';
import type { GitRunner } from './runner.js';

/**
 * Talking to remotes: fetch, push, ls-remote. The remote (a name or an address) always follows
 * `--`, so one that starts with '-' is never an option.
 *
 * Credentials: `never` sets GIT_TERMINAL_PROMPT=0, so git fails at once instead of asking on the
 * terminal; `inherit` leaves the user's own setting (and git's default: ask) alone. Sync and hooks
 * use `defaultPrompt` (ask only in a command a person runs at a terminal); the remote helper's
 * code transfers inherit, like the plain git they stand in for (docs/architecture.md, "git").
 */
export type PromptPolicy = 'inherit' | 'never';

/** `inherit` for a command typed at a terminal (stdin is one and the Env can prompt), else `never` (hooks, the helper's own sync, CI, pipes). */
export function defaultPrompt(env: Env): PromptPolicy {
  return env.stdinIsTTY && env.prompt ? 'inherit' : 'never';
}

function promptEnv(policy: PromptPolicy): Record<string, string> {
  return policy === 'never' ? { GIT_TERMINAL_PROMPT: '0' } : {};
}

export interface TransferOptions {
  prompt: PromptPolicy;
  /** `-q`; otherwise `--progress`/`--no-progress` as `progress` says, and `-v` with `verbose`. */
  quiet?: boolean;
  progress?: boolean;
  verbose?: boolean;
  /** git's messages and progress go to the user's terminal (the result's stderr is then ''). */
  inheritStderr?: boolean;
}

export interface FetchOptions extends TransferOptions {
  /** `--no-tags`. */
  noTags?: boolean;
  /**
   * Lore data from a remote that may be hostile (the default): `core.bigFileThreshold=1m`, so a
   * huge blob is streamed by index-pack, not inflated in memory. False for the user's own code.
   */
  untrusted?: boolean;
}

export interface PushOptions extends TransferOptions {
  dryRun?: boolean;
  atomic?: boolean;
  force?: boolean;
  /** `--force-with-lease=<value>` each (as git handed them to the remote helper). */
  leases?: readonly string[];
  /** `--push-option=<value>` each. */
  pushOptions?: readonly string[];
}

export interface PushRefResult {
  flag: string;
  src: string;
  dst: string;
  summary: string;
  reason: string;
}

function verbosityArgs(o: TransferOptions): string[] {
  if (o.quiet) return ['-q'];
  const out: string[] = [];
  if (o.progress !== undefined) out.push(o.progress ? '--progress' : '--no-progress');
  if (o.verbose) out.push('-v');
  return out;
}

/**
 * Fetches refspecs from a remote (never FETCH_HEAD, never auto-gc, never submodules). Returns the
 * run (exit code, stderr) instead of throwing when the remote cannot be reached, so callers can
 * decide how loud to be.
 */
export function fetch(g: GitRunner, remote: string, refspecs: readonly string[], opts: FetchOptions): Promise<RunResult> {
  const args = [
    ...(opts.untrusted === false ? [] : ['-c', 'core.bigFileThreshold=1m']),
    'fetch', '--no-write-fetch-head', '--no-auto-gc', '--no-recurse-submodules',
    ...(opts.noTags ? ['--no-tags'] : []),
    ...verbosityArgs(opts),
    '--', remote, ...refspecs,
  ];
  return g.raw(args, { env: promptEnv(opts.prompt), ...(opts.inheritStderr ? { inheritStderr: true } : {}) });
}

/**
 * Pushes refspecs without running hooks (no force unless asked or a refspec says so). Returns
 * git's per-ref `--porcelain` results and the run: a rejected ref has flag `!` (a lost
 * compare-and-swap on the remote is told by that flag, never by the message).
 */
export async function push(g: GitRunner, remote: string, refspecs: readonly string[], opts: PushOptions): Promise<{ run: RunResult; refs: PushRefResult[] }> {
  const args = ['push', '--porcelain', '--no-verify', ...verbosityArgs(opts)];
  if (opts.dryRun) args.push('--dry-run');
  if (opts.atomic) args.push('--atomic');
  if (opts.force) args.push('--force');
  for (const c of opts.leases ?? []) args.push(`--force-with-lease=${c}`);
  for (const o of opts.pushOptions ?? []) args.push(`--push-option=${o}`);
  const r = await g.raw([...args, '--', remote, ...refspecs], { env: promptEnv(opts.prompt), ...(opts.inheritStderr ? { inheritStderr: true } : {}) });
  return { run: r, refs: parsePushPorcelain(r.stdout.toString('utf8')) };
}

/** Parses `git push --porcelain` output (`<flag>\t<src>:<dst>\t<summary> (<reason>)` lines) into per-ref results. */
export function parsePushPorcelain(out: string): PushRefResult[] {
  const refs: PushRefResult[] = [];
  for (const line of out.split('\n')) {
    const m = /^([ +\-*=!])\t([^\t]*)\t(.*)$/.exec(line);
    if (!m) continue;
    const colon = m[2]!.indexOf(':');
    const src = colon < 0 ? m[2]! : m[2]!.slice(0, colon);
    const dst = colon < 0 ? '' : m[2]!.slice(colon + 1);
    const rest = m[3]!;
    const paren = /^(.*?) \((.*)\)$/.exec(rest);
    refs.push({ flag: m[1]!, src, dst, summary: paren ? paren[1]! : rest, reason: paren ? paren[2]! : '' });
  }
  return refs;
}

/** A remote's refs as `git ls-remote --symref` lists them: ids by name, and symbolic refs (HEAD) by name. */
export interface RemoteListing {
  refs: Array<{ oid: string; name: string }>;
  symrefs: Map<string, string>;
}

/**
 * The object id a remote's ref points at, without fetching; null when the remote lacks it.
 * Throws GitError (with git's own message) when the remote cannot be reached.
 */
export async function lsRemote(g: GitRunner, remote: string, ref: string, prompt: PromptPolicy): Promise<string | null> {
  const r = await g.raw(['ls-remote', '--', remote, ref], { env: promptEnv(prompt) });
  if (r.exitCode !== 0) throw new GitError(['ls-remote', remote], r.exitCode, r.stderr);
  return parseLsRemote(r.stdout.toString('utf8')).refs.find((x) => x.name === ref)?.oid ?? null;
}

/** Every ref of a remote, with its symbolic refs. Throws GitError (git's message) when it cannot be reached. */
export async function lsRemoteAll(g: GitRunner, remote: string, prompt: PromptPolicy): Promise<RemoteListing> {
  const r = await g.raw(['ls-remote', '--symref', '--', remote], { env: promptEnv(prompt) });
  if (r.exitCode !== 0) throw new GitError(['ls-remote', remote], r.exitCode, r.stderr);
  return parseLsRemote(r.stdout.toString('utf8'));
}

/** Parses `git ls-remote [--symref]`: `<oid>\t<name>` and `ref: <target>\t<name>` lines (ref names hold no tab or newline). */
export function parseLsRemote(out: string): RemoteListing {
  const listing: RemoteListing = { refs: [], symrefs: new Map() };
  for (const l of out.split('\n')) {
    const tab = l.indexOf('\t');
    if (tab < 0) continue;
    const left = l.slice(0, tab);
    const name = l.slice(tab + 1);
    if (left.startsWith('ref: ')) listing.symrefs.set(name, left.slice(5));
    else if (/^[0-9a-f]{40,64}$/.test(left)) listing.refs.push({ oid: left, name });
  }
  return listing;
}
