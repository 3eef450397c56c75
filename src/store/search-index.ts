import type { RepoKey } from '../model/repo.js';
import type Database from 'better-sqlite3';
import type { MessageKind, Role, ToolName } from '../model/session.js';

/** The tokenizer of the index (and of the snippet table, which must cut words the same way). */
const FTS_TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'";

/**
 * The full-text index of the sessions' messages (SQLite FTS5). Capture only records, in the
 * session's write transaction, which lines are new (`message_pending`: per native file, the byte
 * offset from which its whole lines are not indexed yet); the next search indexes them
 * (core/search-index.ts updateSearchIndex), so capture, which hooks run on every push, does not
 * pay for tokenizing. `message_text` holds one row per searchable text (a prompt, reply,
 * thinking, tool call or result, or an edited file's path), keyed by the native file
 * (`message_file`: a session and a path, named by a number so that 145,000 rows do not repeat
 * them) and the byte range of the block of lines it was parsed from (`off`, `len`) and its place
 * among that block's texts (`ord`), so that parsing the same lines again replaces their rows instead of
 * adding to them, and so that the text can be parsed again from the piece store when a result
 * is shown. The text itself is not stored (schema v6): `message_fts` is a contentless FTS5 table
 * (`content=''`, `contentless_delete=1`: rows are deleted by rowid), whose rowid is the
 * `message_text` id; a trigger deletes the index entry with the row. Snippets are made for the
 * shown results only (`snippets`). Tokenizer: unicode61 with diacritics folded, and the Porter
 * stemmer ("caching" finds "cache").
 */
export const SEARCH_INDEX_SCHEMA = `
  CREATE TABLE message_file (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, path TEXT NOT NULL, UNIQUE (session_id, path));
  CREATE TABLE message_text (
    id INTEGER PRIMARY KEY, file INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL, ord INTEGER NOT NULL,
    role TEXT NOT NULL, kind TEXT NOT NULL, tool_name TEXT, ts TEXT
  );
  CREATE INDEX message_text_block ON message_text(file, off);
  CREATE VIRTUAL TABLE message_fts USING fts5(text, content='', contentless_delete=1, ${FTS_TOKENIZE});
  CREATE TRIGGER message_text_del AFTER DELETE ON message_text BEGIN
    DELETE FROM message_fts WHERE rowid = old.id;
  END;
  CREATE TABLE message_pending (session_id TEXT NOT NULL, path TEXT NOT NULL, off INTEGER NOT NULL, PRIMARY KEY (session_id, path));
`;

/**
 * Schema v6: the v5 index (texts stored in `message_text` beside the index: lore.db grew from 55
 * to 411 MB for 334 MB of transcripts) is dropped and made again contentless; every transcript
 * is pending from its start, so the next search rebuilds it.
 */
export const SEARCH_INDEX_V6 = `
  DROP TABLE IF EXISTS message_fts;
  DROP TABLE IF EXISTS message_text;
  DROP TABLE IF EXISTS message_pending;
  DROP TABLE IF EXISTS message_file;
  ${SEARCH_INDEX_SCHEMA}
  INSERT INTO message_pending (session_id, path, off) SELECT session_id, path, 0 FROM session_files WHERE path LIKE '%.jsonl';
  INSERT OR REPLACE INTO kv (key, value) VALUES ('search_rebuild', '1');
`;

/** kv key: set when a session was written with indexing off: every transcript is queued again. */
export const SEARCH_REBUILD = 'search_rebuild';

/** One searchable text. */
export interface TextRow {
  /** The native file (bundle path), and the byte offset and length of the block of whole lines it came from. */
  path: string;
  off: number;
  len: number;
  /** Its place among the texts parsed from that block (from 0). */
  ord: number;
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
  /** Only this repository's sessions (by identity; rows of before v4 by folder). */
  repo?: RepoKey;
  tool?: string;
  /** ISO time: only messages at or after it (messages without a time count as their session's last). */
  since?: string;
  /** Only sessions first captured on a machine whose id starts with this. */
  machinePrefix?: string;
  limit: number;
  /**
   * Rank at most this many matching texts, the most recently indexed (bm25 is computed for each
   * one ranked: a word found in 100,000 texts cost 200 ms more than a rare one).
   */
  maxCandidates: number;
}

