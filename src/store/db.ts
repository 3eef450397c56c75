import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from './sqlite.js';
import { StoreError } from '../errors.js';
import { ensureLoreHome } from './home.js';
import { PieceFiles, decodePieces, encodePieces, type StoredFile } from './pieces.js';
import type { RepoKey } from '../model/repo.js';
import { SearchIndex } from './search-index.js';
import { migrate } from './schema.js';
import type { EditRecord, EditRow, SessionRow, SessionWrite, SourceFileRow } from './rows.js';

/**
 * The one module that owns SQL. `lore.db` in LORE_HOME: WAL, versioned migrations
 * (PRAGMA user_version), one transaction per session write so a killed process leaves either the
 * old or the new version of a session, never half of one.
 */

export type { RepoKey } from '../model/repo.js';
export type { EditRecord, EditRow, SessionRow, SessionWrite, SourceFileRow } from './rows.js';

/** A session is in a repository by identity, or (rows from before v4, not yet backfilled) by folder. */
const IN_REPO = 'repo_id = ? OR (repo_id IS NULL AND repo_root = ?)';

/** kv key of the session-write counter. */
const SESSIONS_REV = 'sessions_rev';

/** Whitespace-normalized text of a line, as used by the blame index. */
export function normalizeLine(line: string): string {
  const t = line.trim();
  // Most lines hold no run of spaces and no other whitespace: skip the replace (blame calls this per line).
  return t.includes('  ') || /[^\S ]/.test(t) ? t.replace(/\s+/g, ' ') : t;
}

/** Handle on lore.db. Close it when done. */
export class LoreDb {
  private readonly db: Database.Database;
  readonly pieces: PieceFiles;
  /** The full-text index of message texts. */
  readonly search: SearchIndex;

