/**
 * The one error family of git-lore. Every failure that reaches the CLI is a LoreError (or is
 * wrapped into one) carrying an exit code and a hint that names the next command to run.
 * Core code throws these and never prints or exits; the CLI entry has the only catch.
 */
import { redactCredentials } from './redact.js';

export type ExitCode = 1 | 2 | 130;

export interface LoreErrorOptions {
  /** What the user should do next, ideally an exact command. */
  hint?: string;
  /** The underlying error, always set when there is one. */
  cause?: unknown;
  /** Exit code: 1 for failures, 2 for usage or bad input, 130 when the user pressed Ctrl-C. */
  exitCode?: ExitCode;
}

/**
 * Base class: a failure with an exit code and an actionable hint. Credentials in an address
 * (`https://user:token@…`) are redacted from the message and the hint here, once for all.
 */
export class LoreError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  constructor(message: string, options: LoreErrorOptions = {}) {
    super(redactCredentials(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint === undefined ? undefined : redactCredentials(options.hint);
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad input or usage: exit code 2. */
export class UsageError extends LoreError {
  constructor(message: string, options: Omit<LoreErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/**
 * A git child process failed. Carries argv (no passphrase or key is ever passed in argv; an
 * address may hold credentials, which the message and the debug log redact), exit code, stderr.
 */
export class GitError extends LoreError {
  readonly argv: readonly string[];
  readonly gitExitCode: number | undefined;
  readonly stderr: string;
  constructor(argv: readonly string[], gitExitCode: number | undefined, stderr: string, options: LoreErrorOptions = {}) {
    const first = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
    super(`git ${argv.slice(0, 3).join(' ')} failed${gitExitCode === undefined ? '' : ` (exit ${gitExitCode})`}${first ? `: ${first}` : ''}`, options);
    this.argv = argv;
    this.gitExitCode = gitExitCode;
    this.stderr = stderr;
  }
}

/** The user pressed Ctrl-C at a prompt: exit 130, as a shell reports a command killed by SIGINT. */
export class InterruptedError extends LoreError {
  constructor(options: Omit<LoreErrorOptions, 'exitCode'> = {}) {
    super('interrupted; nothing was written', { ...options, exitCode: 130 });
  }
}

/** Decryption or authentication failed: a wrong key, or data tampered with or corrupted. */
export class CryptoError extends LoreError {}

/**
 * Data that authenticated (or needs no key) but breaks the rules of its format: an index whose
 * chunks do not add up, a payload that does not decode, a path outside the agent's files, a blob
 * over its size limit. Written by a broken or hostile writer; never by this machine's own bug.
 */
export class DataError extends LoreError {}

/** The local store (LORE_HOME, SQLite database) cannot be used. */
export class StoreError extends LoreError {}

/**
 * A bug in git-lore: anything thrown that is not one of the failures above (a TypeError, a broken
 * assumption). Reported as a bug, never as tampering or bad input; `DEBUG=lore:*` shows its stack.
 */
export class BugError extends LoreError {}

/** What a failure says about its cause: the data's fault (authentication, format) or ours (a bug). */
export type FailureKind = 'authentication' | 'malformed' | 'bug' | 'other';

export function failureKind(err: LoreError): FailureKind {
  if (err instanceof CryptoError) return 'authentication';
  if (err instanceof DataError) return 'malformed';
  if (err instanceof BugError) return 'bug';
  return 'other';
}

const CORRUPT_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * When `err` (or an error it wraps) is SQLite saying that lore.db is damaged: the StoreError that
 * says so and how to recover. Otherwise null.
 */
export function corruptStore(err: unknown): StoreError | null {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CORRUPT_CODES.test(code)) {
      return new StoreError(`the local store LORE_HOME/lore.db is corrupt (${(e as Error).message})`, {
        cause: err,
        hint: 'Rebuild it with `git lore import --rebuild`: it moves the damaged file aside and re-imports every session from the agents\' files; sessions received through sync come back with the next `git lore sync`.',
      });
    }
  }
  return null;
}

/**
 * Wraps anything into a LoreError, keeping the cause. A damaged lore.db says so; anything that is
 * not a LoreError is a bug of git-lore (BugError), and says that too.
 */
export function toLoreError(err: unknown): LoreError {
  const corrupt = corruptStore(err);
  if (corrupt) return corrupt;
  if (err instanceof LoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The environment failing (a full disk, a permission, SQLite busy or out of space) is not a bug.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(E[A-Z0-9_]+|SQLITE_[A-Z_]+)$/.test(code)) {
    return new (code.startsWith('SQLITE_') ? StoreError : LoreError)(message, { cause: err, hint: 'Fix the condition above (space, permissions, another process holding the file) and run the command again; nothing was lost.' });
  }
  return new BugError(`internal error (a bug in git-lore): ${message}`, {
    cause: err,
    hint: 'Nothing was lost. Re-run with DEBUG=lore:* to see where it happened (the stack), and report it with that output.',
  });
}
