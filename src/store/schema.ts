import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { log } from '../log.js';
import { convertBundles } from './convert-bundles.js';
import type { PieceFiles } from './pieces.js';
import { SEARCH_INDEX_SCHEMA, SEARCH_INDEX_V6 } from './search-index.js';

/**
 * The schema of lore.db: its migrations, applied in order by `migrate` (PRAGMA user_version holds
 * how many have run). Each runs in one transaction with the version bump, so a killed process
 * leaves the old version or the new one.
 */

export const MIGRATIONS: string[] = [
  // 1: sessions, their lossless bundles, edits (the index blame uses), source-file stamps.
  // Messages are not stored: they are parsed from the bundle when needed (storing them, a row or
  // a JSON document per session, doubled the cost of capture).
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    tool_version TEXT,
    cwd TEXT,
    repo_root TEXT,
    agent_root TEXT,
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
  CREATE INDEX sessions_bundle ON sessions(bundle_sha256);
  CREATE TABLE edits (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL, file TEXT NOT NULL, move_path TEXT,
    op TEXT NOT NULL, tool_name TEXT NOT NULL, ts TEXT, added_count INTEGER NOT NULL, added_json TEXT NOT NULL
  );
  CREATE INDEX edits_session ON edits(session_id);
  -- Blame looks edits up by the file they wrote (the target for moves), then matches line text in memory.
  CREATE INDEX edits_target ON edits(coalesce(move_path, file));
  CREATE TABLE source_files (
    path TEXT PRIMARY KEY, tool TEXT NOT NULL, session_id TEXT, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL
  );
  CREATE INDEX source_files_session ON source_files(session_id);
  CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- The last metadata blob read from a lore ref for each session, with its digest, so a sync
  -- reads only metadata that changed (blob ids are content-addressed: a hit is never stale).
  CREATE TABLE meta_cache (session_id TEXT PRIMARY KEY, oid TEXT NOT NULL, digest TEXT NOT NULL);
  `,
  // v2: the session-write counter's value at each session's last write, so a sync can ask only
  // for the sessions written since its previous one.
  `
  ALTER TABLE sessions ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX sessions_rev ON sessions(rev);
  CREATE INDEX sessions_repo_rev ON sessions(repo_root, rev);
  `,
  // v3: sessions as files made of content-addressed pieces (LORE_HOME/chunks) instead of one tar
  // bundle per version; the parser's state so a grown transcript is parsed from where it stopped;
  // provisional edits (tool calls without a recorded result yet). sessions.bundle_sha256 now holds
  // the content hash of docs/FORMAT.md and bundle_size the total size of the files. The bundles
  // are converted by convertBundles in the same transaction.
  `
  CREATE TABLE session_files (
    session_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, pieces BLOB NOT NULL,
    PRIMARY KEY (session_id, path)
  );
  CREATE TABLE parse_state (session_id TEXT PRIMARY KEY, state TEXT NOT NULL);
  ALTER TABLE edits ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
  `,
  // v4: the repository a session belongs to by identity (its root commits: shared by every clone,
  // worktree and moved copy), not by folder. Rows of before are given theirs when their folder's
  // repository is next seen (backfillRepoId).
  `
  ALTER TABLE sessions ADD COLUMN repo_id TEXT;
  CREATE INDEX sessions_repo_id ON sessions(repo_id, started_at);
  CREATE INDEX sessions_repo_id_rev ON sessions(repo_id, rev);
  `,
  // v5: the full-text index of message texts (src/store/search-index.ts). Every transcript of the
  // existing sessions is pending from its start: the first command that searches indexes them.
  `
  ${SEARCH_INDEX_SCHEMA}
  INSERT INTO message_pending (session_id, path, off) SELECT session_id, path, 0 FROM session_files WHERE path LIKE '%.jsonl';
  `,
  // v6: the search index without its texts (contentless FTS5; snippets are made from the piece
  // store for the results shown), rebuilt by the next search.
  SEARCH_INDEX_V6,
];

/** Brings lore.db to the newest schema version; refuses a newer one than this git-lore knows. */
export function migrate(db: Database.Database, pieces: PieceFiles, loreHome: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(`lore.db has schema version ${version}, newer than this git-lore understands (${MIGRATIONS.length})`, {
      hint: 'Upgrade git-lore (./install.sh in a newer checkout).',
    });
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    // v3 converts bundle files into pieces: written before the transaction (content-addressed,
    // so a crash leaves only unreferenced pieces and the next open converts again).
    const converted = v === 2 ? convertBundles(db, pieces, loreHome) : null;
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      converted?.apply();
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
    converted?.cleanUp();
    log.store('migrated lore.db to version %d', v + 1);
  }
  if (version >= 5 && version < 6) reclaimFreePages(db);
}

/**
 * After v6 dropped the stored texts, gives their pages back to the file system when they are
 * over a quarter of the file. VACUUM cannot run inside the migration's transaction; it is
 * atomic on its own, and a failure (another process reading) only leaves the file large.
 */
function reclaimFreePages(db: Database.Database): void {
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  if (free * 4 < pages) return;
  try {
    db.exec('VACUUM');
    log.store('reclaimed %d free pages of %d', free, pages);
  } catch (err) {
    log.store('VACUUM after the v6 migration failed: %s', (err as Error).message);
  }
}
