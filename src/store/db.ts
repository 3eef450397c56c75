import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { log } from '../log.js';
import { ensureLoreHome } from './home.js';
import type { EditOp, MessageKind, NormalizedMessage, Role, ToolName } from '../sources/types.js';

/**
 * The one module that owns SQL. `lore.db` in LORE_HOME: WAL, versioned migrations
 * (PRAGMA user_version), one transaction per session write so a killed process leaves either the
 * old or the new version of a session, never half of one.
 */

const MIGRATIONS: string[] = [
  // 1: sessions, their lossless bundles, messages, edits and the line index used by blame.
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    tool_version TEXT,
    cwd TEXT,
    repo_root TEXT,
    branch TEXT,
    started_at TEXT,
    updated_at TEXT,
    message_count INTEGER NOT NULL DEFAULT 0,
    subagent_count INTEGER NOT NULL DEFAULT 0,
    title TEXT,
    origin TEXT NOT NULL DEFAULT 'local',
    origin_machine TEXT,
    bundle_sha256 TEXT NOT NULL,
    bundle_size INTEGER NOT NULL,
    malformed_lines INTEGER NOT NULL DEFAULT 0,
    unknown_lines INTEGER NOT NULL DEFAULT 0,
    imported_at TEXT NOT NULL
  );
  CREATE INDEX sessions_repo ON sessions(repo_root, started_at);
  CREATE TABLE bundles (session_id TEXT PRIMARY KEY, tar BLOB NOT NULL);
  CREATE TABLE messages (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, turn INTEGER NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL,
    tool_name TEXT, text TEXT NOT NULL, ts TEXT, native_id TEXT, agent_id TEXT,
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE edits (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL, file TEXT NOT NULL, move_path TEXT,
    op TEXT NOT NULL, tool_name TEXT NOT NULL, ts TEXT, added_count INTEGER NOT NULL, added_json TEXT NOT NULL
  );
  CREATE INDEX edits_session ON edits(session_id);
  CREATE TABLE edit_lines (file TEXT NOT NULL, norm TEXT NOT NULL, edit_id INTEGER NOT NULL);
  CREATE INDEX edit_lines_lookup ON edit_lines(file, norm);
  CREATE INDEX edit_lines_edit ON edit_lines(edit_id);
  CREATE TABLE source_files (
    path TEXT PRIMARY KEY, tool TEXT NOT NULL, session_id TEXT, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL
  );
  CREATE INDEX source_files_session ON source_files(session_id);
  CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
];

export interface SessionRow {
  id: string;
  tool: ToolName;
  tool_version: string | null;
  cwd: string | null;
  repo_root: string | null;
  branch: string | null;
  started_at: string | null;
  updated_at: string | null;
  message_count: number;
  subagent_count: number;
  title: string | null;
  origin: 'local' | 'sync';
  origin_machine: string | null;
  bundle_sha256: string;
  bundle_size: number;
  malformed_lines: number;
  unknown_lines: number;
  imported_at: string;
}

export interface EditRecord {
  seq: number;
  /** Repository-relative (forward slashes), or absolute when outside any repository. */
  file: string;
  movePath?: string;
  op: EditOp;
  toolName: string;
  ts?: string;
  added: string[];
}

export interface EditRow {
  id: number;
  session_id: string;
  seq: number;
  file: string;
  move_path: string | null;
  op: EditOp;
  tool_name: string;
  ts: string | null;
  added_count: number;
  added_json: string;
}

export interface MessageRow {
  seq: number;
  turn: number;
  role: Role;
  kind: MessageKind;
  tool_name: string | null;
  text: string;
  ts: string | null;
  native_id: string | null;
  agent_id: string | null;
}

export interface SourceFileRow {
  path: string;
  tool: string;
  session_id: string | null;
  size: number;
  mtime_ms: number;
}

