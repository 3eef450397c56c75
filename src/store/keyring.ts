import fs from 'node:fs';
import path from 'node:path';
import { ensureLoreHome, writePrivateFile } from './home.js';
import { StoreError } from '../errors.js';

/**
 * Cached data keys: `$LORE_HOME/keys/<store-id>` (0600 in a 0700 folder), so syncs after setup
 * never prompt. The file holds the key in base64 and nothing else.
 */
export class Keyring {
  private readonly dir: string;
  constructor(loreHome: string) {
    this.dir = path.join(ensureLoreHome(loreHome), 'keys');
  }

  private file(storeId: string): string {
    if (!/^[0-9a-f]{32}$/.test(storeId)) throw new StoreError(`invalid store id ${storeId}`);
    return path.join(this.dir, storeId);
  }

  /** The cached key, or null when none (or when the file is not a key: reported as null + reason). */
  get(storeId: string): { key: Buffer | null; problem?: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file(storeId), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { key: null };
      return { key: null, problem: `cannot read the cached key (${(err as NodeJS.ErrnoException).code})` };
    }
    const key = Buffer.from(text, 'base64');
    if (key.length !== 32) return { key: null, problem: 'the cached key file is corrupt' };
    return { key };
  }

  put(storeId: string, key: Buffer): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dir, 0o700);
    writePrivateFile(this.file(storeId), `${key.toString('base64')}\n`);
  }
}
