import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Env } from '../env.js';

/** How many times a terminal user may type a passphrase (or a pair that differs) before the command gives up, as ssh-keygen and gpg do. */
export const PASSPHRASE_TRIES = 3;

/**
 * The passphrase, from LORE_PASSPHRASE, LORE_PASSPHRASE_FILE, or the terminal (asked twice when
 * `confirm`). On a terminal an empty passphrase, or two that differ, is asked again, three tries
 * in all; Ctrl-C at the prompt rejects with an InterruptedError (exit 130). Without any source: a
 * usage error naming the variables. Never logged, never passed on.
 */
export async function readPassphrase(env: Env, opts: { confirm: boolean; purpose: string; prompt?: string }): Promise<string> {
  const direct = env.vars.LORE_PASSPHRASE;
  if (direct) return direct;
  const file = env.vars.LORE_PASSPHRASE_FILE;
  if (file) {
    try {
      const raw = fs.readFileSync(path.resolve(env.cwd, file));
      try {
        return raw.toString('utf8').replace(/\r?\n$/, '');
      } finally {
        raw.fill(0);
      }
    } catch (err) {
      throw new UsageError(`cannot read LORE_PASSPHRASE_FILE (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err, hint: 'Point LORE_PASSPHRASE_FILE at a readable file that holds the passphrase.' });
    }
  }
  if (!env.prompt || !env.stdinIsTTY) {
    throw new UsageError(`a passphrase is needed to ${opts.purpose}, and there is no terminal to ask for it`, {
      hint: 'Set LORE_PASSPHRASE or LORE_PASSPHRASE_FILE, or run the command in a terminal.',
    });
  }
  const label = opts.prompt ?? 'Passphrase';
  for (let attempt = 1; ; attempt++) {
    const first = await env.prompt(`${label}: `, true);
    let problem: string | null = null;
    if (!first) problem = 'The passphrase cannot be empty.';
    else if (opts.confirm && (await env.prompt(`${label} again: `, true)) !== first) problem = 'The two passphrases differ.';
    if (!problem) return first;
    if (attempt >= PASSPHRASE_TRIES) {
      throw new UsageError(`${problem.replace(/\.$/, '').replace(/^T/, 't')} (${PASSPHRASE_TRIES} tries); nothing was written`, {
        hint: `Run the command again${opts.confirm ? ' and type the same passphrase twice' : ''}.`,
      });
    }
    env.stderr.write(`${problem} Try again.\n`);
  }
}
