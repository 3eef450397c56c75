import { execa, type ResultPromise } from 'execa';
import { log } from '../log.js';

/** Variables never passed to a child: secrets, and git's per-invocation context that would misdirect it. */
const SCRUBBED = [
  'LORE_PASSPHRASE',
  'LORE_PASSPHRASE_FILE',
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_PREFIX',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_QUARANTINE_PATH',
  'GIT_TRACE',
  'GIT_TRACE_PACKET',
  'GIT_TRACE_PERFORMANCE',
  'GIT_TRACE_SETUP',
  'GIT_TRACE2',
  'GIT_TRACE2_EVENT',
  'GIT_TRACE2_PERF',
  'GIT_REFLOG_ACTION',
];

/** Builds the environment of a child process: the given variables minus secrets and git context, plus extras. */
export function childEnv(vars: Readonly<Record<string, string | undefined>>, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined || SCRUBBED.includes(k)) continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  input?: string | Uint8Array;
  /** Inherit stderr to the user's terminal (progress of long git operations). */
  inheritStderr?: boolean;
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: string;
  failed: boolean;
}

/**
 * The one spawner: every child process of git-lore is started here. Never rejects on a non-zero
 * exit; callers turn failures into typed errors.
 */
export async function run(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const r = await execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: 1024 * 1024 * 1024,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stderr: opts.inheritStderr ? 'inherit' : 'pipe',
  });
  log.git('%s %o -> %s (%dms)', file, args.slice(0, 6), r.exitCode, Date.now() - started);
  const stderr = r.stderr instanceof Uint8Array ? Buffer.from(r.stderr).toString('utf8') : '';
  return {
    exitCode: r.exitCode,
    stdout: Buffer.from(r.stdout as Uint8Array),
    stderr,
    failed: r.failed,
  };
}

/** Starts a long-lived child with piped stdin/stdout (for `git cat-file --batch` and the like). */
export function spawnLong(file: string, args: readonly string[], opts: { cwd: string; env: Record<string, string> }): ResultPromise {
  log.git('%s %o (long-lived)', file, args);
  return execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    buffer: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  });
}