/** Whitespace-normalized text of a line, as used by the blame index. */
export function normalizeLine(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

/** A session write: the row, its bundle, messages and edits, and the source files it came from. */
export interface SessionWrite {
  row: SessionRow;
  bundle: Buffer;
  messages: NormalizedMessage[];
  edits: EditRecord[];
  files: SourceFileRow[];
}

/** Handle on lore.db. Close it when done. */
export class LoreDb {
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (and migrates) `$LORE_HOME/lore.db`. */
  static open(loreHome: string): LoreDb {
    ensureLoreHome(loreHome);
    const file = path.join(loreHome, 'lore.db');
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = OFF');
    } catch (err) {
      throw new StoreError(`cannot open the local store ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that LORE_HOME is writable and that no other process holds the database; retry.',
      });
    }
    const store = new LoreDb(db);
    store.migrate();
    return store;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(`lore.db has schema version ${version}, newer than this git-lore understands (${MIGRATIONS.length})`, {
        hint: 'Upgrade git-lore (./install.sh in a newer checkout).',
      });
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
      log.store('migrated lore.db to version %d', v + 1);
    }
  }

  close(): void {
    this.db.close();
  }

  /** All known source files, keyed by absolute path. */
  sourceFiles(): Map<string, SourceFileRow> {
    const rows = this.db.prepare('SELECT path, tool, session_id, size, mtime_ms FROM source_files').all() as SourceFileRow[];
    return new Map(rows.map((r) => [r.path, r]));
  }

  /** Records source files whose content was seen but that belong to no session (so they are not re-read). */
  putSourceFiles(files: SourceFileRow[]): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO source_files (path, tool, session_id, size, mtime_ms) VALUES (@path, @tool, @session_id, @size, @mtime_ms)');
    this.db.transaction(() => {
      for (const f of files) stmt.run(f);
    })();
  }

  /** Writes a whole session atomically, replacing any previous version of it. */
  writeSession(w: SessionWrite): void {
    const db = this.db;
    const stmts = this.stmts();
    db.transaction(() => {
      stmts.delMessages.run(w.row.id);
      stmts.delEditLines.run(w.row.id);
      stmts.delEdits.run(w.row.id);
      stmts.putSession.run(w.row);
      stmts.putBundle.run(w.row.id, w.bundle);
      for (const m of w.messages) {
        stmts.putMessage.run(w.row.id, m.seq, m.turn, m.role, m.kind, m.toolName ?? null, m.text, m.ts ?? null, m.nativeId, m.agentId ?? null);
      }
      for (const e of w.edits) {
        const info = stmts.putEdit.run(w.row.id, e.seq, e.file, e.movePath ?? null, e.op, e.toolName, e.ts ?? null, e.added.length, JSON.stringify(e.added));
        const editId = Number(info.lastInsertRowid);
        const target = e.movePath ?? e.file;
        const seen = new Set<string>();
        for (const line of e.added) {
          const norm = normalizeLine(line);
          if (!norm || seen.has(norm)) continue;
          seen.add(norm);
          stmts.putEditLine.run(target, norm, editId);
        }
      }
      for (const f of w.files) stmts.putFile.run(f);
    })();
  }

  private cached: ReturnType<LoreDb['prepareAll']> | undefined;
  private stmts() {
    this.cached ??= this.prepareAll();
    return this.cached;
  }
  private prepareAll() {
    const db = this.db;
    return {
      delMessages: db.prepare('DELETE FROM messages WHERE session_id = ?'),
      delEditLines: db.prepare('DELETE FROM edit_lines WHERE edit_id IN (SELECT id FROM edits WHERE session_id = ?)'),
      delEdits: db.prepare('DELETE FROM edits WHERE session_id = ?'),
      putSession: db.prepare(`INSERT OR REPLACE INTO sessions (id, tool, tool_version, cwd, repo_root, branch, started_at, updated_at,
        message_count, subagent_count, title, origin, origin_machine, bundle_sha256, bundle_size, malformed_lines, unknown_lines, imported_at)
        VALUES (@id, @tool, @tool_version, @cwd, @repo_root, @branch, @started_at, @updated_at, @message_count, @subagent_count, @title,
        @origin, @origin_machine, @bundle_sha256, @bundle_size, @malformed_lines, @unknown_lines, @imported_at)`),
      putBundle: db.prepare('INSERT OR REPLACE INTO bundles (session_id, tar) VALUES (?, ?)'),
      putMessage: db.prepare('INSERT INTO messages (session_id, seq, turn, role, kind, tool_name, text, ts, native_id, agent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      putEdit: db.prepare('INSERT INTO edits (session_id, seq, file, move_path, op, tool_name, ts, added_count, added_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      putEditLine: db.prepare('INSERT INTO edit_lines (file, norm, edit_id) VALUES (?, ?, ?)'),
      putFile: db.prepare('INSERT OR REPLACE INTO source_files (path, tool, session_id, size, mtime_ms) VALUES (@path, @tool, @session_id, @size, @mtime_ms)'),
    };
  }

  getSession(id: string): SessionRow | null {
    return (this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined) ?? null;
  }

  /** Sessions whose id starts with `prefix` (at most `limit`). */
  findByPrefix(prefix: string, limit = 10): SessionRow[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.db.prepare("SELECT * FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?").all(`${escaped}%`, limit) as SessionRow[];
  }

  /** Sessions of one repository (by its main root), or all sessions when `repoRoot` is undefined; oldest first. */
  listSessions(repoRoot?: string): SessionRow[] {
    if (repoRoot === undefined) return this.db.prepare('SELECT * FROM sessions ORDER BY started_at, id').all() as SessionRow[];
    return this.db.prepare('SELECT * FROM sessions WHERE repo_root = ? ORDER BY started_at, id').all(repoRoot) as SessionRow[];
  }

  getBundle(id: string): Buffer | null {
    const r = this.db.prepare('SELECT tar FROM bundles WHERE session_id = ?').get(id) as { tar: Buffer } | undefined;
    return r ? r.tar : null;
  }

  messages(id: string): MessageRow[] {
    return this.db.prepare('SELECT seq, turn, role, kind, tool_name, text, ts, native_id, agent_id FROM messages WHERE session_id = ? ORDER BY seq').all(id) as MessageRow[];
  }

  edits(id: string): EditRow[] {
    return this.db.prepare('SELECT * FROM edits WHERE session_id = ? ORDER BY seq, id').all(id) as EditRow[];
  }

  /** Edits that added a line with this normalized text to this repository-relative file. */
  editsAddingLine(file: string, norm: string): EditRow[] {
    return this.db
      .prepare('SELECT e.* FROM edit_lines l JOIN edits e ON e.id = l.edit_id WHERE l.file = ? AND l.norm = ?')
      .all(file, norm) as EditRow[];
  }

  getKv(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }

  setKv(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)').run(key, value);
  }
}
