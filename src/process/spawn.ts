import { spawn, type ChildProcess } from 'node:child_process';
import { log } from '../log.js';
import { collect, notStarted, type RunResult } from './collect.js';

/**
 * The one spawner: every child process of git-lore starts here. Built on node:child_process
 * rather than execa: loading execa cost about 60 ms of every command's start-up (bundled), which
 * hooks and the remote helper pay on each git operation (docs/architecture.md).
 */

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  input?: string | Uint8Array;
  /** Inherit stderr to the user's terminal (progress of long git operations). */
  inheritStderr?: boolean;
}

/** Runs a command to completion. Never rejects on a non-zero exit or a spawn failure; callers type the failure. */
export function run(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'] });
  } catch (err) {
    return Promise.resolve(notStarted(err));
  }
  if (opts.input !== undefined) {
    child.stdin!.on('error', () => undefined); // the child may exit before reading everything
    child.stdin!.end(opts.input);
  }
  return collect(child).then((r) => {
    log.git('%s %o -> %s (%dms)', file, args.slice(0, 6), r.exitCode, Date.now() - started);
    return r;
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

export interface LimitedRunResult {
  /** The leader's exit code; undefined when it was killed, or could not start. */
  exitCode: number | undefined;
  /** True when the limit was reached and the whole group was killed. */
  timedOut: boolean;
  /** Why it could not start (spawn error), else ''. */
  startError: string;
}

/**
 * Runs a command as the leader of a new session and process group, and kills the whole group
 * with SIGKILL when it is still running after `limitMs` (or when this process is told to stop):
 * the command and every child it started, which stay in its group unless they leave it on
 * purpose. stdout is ignored; stderr is handed to `onStderr` as it comes. Settles when the
 * leader exits (and its stderr is read, for at most 300 ms more: a grandchild that left the group
 * may hold the pipe). Never rejects.
 */
export function runWithLimit(file: string, args: readonly string[], opts: { cwd: string; env: Record<string, string>; input: string; limitMs: number; onStderr: (text: string) => void }): Promise<LimitedRunResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    } catch (err) {
      resolve({ exitCode: undefined, timedOut: false, startError: String(err) });
      return;
    }
    let timedOut = false;
    let settled = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is gone already */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      log.main('limit of %dms reached: killing process group %d', opts.limitMs, child.pid);
      killGroup();
    }, opts.limitMs);
    // Ctrl-C reaches the foreground group, which the new session is not in: pass it on.
    const onSignal = () => killGroup();
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    const finish = (r: LimitedRunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const s of signals) process.off(s, onSignal);
      child.stderr?.destroy();
      resolve(r);
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => opts.onStderr(d));
    child.on('error', (e) => finish({ exitCode: undefined, timedOut, startError: String(e) }));
    let stderrDone = false;
    child.stderr!.on('close', () => (stderrDone = true));
    child.on('exit', (code) => {
      const r = { exitCode: code ?? undefined, timedOut, startError: '' };
      // Its last words may still be in the pipe; a grandchild that escaped the group may hold
      // the pipe open, so wait for them only briefly.
      if (stderrDone) return finish(r);
      const grace = setTimeout(() => finish(r), 300);
      child.stderr!.once('close', () => {
        clearTimeout(grace);
        finish(r);
      });
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input);
  });
}

/** A pager started by `spawnPager`: write into `stdin`, end it, wait for `done`. */
export interface PagerChild {
  stdin: NodeJS.WritableStream;
  done: Promise<void>;
}

/**
 * Starts a pager the way git does (`sh -c <command>`), on this process's terminal: its stdout and
 * stderr are ours. `done` settles when it exits, or could not start.
 */
export function spawnPager(command: string, opts: { cwd: string; env: Record<string, string> }): PagerChild {
  log.git('pager %s', command);
  const child = spawn('sh', ['-c', command], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise<void>((resolve) => {
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
  return { stdin: child.stdin!, done };
}
