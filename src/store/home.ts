import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { StoreError } from '../errors.js';

/**
 * LORE_HOME: created 0700; holds lore.db, machine-id, config, keys/ (0600 files).
 * Returns the folder after making sure its permissions are private.
 */
export function ensureLoreHome(loreHome: string): string {
  try {
    fs.mkdirSync(loreHome, { recursive: true, mode: 0o700 });
    const st = fs.statSync(loreHome);
    if ((st.mode & 0o077) !== 0) fs.chmodSync(loreHome, 0o700);
  } catch (err) {
    throw new StoreError(`cannot create LORE_HOME at ${loreHome}`, { cause: err, hint: 'Set LORE_HOME to a writable folder.' });
  }
  return loreHome;
}

/**
 * The random identifier of this machine (never derived from the hostname). Created on first use.
 */
export function machineId(loreHome: string): string {
  const file = path.join(ensureLoreHome(loreHome), 'machine-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  } catch {
    /* created below */
  }
  const id = crypto.randomBytes(16).toString('hex');
  writePrivateFile(file, `${id}\n`);
  return id;
}

/** Writes a file atomically with mode 0600 (temporary file, fsync, rename). */
export function writePrivateFile(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
