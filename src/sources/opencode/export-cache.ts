import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { log } from '../../log.js';
import type { Reporter } from '../discover.js';
import { exportSession, openForReading, sessionGroups } from './database.js';

/**
 * Capture reads native files; OpenCode keeps sessions as rows. Each session of a database is
 * therefore kept as a file of its rows (database.ts `exportSession`) in a private folder of
 * LORE_HOME, `cache/opencode/<sha256 of the database path, 16 hex>/<session id>.jsonl` (0600 in
 * 0700 folders), rewritten only when the session's rows changed, so capture's stamps (size, mtime)
 * see only changed sessions. The database is not opened at all while its size and mtime, and
 * those of its `-wal`, are those of the last export (`state.json`).
 */

interface State {
  v: 1;
  /** Size and mtime of the database and its WAL at the last complete export. */
  stamp: string;
  /** Per OpenCode session id: its rows' stamp (database.ts sessionGroups). */
  sessions: Record<string, string>;
}

/** A session's file of rows. */
export interface ExportedSession {
  nativeId: string;
  file: string;
  size: number;
  mtimeMs: number;
}

const STATE_MAX = 64 * 1024 * 1024;
const NATIVE_ID = /^ses_[0-9A-Za-z]{1,60}$/;

/** Size and mtime of a database and its `-wal`; null when the database is missing. */
export function databaseStamp(file: string): string | null {
  const stat = (f: string) => {
    try {
      const st = fs.statSync(f);
      return st.isFile() ? `${st.size}:${Math.floor(st.mtimeMs)}` : null;
    } catch {
      return null;
    }
  };
  const db = stat(file);
  return db ? `${db} ${stat(`${file}-wal`) ?? '-'}` : null;
}

/** The cache folder of one database under LORE_HOME. */
export function cacheFolder(loreHome: string, dbFile: string): string {
  return path.join(loreHome, 'cache', 'opencode', createHash('sha256').update(path.resolve(dbFile)).digest('hex').slice(0, 16));
}

function readState(dir: string): State | null {
  try {
    const f = path.join(dir, 'state.json');
    if (fs.statSync(f).size > STATE_MAX) return null;
    const s = JSON.parse(fs.readFileSync(f, 'utf8')) as State;
    return s && s.v === 1 && typeof s.stamp === 'string' && s.sessions && typeof s.sessions === 'object' ? s : null;
  } catch {
    return null;
  }
}

/** Writes a file privately and atomically (temporary name, then rename). */
function writePrivate(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The sessions of database `dbFile`, each as its file of rows, exported again where the rows
 * changed. A database that cannot be read (locked, corrupt, not OpenCode's) is reported to
 * `report` and the files of its last good export are answered (nothing is lost, capture retries).
 */
export function exportedSessions(dbFile: string, dir: string, report: Reporter): ExportedSession[] {
  const stamp = databaseStamp(dbFile);
  const state = readState(dir);
  if (!stamp) return [];
  let sessions = state?.sessions ?? {};
  if (state?.stamp !== stamp) {
    try {
      sessions = exportAll(dbFile, dir, state);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      report.unreadable(dbFile, `${e.code ?? 'error'}: ${e.message ?? String(err)}`);
    }
  }
  const out: ExportedSession[] = [];
  for (const nativeId of Object.keys(sessions)) {
    if (!NATIVE_ID.test(nativeId)) continue;
    const file = path.join(dir, `${nativeId}.jsonl`);
    try {
      const st = fs.statSync(file);
      out.push({ nativeId, file, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
    } catch {
      // Exported by a capture that did not finish: the next export writes it.
    }
  }
  return out;
}

function exportAll(dbFile: string, dir: string, state: State | null): Record<string, string> {
  const db = openForReading(dbFile);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The stamp is taken once open (opening the first time creates the `-wal`) and before reading:
    // a write during the export moves it, so the next capture looks again.
    const stamp = databaseStamp(dbFile) ?? '';
    const groups = sessionGroups(db);
    const sessions: Record<string, string> = {};
    let written = 0;
    for (const g of groups) {
      if (!NATIVE_ID.test(g.id)) continue;
      sessions[g.id] = g.stamp;
      const file = path.join(dir, `${g.id}.jsonl`);
      if (state?.sessions[g.id] === g.stamp && fs.existsSync(file)) continue;
      const data = exportSession(db, g);
      let same = false;
      try {
        same = fs.readFileSync(file).equals(data);
      } catch {
        same = false;
      }
      if (!same) {
        writePrivate(file, data);
        written += 1;
      }
    }
    // Sessions OpenCode deleted: their file goes (the store keeps its copy of them).
    for (const id of Object.keys(state?.sessions ?? {})) if (!(id in sessions)) fs.rmSync(path.join(dir, `${id}.jsonl`), { force: true });
    writePrivate(path.join(dir, 'state.json'), JSON.stringify({ v: 1, stamp, sessions } satisfies State));
    log.import('opencode: %s: %d sessions, %d exported again', dbFile, groups.length, written);
    return sessions;
  } finally {
    db.close();
  }
}
