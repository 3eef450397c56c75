import type { RepoKey } from '../model/repo.js';
import type Database from 'better-sqlite3';
import type { MessageKind, Role, ToolName } from '../model/session.js';

/**
 * The full-text index of the sessions' messages (SQLite FTS5). Capture only records, in the
 * session's write transaction, which lines are new (`message_pending`: per native file, the byte
 * offset from which its whole lines are not indexed yet); the next search indexes them
 * (core/search-index.ts updateSearchIndex), so capture, which hooks run on every push, does not
 * pay for tokenizing. `message_text` holds one row per searchable text (a prompt, reply,
 * thinking, tool call or result, or an edited file's path),
 * keyed by the native file and the byte offset of the block of lines it was parsed from, so that
 * parsing the same lines again replaces their rows instead of adding to them. `message_fts` is an
 * external-content FTS5 table over it (the text is stored once), kept in step by triggers.
 * Tokenizer: unicode61 with diacritics folded, and the Porter stemmer ("caching" finds "cache").
 */
export const SEARCH_INDEX_SCHEMA = `
  CREATE TABLE message_text (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, path TEXT NOT NULL, off INTEGER NOT NULL,
    role TEXT NOT NULL, kind TEXT NOT NULL, tool_name TEXT, ts TEXT, text TEXT NOT NULL
  );
  CREATE INDEX message_text_block ON message_text(session_id, path, off);
  CREATE VIRTUAL TABLE message_fts USING fts5(text, content='message_text', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
  CREATE TRIGGER message_text_ins AFTER INSERT ON message_text BEGIN
    INSERT INTO message_fts (rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER message_text_del AFTER DELETE ON message_text BEGIN
    INSERT INTO message_fts (message_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;
  CREATE TABLE message_pending (session_id TEXT NOT NULL, path TEXT NOT NULL, off INTEGER NOT NULL, PRIMARY KEY (session_id, path));
`;

/** kv key: set when a session was written with indexing off: every transcript is queued again. */
export const SEARCH_REBUILD = 'search_rebuild';

/** One searchable text. */
export interface TextRow {
  /** The native file (bundle path) and the byte offset of the block of whole lines it came from. */
  path: string;
  off: number;
  role: Role;
  /** A message kind, or `edit` for the path of a file an edit wrote. */
  kind: MessageKind | 'edit';
  toolName: string | null;
  ts: string | null;
  text: string;
}

/**
 * The lines a session write parsed, to index. 'replace': the session was parsed whole (its
 * texts are all to be indexed again); 'append': the whole lines of each file from `from[path]` on
 * are new.
 */
export interface SessionTexts {
  mode: 'replace' | 'append';
  from: Record<string, number>;
}

/** A native file of a session whose whole lines from byte `off` are not indexed yet. */
export interface PendingText {
  session_id: string;
  path: string;
  off: number;
}

export interface SearchFilter {
  /** Only sessions of this repository (main root); all when undefined. */
  /** Only this repository's sessions (by identity; rows of before v4 by folder). */
  repo?: RepoKey;
  tool?: string;
  /** ISO time: only messages at or after it (messages without a time count as their session's last). */
  since?: string;
  /** Only sessions first captured on a machine whose id starts with this. */
  machinePrefix?: string;
  limit: number;
}

export interface SearchHit {
  session_id: string;
  tool: ToolName;
  ts: string | null;
  role: Role;
  kind: string;
  tool_name: string | null;
  title: string | null;
  origin: 'local' | 'sync';
  origin_machine: string | null;
  /** The matching text around the match; matches are between \uE000 and \uE001. */
  snippet: string;
  /** bm25 (lower is better). */
  score: number;
}

/** Marks around matched words in snippets (private-use characters: never in a sanitized field). */
export const MATCH_START = '\uE000';
export const MATCH_END = '\uE001';

/** SQL of the search index; the transactions are the callers' (LoreDb.writeSession, rebuild). */
export class SearchIndex {
  private cached: ReturnType<SearchIndex['prepare']> | undefined;
  constructor(private readonly db: Database.Database) {}

