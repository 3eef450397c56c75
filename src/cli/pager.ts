import type { Env, Sink } from '../env.js';
import { Git } from '../git/git.js';
import { spawnPager } from '../process/spawn.js';
import { childEnv } from '../process/child-env.js';

/** The commands whose human output can be long enough to page, as git pages `log` and `blame`. */
const PAGED = new Set(['sessions', 'show', 'blame', 'log']);

/**
 * Whether this command line pages, by git's rules: a paged command, stdout a terminal, no
 * `--json`, no `--no-pager`, no help.
 */
export function wantsPager(argv: readonly string[], stdout: Sink): boolean {
  if (!stdout.isTTY) return false;
  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || !PAGED.has(command)) return false;
  return !argv.some((a) => a === '--json' || a === '--no-pager' || a === '--help' || a === '-h');
}

/** A running pager: the sink that feeds it, and `close`, which ends its input and waits for it. */
export interface Pager {
  sink: Sink;
  close(): Promise<void>;
}

/**
 * Starts the pager git would use here (`git var GIT_PAGER`), with `LESS=FRX` and `LV=-c` unless
 * set, as git does: less exits by itself when everything fits on one screen. Null when the pager
 * is `cat` or empty. Quitting the pager early stops the output quietly.
 */
export async function startPager(env: Env): Promise<Pager | null> {
  const command = await new Git(env, env.cwd).pagerCommand();
  if (!command) return null;
  const vars = childEnv(env.vars, { LESS: env.vars.LESS ?? 'FRX', LV: env.vars.LV ?? '-c' });
  const child = spawnPager(command, { cwd: env.cwd, env: vars });
  let open = true;
  child.stdin.on('error', () => (open = false));
  return {
    sink: { isTTY: true, write: (t: string) => void (open && child.stdin.write(t)) },
    close: async () => {
      if (open) child.stdin.end();
      await child.done;
    },
  };
}
