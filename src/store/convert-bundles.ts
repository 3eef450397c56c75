import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import { log } from '../log.js';
import { readTarSync } from './bundle.js';
import { Cutter } from './cutter.js';
import { contentHash, encodePieces, type PieceFiles, type StoredFile } from './pieces.js';

/**
 * Schema v3's conversion of format-1 bundles (`$LORE_HOME/bundles/<xx>/<sha256>.tar`, one whole
 * tar per session version) into pieces. The pieces are stored first (content-addressed, so a crash
 * leaves only unreferenced files); `apply` writes the rows inside the migration's transaction;
 * `cleanUp` removes the bundles after it committed. A missing or corrupt bundle keeps its session
 * row without files (reported; `git lore import` or a sync brings the content back).
 */
export function convertBundles(db: Database.Database, pieces: PieceFiles, loreHome: string): { apply(): void; cleanUp(): void } {
  const dir = path.join(loreHome, 'bundles');
  const rows = db.prepare('SELECT id, bundle_sha256 FROM sessions').all() as Array<{ id: string; bundle_sha256: string }>;
  const cutter = new Cutter(loreHome, pieces);
  const done: Array<{ id: string; files: StoredFile[] }> = [];
  for (const r of rows) {
    let tar: Buffer;
    try {
      tar = fs.readFileSync(path.join(dir, r.bundle_sha256.slice(0, 2), `${r.bundle_sha256}.tar`));
      if (crypto.createHash('sha256').update(tar).digest('hex') !== r.bundle_sha256) throw new Error('digest mismatch');
    } catch (err) {
      log.store('session %s: its bundle cannot be converted (%s); kept without files', r.id, (err as Error).message);
      continue;
    }
    const files = readTarSync(tar).map((f) => ({
      path: f.path, size: f.data.length, sha256: crypto.createHash('sha256').update(f.data).digest('hex'), pieces: cutter.cut(f.data),
    }));
    done.push({ id: r.id, files });
  }
  if (rows.length) log.store('converted %d of %d session bundles into pieces', done.length, rows.length);
  return {
    apply() {
      const put = db.prepare('INSERT OR REPLACE INTO session_files (session_id, path, size, sha256, pieces) VALUES (?, ?, ?, ?, ?)');
      const row = db.prepare('UPDATE sessions SET bundle_sha256 = ?, bundle_size = ? WHERE id = ?');
      for (const s of done) {
        for (const f of s.files) put.run(s.id, f.path, f.size, f.sha256, encodePieces(f.pieces));
        row.run(contentHash(s.files), s.files.reduce((n, f) => n + f.size, 0), s.id);
      }
    },
    cleanUp() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