  /** Statements by SQL text, prepared once per handle: preparing costs more than most of these queries. */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, pieces: PieceFiles, private readonly loreHome: string) {
    this.db = db;
    this.pieces = pieces;
    this.search = new SearchIndex(db);
  }

  /** Opens (and migrates) `$LORE_HOME/lore.db`. */
  static open(loreHome: string, busyTimeoutMs = 10000): LoreDb {
    ensureLoreHome(loreHome);
    const file = path.join(loreHome, 'lore.db');
    let db: Database.Database;
    try {
      // The store holds session content in the clear: owner-only, like the keys (SQLite gives its
      // -wal and -shm files the database file's mode).
      fs.closeSync(fs.openSync(file, 'a', 0o600));
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      db = openSqlite(file);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('journal_size_limit = 67108864');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = OFF');
    } catch (err) {
      throw new StoreError(`cannot open the local store ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that LORE_HOME is writable and that no other process holds the database; retry.',
      });
    }
    const store = new LoreDb(db, new PieceFiles(path.join(loreHome, 'chunks')), loreHome);
    try {
      store.migrate();
    } catch (err) {
      // A failed migration rolled back; the handle must not stay open (it would keep the WAL and its pages).
      db.close();
      throw err;
    }
    return store;
  }

  private migrate(): void {
    migrate(this.db, this.pieces, this.loreHome);
  }

  close(): void {
    this.statements.clear();
    this.cached = undefined;
    this.db.close();
  }

  /** The prepared statement of `text` (see `statements`). None of them is iterated, so one can be reused at once. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /** One source file's stamp, by absolute path. */
  sourceFile(file: string): SourceFileRow | undefined {
    return this.sql('SELECT path, tool, session_id, size, mtime_ms FROM source_files WHERE path = ?').get(file) as SourceFileRow | undefined;
  }

  /** The native files recorded for these sessions. */
  sourceFilePaths(sessionIds: readonly string[]): string[] {
    const stmt = this.sql('SELECT path FROM source_files WHERE session_id = ?').pluck();
    return sessionIds.flatMap((id) => stmt.all(id) as string[]);
  }

  /** All known source files, keyed by absolute path. */
  sourceFiles(): Map<string, SourceFileRow> {
    const rows = this.sql('SELECT path, tool, session_id, size, mtime_ms FROM source_files').all() as SourceFileRow[];
    return new Map(rows.map((r) => [r.path, r]));
  }

  /** Records source files whose content was seen but that belong to no session (so they are not re-read). */
  putSourceFiles(files: SourceFileRow[]): void {
    const stmt = this.stmts().putSource;
    this.db.transaction(() => {
      for (const f of files) stmt.run(f);
    })();
  }

  /**
   * Writes a session atomically: its pieces are already stored; the rows (session, changed files,
   * edits, parser state, source stamps) go in one transaction that also moves the write counter.
   */
  writeSession(w: SessionWrite): void {
    const stmts = this.stmts();
    this.db.transaction(() => {
      if (w.editMode === 'replace') stmts.delEdits.run(w.row.id);
      else if (w.provisional) stmts.delProvisional.run(w.row.id);
      stmts.putSession.run(w.row);
      const put = (e: EditRecord, provisional: number) =>
        stmts.putEdit.run(w.row.id, e.seq, e.file, e.movePath ?? null, e.op, e.toolName, e.ts ?? null, e.added.length, JSON.stringify(e.added), provisional);
      for (const e of w.edits) put(e, 0);
      for (const e of w.provisional ?? []) put(e, 1);
      for (const f of w.files) stmts.putFile.run(w.row.id, f.path, f.size, f.sha256, encodePieces(f.pieces));
      if (w.parseState === null) stmts.delState.run(w.row.id);
      else stmts.putState.run(w.row.id, w.parseState);
      for (const f of w.sources) stmts.putSource.run(f);
      if (w.texts) this.search.write(w.row.id, w.texts);
      else if (w.texts === null) this.search.markStale();
      stmts.bumpRev.run();
      stmts.stampRev.run(w.row.id);
    })();
  }

  /** The stored files of a session, sorted by path (empty when the session is unknown). */
  sessionFiles(id: string): StoredFile[] {
    const rows = this.stmts().getFiles.all(id) as Array<{ path: string; size: number; sha256: string; pieces: Buffer }>;
    return rows.map((r) => ({ path: r.path, size: r.size, sha256: r.sha256, pieces: decodePieces(r.pieces) }));
  }

  /** The parser's saved state of a session (JSON text), if any. */
  parseState(id: string): string | null {
    return (this.stmts().getState.get(id) as { state: string } | undefined)?.state ?? null;
  }

  private cached: ReturnType<LoreDb['prepareAll']> | undefined;
  private stmts() {
    this.cached ??= this.prepareAll();
    return this.cached;
  }
  private prepareAll() {
    const q = (text: string) => this.sql(text);
    return {
      delEdits: q('DELETE FROM edits WHERE session_id = ?'),
      delProvisional: q('DELETE FROM edits WHERE session_id = ? AND provisional = 1'),
      getFiles: q('SELECT path, size, sha256, pieces FROM session_files WHERE session_id = ? ORDER BY path'),
      putFile: q('INSERT OR REPLACE INTO session_files (session_id, path, size, sha256, pieces) VALUES (?, ?, ?, ?, ?)'),
      getState: q('SELECT state FROM parse_state WHERE session_id = ?'),
      putState: q('INSERT OR REPLACE INTO parse_state (session_id, state) VALUES (?, ?)'),
      delState: q('DELETE FROM parse_state WHERE session_id = ?'),
      getSession: q('SELECT * FROM sessions WHERE id = ?'),
      putSession: q(`INSERT OR REPLACE INTO sessions (id, tool, tool_version, cwd, repo_root, repo_id, agent_root, branch, started_at, updated_at,
        message_count, subagent_count, title, origin, origin_machine, bundle_sha256, bundle_size, malformed_lines, unknown_lines, imported_at)
        VALUES (@id, @tool, @tool_version, @cwd, @repo_root, @repo_id, @agent_root, @branch, @started_at, @updated_at, @message_count, @subagent_count, @title,
        @origin, @origin_machine, @bundle_sha256, @bundle_size, @malformed_lines, @unknown_lines, @imported_at)`),
      putEdit: q('INSERT INTO edits (session_id, seq, file, move_path, op, tool_name, ts, added_count, added_json, provisional) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      putSource: q('INSERT OR REPLACE INTO source_files (path, tool, session_id, size, mtime_ms) VALUES (@path, @tool, @session_id, @size, @mtime_ms)'),
      stampRev: q(`UPDATE sessions SET rev = (SELECT CAST(value AS INTEGER) FROM kv WHERE key = '${SESSIONS_REV}') WHERE id = ?`),
      bumpRev: q(`INSERT INTO kv (key, value) VALUES ('${SESSIONS_REV}', '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`),
    };
  }

  getSession(id: string): SessionRow | null {
    return (this.stmts().getSession.get(id) as SessionRow | undefined) ?? null;
  }

  /** Sessions whose id starts with `prefix` (at most `limit`). */
  findByPrefix(prefix: string, limit = 10): SessionRow[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.sql("SELECT * FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?").all(`${escaped}%`, limit) as SessionRow[];
  }

  /** Sessions of one repository, or all sessions when `repo` is undefined; oldest first. */
  listSessions(repo?: RepoKey): SessionRow[] {
    if (repo === undefined) return this.sql('SELECT * FROM sessions ORDER BY started_at, id').all() as SessionRow[];
    return this.sql(`SELECT * FROM sessions WHERE ${IN_REPO} ORDER BY started_at, id`).all(repo.id, repo.root) as SessionRow[];
  }

  /**
   * Id and content hash of the sessions of one repository (all with undefined): the narrow read
   * a sync needs; full rows for 10,000 sessions cost 175 ms. With `sinceRev`, only those written
   * after that value of the session-write counter.
   */
  sessionDigests(repo?: RepoKey, sinceRev?: string): Array<{ id: string; bundle_sha256: string }> {
    const since = sinceRev === undefined ? '' : ` ${repo === undefined ? 'WHERE' : 'AND'} rev > ${Number(sinceRev) || 0}`;
    if (repo === undefined) return this.sql(`SELECT id, bundle_sha256 FROM sessions${since}`).all() as Array<{ id: string; bundle_sha256: string }>;
    return this.sql(`SELECT id, bundle_sha256 FROM sessions WHERE (${IN_REPO})${since}`).all(repo.id, repo.root) as Array<{ id: string; bundle_sha256: string }>;
  }

  /**
   * Gives rows placed before v4 (by folder only), or while the repository had no commit (named by
   * its path), the identity of the repository now in that folder.
   */
  backfillRepoId(repo: RepoKey): void {
    if (repo.id.startsWith('path:')) return;
    // `+repo_root` keeps SQLite off the repo_root index (every session of this folder, 10,000 rows
    // walked on each sync: 4.4 ms) and on sessions_repo_id, which finds the few rows to fix (0.04 ms).
    this.sql("UPDATE sessions SET repo_id = ? WHERE (repo_id IS NULL OR repo_id = 'path:' || ?) AND +repo_root = ?").run(repo.id, repo.root, repo.root);
  }

  /** Attaches a session to a repository (restore --to): its identity and where it is here. */
  attachSession(id: string, repo: RepoKey): void {
    this.sql('UPDATE sessions SET repo_id = ?, repo_root = ? WHERE id = ?').run(repo.id, repo.root, id);
  }

  /** The edits of one repository's sessions that wrote to this repository-relative file, with their session's fields blame shows. */
  editsOfFileIn(file: string, repo: RepoKey): Array<{ id: number; seq: number; ts: string | null; added_json: string; session_id: string; tool: string; title: string | null; branch: string | null; started_at: string | null }> {
    return this.db
      .prepare(
        `SELECT e.id, e.seq, e.ts, e.added_json, s.id AS session_id, s.tool, s.title, s.branch, s.started_at
         FROM edits e JOIN sessions s ON s.id = e.session_id
         WHERE coalesce(e.move_path, e.file) = ? AND (s.repo_id = ? OR (s.repo_id IS NULL AND s.repo_root = ?))`,
      )
      .all(file, repo.id, repo.root) as never;
  }

  /** The number of edits of every session that has any. */
  editCounts(): Map<string, number> {
    const rows = this.sql('SELECT session_id, count(*) AS n FROM edits GROUP BY session_id').all() as Array<{ session_id: string; n: number }>;
    return new Map(rows.map((r) => [r.session_id, r.n]));
  }

  /** The tool of every session, by id. */
  sessionTools(): Map<string, string> {
    const rows = this.sql('SELECT id, tool FROM sessions').all() as Array<{ id: string; tool: string }>;
    return new Map(rows.map((r) => [r.id, r.tool]));
  }

  /** The cached digest of one metadata blob, if it was ever read. */
  metaDigest(sessionId: string, oid: string): string | null {
    const r = this.sql('SELECT digest FROM meta_cache WHERE session_id = ? AND oid = ?').get(sessionId, oid) as { digest: string } | undefined;
    return r?.digest ?? null;
  }

  edits(id: string): EditRow[] {
    return this.sql('SELECT * FROM edits WHERE session_id = ? ORDER BY seq, id').all(id) as EditRow[];
  }

  /** Every edit that wrote to this repository-relative file (moves count for their target), oldest first. */
  editsOfFile(file: string): EditRow[] {
    return this.sql('SELECT * FROM edits WHERE coalesce(move_path, file) = ? ORDER BY ts, id').all(file) as EditRow[];
  }

  /** Digests of metadata blobs seen before, keyed by blob id (one query for the whole cache). */
  metaDigests(): Map<string, string> {
    const rows = this.sql('SELECT oid, digest FROM meta_cache').all() as Array<{ oid: string; digest: string }>;
    return new Map(rows.map((r) => [r.oid, r.digest]));
  }

  putMetaDigests(entries: Array<{ oid: string; sessionId: string; digest: string }>): void {
    const stmt = this.sql('INSERT OR REPLACE INTO meta_cache (oid, session_id, digest) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const e of entries) stmt.run(e.oid, e.sessionId, e.digest);
    })();
  }

  /** A counter that every session write moves on (in the same transaction): equal values, no session changed in between. */
  sessionsRev(): string {
    return this.getKv(SESSIONS_REV) ?? '0';
  }

  deleteKv(key: string): void {
    this.sql('DELETE FROM kv WHERE key = ?').run(key);
  }

  getKv(key: string): string | null {
    const r = this.sql('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }

  setKv(key: string, value: string): void {
    this.sql('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)').run(key, value);
  }
}
