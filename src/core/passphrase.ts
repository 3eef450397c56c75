import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Env } from '../env.js';

/**
 * The passphrase, from LORE_PASSPHRASE, LORE_PASSPHRASE_FILE, or the terminal (asked twice when
 * `confirm`). Without any of them: a usage error naming the variables. Never logged, never passed on.
 */
export async function readPassphrase(env: Env, opts: { confirm: boolean; purpose: string }): Promise<string> {
  const direct = env.vars.LORE_PASSPHRASE;
  if (direct) return direct;
  const file = env.vars.LORE_PASSPHRASE_FILE;
  if (file) {
    try {
      return fs.readFileSync(path.resolve(env.cwd, file), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(`cannot read LORE_PASSPHRASE_FILE (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err, hint: 'Point LORE_PASSPHRASE_FILE at a readable file that holds the passphrase.' });
    }
  }
  if (!env.prompt || !env.stdinIsTTY) {
    throw new UsageError(`a passphrase is needed to ${opts.purpose}, and there is no terminal to ask for it`, {
      hint: 'Set LORE_PASSPHRASE or LORE_PASSPHRASE_FILE, or run the command in a terminal.',
    });
  }
  const first = await env.prompt('Passphrase: ', true);
  if (opts.confirm) {
    const again = await env.prompt('Passphrase again: ', true);
    if (again !== first) throw new UsageError('the two passphrases differ', { hint: 'Run the command again and type the same passphrase twice.' });
  }
  return first;
}
