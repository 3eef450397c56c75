import { spawn, type ChildProcess } from 'node:child_process';
import { log } from '../log.js';

/**
 * The one spawner: every child process of git-lore starts here. Built on node:child_process
 * rather than execa: loading execa cost about 60 ms of every command's start-up (bundled), which
 * hooks and the remote helper pay on each git operation (docs/architecture.md).
 */

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

/** Runs a command to completion. Never rejects on a non-zero exit or a spawn failure; callers type the failure. */
export function run(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'] });
    } catch (err) {
      resolve({ exitCode: undefined, stdout: Buffer.alloc(0), stderr: String(err), failed: true });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    let spawnError: Error | null = null;
    child.on('error', (e) => (spawnError = e));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // the child may exit before reading everything
      child.stdin!.end(opts.input);
    }
    child.on('close', (code) => {
      const exitCode = code ?? undefined;
      log.git('%s %o -> %s (%dms)', file, args.slice(0, 6), exitCode, Date.now() - started);
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? String(spawnError) : '');
      resolve({ exitCode, stdout: Buffer.concat(out), stderr, failed: exitCode !== 0 });
    });
  });
}

/** A long-lived child with piped stdin/stdout (for `git cat-file --batch`); `done` settles when it exits. */
export interface LongChild {
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  done: Promise<number | null>;
}

export function spawnLong(file: string, args: readonly string[], opts: { cwd: string; env: Record<string, string> }): LongChild {
  log.git('%s %o (long-lived)', file, args);
  const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'ignore'] });
  const done = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => undefined);
  return { stdin: child.stdin, stdout: child.stdout, done };
}
