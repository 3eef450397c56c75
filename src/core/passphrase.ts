import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Env } from '../env.js';

/** How many times a terminal user may type a passphrase (or a pair that differs) before the command gives up, as ssh-keygen and gpg do. */
export const PASSPHRASE_TRIES = 3;

/**
 * The passphrase as bytes, from LORE_PASSPHRASE, LORE_PASSPHRASE_FILE, or the terminal (asked
 * twice when `confirm`). The caller owns the Buffer and zeroes it (`fill(0)`) once it derived
 * what it needs: typed at the terminal, the passphrase is read byte by byte in raw mode
 * (Env.promptSecret) and never becomes a JS string; a file's bytes are copied and zeroed.
 * LORE_PASSPHRASE is a string in the process environment, which no program can wipe: prefer the
 * file or the terminal (docs/SECURITY.md). On a terminal an empty passphrase, or two that differ,
 * is asked again, three tries in all; Ctrl-C at the prompt rejects with an InterruptedError (exit
 * 130). Without any source: a usage error naming the variables. Never logged, never passed on.
 */
export async function readPassphrase(env: Env, opts: { confirm: boolean; purpose: string; prompt?: string }): Promise<Buffer> {
  const direct = env.vars.LORE_PASSPHRASE;
  if (direct) return Buffer.from(direct, 'utf8');
  const file = env.vars.LORE_PASSPHRASE_FILE;
  if (file) {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(path.resolve(env.cwd, file));
    } catch (err) {
      throw new UsageError(`cannot read LORE_PASSPHRASE_FILE (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err, hint: 'Point LORE_PASSPHRASE_FILE at a readable file that holds the passphrase.' });
    }
    try {
      let end = raw.length;
      if (end && raw[end - 1] === 0x0a) end -= raw[end - 2] === 0x0d ? 2 : 1;
      return Buffer.from(raw.subarray(0, end));
    } finally {
      raw.fill(0);
    }
  }
  const ask = secretPrompt(env);
  if (!ask || !env.stdinIsTTY) {
    throw new UsageError(`a passphrase is needed to ${opts.purpose}, and there is no terminal to ask for it`, {
      hint: 'Set LORE_PASSPHRASE or LORE_PASSPHRASE_FILE, or run the command in a terminal.',
    });
  }
  const label = opts.prompt ?? 'Passphrase';
  for (let attempt = 1; ; attempt++) {
    const first = await ask(`${label}: `);
    let problem: string | null = null;
    if (!first.length) problem = 'The passphrase cannot be empty.';
    else if (opts.confirm) {
      const second = await ask(`${label} again: `);
      if (!second.equals(first)) problem = 'The two passphrases differ.';
      second.fill(0);
    }
    if (!problem) return first;
    first.fill(0);
    if (attempt >= PASSPHRASE_TRIES) {
      throw new UsageError(`${problem.replace(/\.$/, '').replace(/^T/, 't')} (${PASSPHRASE_TRIES} tries); nothing was written`, {
        hint: `Run the command again${opts.confirm ? ' and type the same passphrase twice' : ''}.`,
      });
    }
    env.stderr.write(`${problem} Try again.\n`);
  }
}

/**
 * How to ask for a secret: the terminal's byte reader, or (an Env built by a library caller with
 * only `prompt`) its hidden prompt, whose string is then out of our hands.
 */
export function secretPrompt(env: Env): ((question: string) => Promise<Buffer>) | null {
  if (env.promptSecret) return env.promptSecret;
  const prompt = env.prompt;
  if (prompt) return async (q) => Buffer.from(await prompt(q, true), 'utf8');
  return null;
}
