import crypto from 'node:crypto';
import { UsageError } from '../../errors.js';
import { MIN_PASSPHRASE } from '../../format/descriptor.js';

/**
 * Passphrase strength, with the maintained zxcvbn-ts estimator (its common and English
 * dictionaries). Loaded on first use: only creating a store or a passphrase slot needs it
 * (docs/architecture.md gives its start-up cost).
 */

/** The lowest zxcvbn score (0-4) accepted: 3, "safely unguessable: moderate protection from offline attacks". */
export const MIN_SCORE = 3;

async function estimator() {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
  return { z: new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations }), words: common.dictionary['diceware-common'] as string[] };
}

/** A generated passphrase: six words drawn uniformly from the 7,776-word diceware list (about 77 bits). */
export async function generatePassphrase(): Promise<string> {
  const { words } = await estimator();
  return Array.from({ length: 6 }, () => words[crypto.randomInt(words.length)]).join(' ');
}

/** Refuses a passphrase zxcvbn scores below MIN_SCORE, with its advice and a generated one to use instead. */
export async function assertStrongPassphrase(secret: string | Uint8Array): Promise<void> {
  // zxcvbn reads strings only: a passphrase being chosen (store creation, a new slot, a change)
  // exists as a JS string for this check, which cannot be wiped; joins never come here.
  const passphrase = typeof secret === 'string' ? secret : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('utf8');
  if ([...passphrase].length < MIN_PASSPHRASE) {
    throw new UsageError(`the passphrase must have at least ${MIN_PASSPHRASE} characters`, { hint: `Choose a longer passphrase, e.g. "${await generatePassphrase()}". Nothing was written.` });
  }
  const { z, words } = await estimator();
  const r = await z.check(passphrase.slice(0, 256));
  if (r.score >= MIN_SCORE) return;
  const advice = [r.feedback.warning, ...r.feedback.suggestions].filter(Boolean).join(' ');
  const example = Array.from({ length: 6 }, () => words[crypto.randomInt(words.length)]).join(' ');
  throw new UsageError(`the passphrase is too weak (strength ${r.score} of 4; at least ${MIN_SCORE} needed)${advice ? `: ${advice}` : ''}`, {
    hint: `Choose a longer one, e.g. this generated one: "${example}" (or run \`git lore passphrase generate\`). Nothing was written.`,
  });
}