/** A matching text, without the text: its place in the piece store is in `session_id`, `path`, `off`, `len`, `ord`. */
export interface SearchHit {
  id: number;
  session_id: string;
  path: string;
  off: number;
  len: number;
  ord: number;
  tool: ToolName;
  ts: string | null;
  role: Role;
  kind: string;
  tool_name: string | null;
  title: string | null;
  origin: 'local' | 'sync';
  origin_machine: string | null;
  /** bm25 (lower is better). */
  score: number;
}

/** The best hits, and whether more texts matched than were ranked (`SearchFilter.maxCandidates`). */
export interface SearchHits {
  hits: SearchHit[];
  truncated: boolean;
}

/** A text of the index, by its row id (`message_text.id`, the FTS5 rowid). */
export interface IndexedText {
  id: number;
  text: string;
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
      file: db.prepare('INSERT INTO message_file (session_id, path) VALUES (?, ?) ON CONFLICT (session_id, path) DO UPDATE SET path = excluded.path RETURNING id').pluck(),
      delFrom: db.prepare('DELETE FROM message_text WHERE file = ? AND off >= ?'),
      put: db.prepare('INSERT INTO message_text (file, off, len, ord, role, kind, tool_name, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      putFts: db.prepare('INSERT INTO message_fts (rowid, text) VALUES (?, ?)'),
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
      const gone = 'SELECT id FROM message_file WHERE session_id = ? AND path NOT IN (SELECT value FROM json_each(?))';
      const paths = JSON.stringify(Object.keys(t.from));
      this.db.prepare(`DELETE FROM message_text WHERE file IN (${gone})`).run(sessionId, paths);
      this.db.prepare(`DELETE FROM message_file WHERE id IN (${gone})`).run(sessionId, paths);
    }
    for (const [p, off] of Object.entries(t.from)) s.pend.run(sessionId, p, t.mode === 'replace' ? 0 : off);
  }

  /**
   * Files with lines not indexed yet, the least recently updated sessions first: row ids, which
   * the ranking walks newest first when a query matches too much, then follow the sessions' age.
   */
  pending(): PendingText[] {
    return this.db.prepare(`SELECT p.session_id, p.path, p.off FROM message_pending p LEFT JOIN sessions s ON s.id = p.session_id
      ORDER BY s.updated_at, p.session_id, p.path`).all() as PendingText[];
  }

  /**
   * Stores the texts of a pending file's lines from `p.off`, replacing the rows it had from there,
   * in one transaction. The entry is cleared only if no capture moved it meanwhile (then it is
   * indexed again next time: rows from its offset are replaced, never doubled).
   */
  indexed(p: PendingText, rows: TextRow[], from = p.off): void {
    const s = this.stmts();
    this.db.transaction(() => {
      const file = s.file.get(p.session_id, p.path) as number;
      s.delFrom.run(file, from);
      for (const r of rows) {
        const id = s.put.run(file, r.off, r.len, r.ord, r.role, r.kind, r.toolName, r.ts).lastInsertRowid;
        s.putFts.run(id, r.text);
      }
      s.donePending.run(p.session_id, p.path, p.off);
    })();
  }

  /**
   * Every native transcript of every session (`isTranscript`: the sources' own rule, not only
   * JSONL) becomes pending from its start (the rebuild), and the rebuild mark is cleared.
   */
  requeueAll(isTranscript: (bundlePath: string) => boolean): void {
    const files = this.db.prepare('SELECT session_id, path FROM session_files').all() as Array<{ session_id: string; path: string }>;
    const pend = this.db.prepare('INSERT OR REPLACE INTO message_pending (session_id, path, off) VALUES (?, ?, 0)');
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM message_pending; DELETE FROM kv WHERE key = '${SEARCH_REBUILD}';`);
      for (const f of files) if (isTranscript(f.path)) pend.run(f.session_id, f.path);
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

  /** True when nothing waits to be indexed and no rebuild is asked for: the index answers for every stored session. */
  upToDate(): boolean {
    return this.db.prepare(`SELECT NOT EXISTS (SELECT 1 FROM message_pending) AND NOT EXISTS (SELECT 1 FROM kv WHERE key = '${SEARCH_REBUILD}')`).pluck().get() === 1;
  }

  /** The indexed rows of a session, in the order of its files and lines (the texts are in the piece store). */
  rowsOf(sessionId: string): Array<Pick<SearchHit, 'id' | 'session_id' | 'path' | 'off' | 'len' | 'ord'>> {
    return this.db.prepare(`SELECT m.id, f.session_id, f.path, m.off, m.len, m.ord FROM message_text m JOIN message_file f ON f.id = m.file
      WHERE f.session_id = ? ORDER BY f.path, m.off, m.ord`).all(sessionId) as never;
  }

  /**
   * Messages matching an FTS5 query (already escaped by the caller: core/search.ts), best first:
   * bm25, then the most recent. Only the `maxCandidates` most recently indexed matches (after
   * the filters) are ranked; `truncated` says more matched. Throws SQLite's error on a
   * malformed query.
   */
  query(match: string, f: SearchFilter): SearchHits {
    const where = ['message_fts MATCH @match'];
    if (f.repo !== undefined) where.push('(s.repo_id = @repoId OR (s.repo_id IS NULL AND s.repo_root = @repoRoot))');
    if (f.tool !== undefined) where.push('s.tool = @tool');
    if (f.since !== undefined) where.push('coalesce(m.ts, s.updated_at) >= @since');
    if (f.machinePrefix !== undefined) where.push("s.origin_machine LIKE @machine ESCAPE '\\'");
    // FTS5 yields matches in rowid order (descending here) and bm25 is computed only for the rows
    // the LIMIT lets through; one more than the cap tells whether there were more.
    const sql = `WITH c AS (
        SELECT m.id, bm25(message_fts) AS score FROM message_fts JOIN message_text m ON m.id = message_fts.rowid
          JOIN message_file f ON f.id = m.file JOIN sessions s ON s.id = f.session_id
        WHERE ${where.join(' AND ')} ORDER BY message_fts.rowid DESC LIMIT @cap + 1),
      k AS (SELECT id, score FROM c ORDER BY id DESC LIMIT @cap)
      SELECT (SELECT count(*) FROM c) AS matched, m.id, f.session_id, f.path, m.off, m.len, m.ord, s.tool, m.ts, m.role, m.kind, m.tool_name,
        s.title, s.origin, s.origin_machine, k.score
      FROM k JOIN message_text m ON m.id = k.id JOIN message_file f ON f.id = m.file JOIN sessions s ON s.id = f.session_id
      ORDER BY k.score, coalesce(m.ts, s.updated_at) DESC, m.id DESC LIMIT @limit`;
    const rows = this.db.prepare(sql).all({
      match,
      limit: f.limit,
      cap: f.maxCandidates,
      ...(f.repo !== undefined ? { repoId: f.repo.id, repoRoot: f.repo.root } : {}),
      ...(f.tool !== undefined ? { tool: f.tool } : {}),
      ...(f.since !== undefined ? { since: f.since } : {}),
      ...(f.machinePrefix !== undefined ? { machine: `${f.machinePrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } : {}),
    }) as Array<SearchHit & { matched: number }>;
    const truncated = rows.length > 0 && rows[0]!.matched > f.maxCandidates;
    return { hits: rows.map(({ matched: _, ...h }) => h), truncated };
  }

  /**
   * Snippets of the given texts for an FTS5 query: the text around the best match, matched words
   * between MATCH_START and MATCH_END, by FTS5's own snippet() over a temporary table (in this
   * connection's temp schema, never in lore.db) with the index's tokenizer, so the words marked
   * are those the index matched. A text the query does not match gets no entry.
   */
  snippets(match: string, texts: readonly IndexedText[]): Map<number, string> {
    if (!texts.length) return new Map();
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.message_snip USING fts5(text, ${FTS_TOKENIZE}); DELETE FROM temp.message_snip;`);
    const put = this.db.prepare('INSERT INTO temp.message_snip (rowid, text) VALUES (?, ?)');
    for (const t of texts) put.run(t.id, t.text);
    const rows = this.db.prepare(`SELECT rowid AS id, snippet(message_snip, 0, '${MATCH_START}', '${MATCH_END}', '…', 16) AS snippet
      FROM temp.message_snip WHERE message_snip MATCH ?`).all(match) as Array<{ id: number; snippet: string }>;
    this.db.exec('DELETE FROM temp.message_snip');
    return new Map(rows.map((r) => [r.id, r.snippet]));
  }
}
