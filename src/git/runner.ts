import type { Env } from '../env.js';
import { GitError } from '../errors.js';
import { run, spawnLong, type LongChild } from '../process/spawn.js';
import type { RunResult } from '../process/collect.js';
import { childEnv } from '../process/child-env.js';

/**
 * The argv runner behind every function of src/git/. It is internal to this folder: code outside
 * src/git/ calls the typed methods of `Git` (git.ts) and never builds git argv itself
 * (test/git/ownership.test.ts fails when it does).
 */

export interface RunOpts {
  input?: string | Uint8Array;
  env?: Record<string, string>;
  /** git's stderr goes to the user's terminal (progress of transfers); the result's stderr is then ''. */
  inheritStderr?: boolean;
}

/**
 * The environment of every git child: the scrubbed copy of ours (no passphrases, no inherited
 * GIT_DIR or GIT_TRACE*: process/spawn.ts childEnv), with `LC_ALL=C` last, so that neither the
 * user's LANG/LC_* nor an extra can make git speak another language or reorder anything we parse.
 */
export function gitChildEnv(vars: Readonly<Record<string, string | undefined>>, extra: Record<string, string> = {}): Record<string, string> {
  return childEnv(vars, { ...extra, LC_ALL: 'C' });
}

/** Runs git in one repository (or bare git dir) with `-C dir`. */
export class GitRunner {
  constructor(
    readonly env: Env,
    readonly dir: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  /** The environment git children get here. */
  childEnv(extra: Record<string, string> = {}): Record<string, string> {
    return gitChildEnv(this.env.vars, { ...this.extraEnv, ...extra });
  }

  /** Runs git; returns the result without judging the exit code. */
  raw(args: readonly string[], opts: RunOpts = {}): Promise<RunResult> {
    return run('git', ['-C', this.dir, ...args], {
      cwd: this.dir,
      env: this.childEnv(opts.env),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.inheritStderr ? { inheritStderr: true } : {}),
    });
  }

  /** Runs git; throws GitError (argv, exit code, stderr) on a non-zero exit; returns stdout. */
  async exec(args: readonly string[], opts: RunOpts = {}): Promise<Buffer> {
    const r = await this.raw(args, opts);
    if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
    return r.stdout;
  }

  /** exec, decoded as UTF-8. */
  async text(args: readonly string[], opts: RunOpts = {}): Promise<string> {
    return (await this.exec(args, opts)).toString('utf8');
  }

  /** Starts a long-lived git (cat-file --batch-command). */
  long(args: readonly string[]): LongChild {
    return spawnLong('git', ['-C', this.dir, ...args], { cwd: this.dir, env: this.childEnv() });
  }
}
