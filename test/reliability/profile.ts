/**
 * Reliability test sizes: `npm test` runs the quick profile; `npm run soak` sets
 * LORE_SOAK_PROFILE=long (docs/RELIABILITY.md).
 */
export const LONG = process.env.LORE_SOAK_PROFILE === 'long';
export const PROFILE = LONG
  ? { clones: 6, rounds: 8, kills: 100, fuzzCases: 5000, seed: Number(process.env.LORE_SOAK_SEED) || 20261121 }
  : { clones: 3, rounds: 3, kills: 8, fuzzCases: 400, seed: Number(process.env.LORE_SOAK_SEED) || 20261121 };

/** One summary line per test, in the form docs/RELIABILITY.md quotes: `name: k=v, …`. */
export function summary(name: string, fields: Record<string, number | string>): void {
  process.stdout.write(`${name}: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join(', ')}\n`);
}


export { rng } from '../helpers/rng.js';
