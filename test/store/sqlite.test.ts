import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { nativeAddon } from '../../src/store/sqlite.js';
import { StoreError } from '../../src/errors.js';
import { tmpdir } from '../helpers/machine.js';

// better-sqlite3's addon is named, not searched for (src/store/sqlite.ts): a package without a
// built addon must say what to do, and a debug build must be found. With the existence check
// removed, the first assertion fails (the path of a missing file comes back).
test('the SQLite addon is found in the package\'s build folder, or its absence is reported clearly', () => {
  const pkg = tmpdir('lore-sqlite-pkg-');
  assert.throws(() => nativeAddon(pkg), (err: unknown) => err instanceof StoreError && /native addon is missing/.test(err.message) && /install\.sh/.test(err.hint ?? ''));
  fs.mkdirSync(path.join(pkg, 'build', 'Debug'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'build', 'Debug', 'better_sqlite3.node'), '');
  assert.equal(nativeAddon(pkg), path.join(pkg, 'build', 'Debug', 'better_sqlite3.node'));
  fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'build', 'Release', 'better_sqlite3.node'), '');
  assert.equal(nativeAddon(pkg), path.join(pkg, 'build', 'Release', 'better_sqlite3.node'), 'the release build first');
});
