import os from 'node:os';
import path from 'node:path';

/** A writable text sink (stdout or stderr). */
export interface Sink {
  write(text: string): void;
  readonly isTTY: boolean;
}

/**
 * The explicit environment every use case receives: no module reads `process` except the CLI,
 * which builds this once. Tests build their own.
 */
export interface Env {
  readonly cwd: string;
  /** Environment variables, as given to the process. Child processes get a scrubbed copy. */
  readonly vars: Readonly<Record<string, string | undefined>>;
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Whether stdin is an interactive terminal (hooks and CI never are). */
  readonly stdinIsTTY: boolean;
  readonly now: () => Date;
  /** Reads all of standard input (hooks get ref lines there). */
  readonly readStdin?: () => Promise<string>;
  /** Asks the user on the terminal (hidden input for passphrases). Absent when there is no TTY. */
  readonly prompt?: (question: string, hidden: boolean) => Promise<string>;
  /**
   * Asks for a secret on the terminal, read byte by byte in raw mode into a Buffer that never
   * becomes a JS string (the caller zeroes it after use). Absent when there is no TTY.
   */
  readonly promptSecret?: (question: string) => Promise<Buffer>;
  /** Width of the terminal, for laying out help; absent: 100. */
  readonly columns?: number;
  /** The command line that starts this executable again (node and its script); absent: `git-lore` on PATH. */
  readonly self?: readonly string[];
  /** A capture listing the launcher started before the CLI loaded (src/core/early-listing.ts). */
  readonly earlyFind?: EarlyFind;
}

/**
 * A `find` started by the launcher with the arguments the last complete capture left for the next
 * one, so that it walks the agents' folders while the CLI loads.
 */
export interface EarlyFind {
  /** When it started (ms since the epoch). */
  readonly startedMs: number;
  /** Its result, once, when `argv` is what it ran; otherwise null (the caller runs its own). */
  take(argv: readonly string[]): Promise<{ exitCode: number | undefined; stdout: Buffer; stderr: string; failed: boolean }> | null;
}

/** Where things live, resolved once from the environment. */
export interface Paths {
  loreHome: string;
}

/** Each path: the variable that sets it, and its default folder under HOME (the hook shims use these too). */
export const PATH_VARS: Readonly<Record<keyof Paths, { env: string; underHome: string }>> = {
  loreHome: { env: 'LORE_HOME', underHome: '.lore' },
};

/** Resolves LORE_HOME with its documented default (agent folders: src/sources/registry.ts, agentFolder). */
export function resolvePaths(env: Pick<Env, 'cwd' | 'vars'>): Paths {
  const home = env.vars.HOME || os.homedir();
  const resolve = (k: keyof Paths) => path.resolve(env.cwd, env.vars[PATH_VARS[k].env] || path.join(home, PATH_VARS[k].underHome));
  return { loreHome: resolve('loreHome') };
}

/** A sink that collects text, for tests and for capturing output. */
export function memorySink(isTTY = false): Sink & { text(): string } {
  const parts: string[] = [];
  return { isTTY, write: (t: string) => void parts.push(t), text: () => parts.join('') };
}

/** Builds an Env for a library caller or a test. */
export function makeEnv(opts: { cwd: string; vars: Record<string, string | undefined>; stdout?: Sink; stderr?: Sink; now?: () => Date }): Env {
  return {
    cwd: opts.cwd,
    vars: opts.vars,
    stdout: opts.stdout ?? memorySink(),
    stderr: opts.stderr ?? memorySink(),
    stdinIsTTY: false,
    now: opts.now ?? (() => new Date()),
  };
}
