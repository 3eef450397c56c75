import { benchImport } from './import.bench.js';
import { benchSync } from './sync.bench.js';
import { benchHooks } from './hooks.bench.js';
import { benchBlame } from './blame.bench.js';
import { benchRemote } from './remote.bench.js';
import { benchGrowth } from './growth.bench.js';
import { benchChunker } from './chunker.bench.js';
import { benchSearch } from './search.bench.js';
import { benchKeys } from './keys.bench.js';
import { benchLog } from './log.bench.js';

/**
 * `npm run bench [-- <name>...]`: runs the named benchmarks (all by default) and prints Markdown
 * for bench/RESULTS.md. Each compares against a baseline measured in the same run.
 */
const all: Record<string, () => Promise<string>> = {
  import: benchImport,
  sync: benchSync,
  hooks: benchHooks,
  blame: benchBlame,
  remote: benchRemote,
  growth: benchGrowth,
  chunker: benchChunker,
  search: benchSearch,
  keys: benchKeys,
  log: benchLog,
};
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(all);
for (const name of names) {
  const fn = all[name];
  if (!fn) {
    process.stderr.write(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${name}...\n`);
  process.stdout.write(`${await fn()}\n`);
}
