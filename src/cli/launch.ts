import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startEarlyListing } from '../core/early-listing.js';
import type { EarlyFind } from '../env.js';

/**
 * Loads one of the bundled executables (dist/bundle/<name>.cjs) and runs its `main`. The bundle
 * is compiled with V8's code cache (<name>.cache beside it, written by `npm run build` after a
 * workload of real commands), which saves ~15 ms of every command and ~50 ms of a sync on this
 * machine; a cache that does not fit this node (another version, other flags) is rejected by V8
 * and the bundle compiles from source as usual.
 * Only node's own modules here, and the early capture listing (modules without dependencies):
 * this file is loaded before anything else.
 */
export function launch(name: 'main' | 'remote-helper', argv: string[]): void {
  // A command that captures first: its find walks the agents' folders while the bundle loads.
  let early: EarlyFind | undefined;
  try {
    early = name === 'main' ? startEarlyListing(argv, process.env, process.cwd()) : undefined;
  } catch {
    early = undefined; // (a vanished working folder): the capture runs its own find
  }
  // Built into dist/bundle/launch.cjs beside the bundles (what bin/* load); as dist/src/cli/launch.js, two levels below.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = path.basename(here) === 'bundle' ? here : path.resolve(here, '../../bundle');
  const file = path.join(dir, `${name}.cjs`);
  const cacheFile = path.join(dir, `${name}.cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const mod = { exports: {} as { main?: (argv: string[], early?: EarlyFind) => unknown } };
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(file), mod, file, dir);
  // The build runs the executables on a workload with this variable naming the cache file to
  // write (scripts/code-cache.mjs): each run starts from the cache the run before wrote and writes
  // it again with what it compiled too. Written whole, then renamed: V8 must never read half a cache.
  if (process.env.LORE_WRITE_CODE_CACHE === cacheFile) {
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    });
  }
  void mod.exports.main!(argv, early);
}
