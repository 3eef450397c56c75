import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths, type EarlyFind } from '../env.js';
import { isListingFindArgs } from '../sources/find-args.js';
import { startFind } from '../process/early-find.js';

/**
 * The capture listing started before the CLI loads (docs/architecture.md, "Start-up"). A complete
 * capture records the `find` command line the next one will run (in the capture state,
 * src/core/capture-state.ts); a command that captures first starts it from the launcher, ~40 ms
 * before the bundle would, and the capture takes its result only if it would run exactly that
 * command (otherwise it runs its own). Loaded by the launcher: node's modules and modules
 * without dependencies only (no debug logger).
 */

/**
 * Whether the CLI's arguments name a command that captures before anything else: `git lore sync`
 * (not its setup, help or dry run) and the hook worker of the hooks that sync (pre-push,
 * post-merge, post-rewrite after a rebase; src/core/hooks.ts). The hook's own front process
 * only starts the worker, so it gets none.
 */
function capturesFirst(argv: readonly string[]): boolean {
  if (argv[0] === 'sync') return !argv.slice(1).some((a) => ['setup', '--help', '-h', '--dry-run', '-n'].includes(a));
  if (argv[0] === 'hook-worker') return argv[1] === 'pre-push' || argv[1] === 'post-merge' || (argv[1] === 'post-rewrite' && argv[2] === 'rebase');
  return false;
}

/** A state file larger than this is not read (it holds a few hundred folder names). */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

/** The capture state (src/core/capture-state.ts owns its content); named here for the launcher. */
export const captureStateFile = (loreHome: string) => path.join(loreHome, 'capture-since', 'state');

/** The capture state's JSON, unchecked; null when absent, unreadable, too large or not JSON. */
export function readCaptureState(loreHome: string): unknown {
  const file = captureStateFile(loreHome);
  try {
    if (fs.statSync(file).size > MAX_STATE_BYTES) return null;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

/**
 * Starts the recorded find when `argv` (the CLI's arguments) names a capturing command; undefined
 * otherwise, or when no command is recorded or the record is not a listing command.
 */
export function startEarlyListing(argv: readonly string[], vars: Readonly<Record<string, string | undefined>>, cwd: string): EarlyFind | undefined {
  if (!capturesFirst(argv)) return undefined;
  const find = (readCaptureState(resolvePaths({ cwd, vars }).loreHome) as { find?: unknown } | null)?.find;
  if (!isListingFindArgs(find)) return undefined;
  const ran = find;
  const startedMs = Date.now();
  const started = startFind(ran, vars);
  let taken = false;
  return {
    startedMs,
    take(want) {
      if (taken || want.length !== ran.length || !want.every((a, i) => a === ran[i])) return null;
      taken = true;
      started.keep();
      return started.result;
    },
  };
}
