import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.js';

/**
 * Opens an SQLite database with better-sqlite3. Its JavaScript is bundled with the CLI (in the
 * code cache); its native addon is loaded from the package's own build folder, named here: by
 * default better-sqlite3 asks the `bindings` package, which finds the addon by trying a dozen
 * paths and reading a stack trace (~5 ms of every command that opens a database), and which
 * cannot find it from inside a bundle at all.
 */
export function openSqlite(file: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  return new BetterSqlite3(file, { ...options, nativeBinding: nativeAddon(pkg) });
}

/** The compiled addon of the better-sqlite3 package in `pkg` (build/Release, or build/Debug for a debug build of it). Node loads it once. */
export function nativeAddon(pkg: string): string {
  const found = ['Release', 'Debug'].map((b) => path.join(pkg, 'build', b, 'better_sqlite3.node')).find((f) => fs.existsSync(f));
  if (!found) {
    throw new StoreError(`better-sqlite3's native addon is missing (no build/Release/better_sqlite3.node in ${pkg})`, { hint: 'Run ./install.sh again in the git-lore checkout (it builds the addon for this node).' });
  }
  return found;
}
