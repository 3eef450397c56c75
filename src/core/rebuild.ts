import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import type { LoreContext } from './context.js';
import { importSessions, type ImportSummary } from './import.js';

export interface RebuildResult {
  /** Where the old database went (`lore.db.broken-<time>`), or null when there was none. */
  movedTo: string | null;
  summary: ImportSummary;
}

/**
 * `git lore import --rebuild`: moves `lore.db` (with its -wal and -shm files) aside, unread, and
 * builds a new one from the agents' files. Keys, pieces and the machine id stay. Sessions that
 * only came through sync are not in the agents' folders: the next sync brings them back from the
 * lore ref. Works on a database SQLite cannot open at all.
 */
export async function rebuildStore(ctx: LoreContext): Promise<RebuildResult> {
  ctx.close();
  const db = path.join(ctx.paths.loreHome, 'lore.db');
  let movedTo: string | null = null;
  if (fs.existsSync(db)) {
    movedTo = `${db}.broken-${ctx.env.now().toISOString().replace(/[:.]/g, '-')}`;
    try {
      for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(db + suffix)) fs.renameSync(db + suffix, movedTo + suffix);
    } catch (err) {
      throw new StoreError(`cannot move ${db} aside: ${(err as Error).message}`, { cause: err, hint: `Check that ${ctx.paths.loreHome} is writable, then run \`git lore import --rebuild\` again.` });
    }
  }
  // The capture listing left beside it is checked against a digest kept in the database: the new
  // database has none, so this capture reads every file.
  const summary = await importSessions(ctx);
  return { movedTo, summary };
}
