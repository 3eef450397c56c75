import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { StoreError } from '../errors.js';

/**
 * Session bundles as content-addressed files `$LORE_HOME/bundles/<sha256[0:2]>/<sha256>.tar`
 * (0600, folders 0700). Kept out of SQLite: writing them through its WAL made capture 20% slower
 * at 330 MB (bench/RESULTS.md). Crash safety comes from the order of writes: the bundle file
 * (temporary name, then rename), then the database row that names it; a crash in between leaves
 * an unreferenced file, never a row without its bundle.
 */
export class BundleFiles {
  private readonly madeDirs = new Set<string>();
  constructor(private readonly dir: string) {}

  private file(sha: string): string {
    return path.join(this.dir, sha.slice(0, 2), `${sha}.tar`);
  }

  /** Stores a bundle under its digest (no-op when present). */
  put(sha: string, data: Buffer): void {
    const file = this.file(sha);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.madeDirs.add(dir);
    }
    if (fs.existsSync(file)) return;
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Reads a bundle and checks its digest. Returns null when absent; throws when corrupt. */
  get(sha: string): Buffer | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.file(sha));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (crypto.createHash('sha256').update(data).digest('hex') !== sha) {
      throw new StoreError(`the stored copy ${this.file(sha)} is corrupt`, {
        hint: 'Run `git lore import` to capture it again from the agent files, or `git lore sync` to fetch it again.',
      });
    }
    return data;
  }

  remove(sha: string): void {
    fs.rmSync(this.file(sha), { force: true });
  }
}
