import { rng } from './rng.js';

const WORDS = (
  'the a of to and in is it that for on with as this be are file function return const let value error test ' +
  'session agent commit branch merge chunk index store key read write line byte hash table push end stream ' +
  'json node type string number array object null true false import export async await promise module path'
).split(' ');

/**
 * One JSONL line (with its '\n') of roughly `size` bytes: a transcript-like record whose text is
 * random words. Deterministic for a given random source.
 */
export function jsonlLine(rand: () => number, size: number, n: number): string {
  const words: string[] = [];
  let len = 0;
  while (len < size - 160) {
    const w = rand() < 0.1 ? Math.floor(rand() * 1e9).toString(36) : WORDS[Math.floor(rand() * WORDS.length)]!;
    words.push(w);
    len += w.length + 1;
  }
  const uuid = Array.from({ length: 4 }, () => Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0')).join('-');
  const record = {
    type: rand() < 0.5 ? 'user' : 'assistant',
    uuid,
    timestamp: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    message: { role: 'assistant', content: words.join(' ') },
  };
  return `${JSON.stringify(record)}\n`;
}

/**
 * About `bytes` bytes of JSONL text (whole lines), lines of 200 B to 20 KB (log-uniform), from a
 * seeded PRNG: the same seed gives the same text.
 */
export function jsonlText(seed: number, bytes: number): Buffer {
  const rand = rng(seed);
  const lines: string[] = [];
  let len = 0;
  for (let n = 0; len < bytes; n++) {
    const line = jsonlLine(rand, Math.round(200 * 100 ** rand()), n);
    lines.push(line);
    len += line.length;
  }
  return Buffer.from(lines.join(''));
}