  private prepare() {
    const db = this.db;
    return {
      delPending: db.prepare('DELETE FROM message_pending WHERE session_id = ?'),
      pend: db.prepare('INSERT INTO message_pending (session_id, path, off) VALUES (?, ?, ?) ON CONFLICT (session_id, path) DO UPDATE SET off = min(off, excluded.off)'),
      delFrom: db.prepare('DELETE FROM message_text WHERE session_id = ? AND path = ? AND off >= ?'),
      put: db.prepare('INSERT INTO message_text (session_id, path, off, role, kind, tool_name, ts, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      donePending: db.prepare('DELETE FROM message_pending WHERE session_id = ? AND path = ? AND off = ?'),
      stale: db.prepare(`INSERT OR REPLACE INTO kv (key, value) VALUES ('${SEARCH_REBUILD}', '1')`),
    };
  }
  private stmts() {
    this.cached ??= this.prepare();
    return this.cached;
  }

  /**
   * Records the lines a session write parsed as pending (call inside the session's write
   * transaction). A whole parse makes every file pending from its start; its old texts are
   * replaced when they are indexed again (a file the new version lacks keeps no pending entry,
   * so the session's rows of it are dropped now).
   */
  write(sessionId: string, t: SessionTexts): void {
    const s = this.stmts();
    if (t.mode === 'replace') {
      s.delPending.run(sessionId);
      this.db.prepare('DELETE FROM message_text WHERE session_id = ? AND path NOT IN (SELECT value FROM json_each(?))').run(sessionId, JSON.stringify(Object.keys(t.from)));
    }
    for (const [p, off] of Object.entries(t.from)) s.pend.run(sessionId, p, t.mode === 'replace' ? 0 : off);
  }

  /** Files with lines not indexed yet. */
  pending(): PendingText[] {
    return this.db.prepare('SELECT session_id, path, off FROM message_pending ORDER BY session_id, path').all() as PendingText[];
  }

  /**
   * Stores the texts of a pending file's lines from `p.off`, replacing the rows it had from there,
   * in one transaction. The entry is cleared only if no capture moved it meanwhile (then it is
   * indexed again next time: rows from its offset are replaced, never doubled).
   */
  indexed(p: PendingText, rows: TextRow[]): void {
    const s = this.stmts();
    this.db.transaction(() => {
      s.delFrom.run(p.session_id, p.path, p.off);
      for (const r of rows) s.put.run(p.session_id, r.path, r.off, r.role, r.kind, r.toolName, r.ts, r.text);
      s.donePending.run(p.session_id, p.path, p.off);
    })();
  }

  /** Every native transcript of every session becomes pending from its start (the rebuild), and the rebuild mark is cleared. */
  requeueAll(): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM message_pending;
        INSERT INTO message_pending (session_id, path, off) SELECT session_id, path, 0 FROM session_files WHERE path LIKE '%.jsonl';
        DELETE FROM kv WHERE key = '${SEARCH_REBUILD}';`);
    })();
  }

  /** Some session was written without its texts: the next search rebuilds the index. */
  markStale(): void {
    this.stmts().stale.run();
  }

  /** True when the index must be rebuilt before it can be trusted (after the v4 migration, or a write with indexing off). */
  needsRebuild(): boolean {
    return this.db.prepare('SELECT 1 FROM kv WHERE key = ?').get(SEARCH_REBUILD) !== undefined;
  }

  /**
   * Messages matching an FTS5 query (already escaped by the caller: core/search.ts), best first:
   * bm25, then the most recent. Throws SQLite's error on a malformed query.
   */
  query(match: string, f: SearchFilter): SearchHit[] {
    const where = ['message_fts MATCH @match'];
    if (f.repo !== undefined) where.push('(s.repo_id = @repoId OR (s.repo_id IS NULL AND s.repo_root = @repoRoot))');
    if (f.tool !== undefined) where.push('s.tool = @tool');
    if (f.since !== undefined) where.push('coalesce(m.ts, s.updated_at) >= @since');
    if (f.machinePrefix !== undefined) where.push("s.origin_machine LIKE @machine ESCAPE '\\'");
    const sql = `SELECT m.session_id, s.tool, m.ts, m.role, m.kind, m.tool_name, s.title, s.origin, s.origin_machine,
        snippet(message_fts, 0, '${MATCH_START}', '${MATCH_END}', '…', 16) AS snippet, bm25(message_fts) AS score
      FROM message_fts JOIN message_text m ON m.id = message_fts.rowid JOIN sessions s ON s.id = m.session_id
      WHERE ${where.join(' AND ')}
      ORDER BY score, coalesce(m.ts, s.updated_at) DESC, m.id DESC LIMIT @limit`;
    return this.db.prepare(sql).all({
      match,
      limit: f.limit,
      ...(f.repo !== undefined ? { repoId: f.repo.id, repoRoot: f.repo.root } : {}),
      ...(f.tool !== undefined ? { tool: f.tool } : {}),
      ...(f.since !== undefined ? { since: f.since } : {}),
      ...(f.machinePrefix !== undefined ? { machine: `${f.machinePrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } : {}),
    }) as SearchHit[];
  }
}
