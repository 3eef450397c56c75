import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Machine } from '../helpers/machine.js';
import { userLine, uuid, writeSession } from '../helpers/repos.js';
import { LoreDb } from '../../src/store/db.js';
import { importSessions } from '../../src/core/import.js';
import { searchSessions } from '../../src/core/search.js';

/** The search index as schema v5 made it: every text stored in message_text, FTS5 over it (external content). */
const V5_INDEX = `
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

const columns = (db: Database.Database, table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

test('v6 migration: the v5 index with its texts is dropped in one transaction (a failure keeps v5 whole), the file shrinks, the next search rebuilds', async () => {
  const m = new Machine('mig6');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(1, 'a');
  writeSession(m, repo, id, [userLine(id, repo, 'w1', 'where do the wombats sleep', 1), userLine(id, repo, 'w2', 'under the old oak', 2)]);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
  } finally {
    ctx.close();
  }
  // Make it a v5 store: the v5 index, holding 4 MB of texts.
  const file = path.join(m.vars.LORE_HOME!, 'lore.db');
  let raw = new Database(file);
  raw.exec('DROP TABLE message_fts; DROP TABLE message_text; DROP TABLE message_pending; DROP TABLE message_file;');
  raw.exec(V5_INDEX);
  const put = raw.prepare("INSERT INTO message_text (session_id, path, off, role, kind, text) VALUES (?, 'p', ?, 'user', 'text', ?)");
  raw.transaction(() => {
    put.run(id, 0, 'where do the wombats sleep');
    for (let i = 1; i <= 2000; i++) put.run(id, i, `${'filler words for the old index '.repeat(64)}${i}`);
  })();
  // A name the v6 schema needs, taken: its migration fails after it dropped the v5 tables.
  raw.exec('DROP INDEX message_text_block; CREATE INDEX message_text_block ON sessions(title); PRAGMA user_version = 5;');
  raw.close();
  const v5Size = fs.statSync(file).size;
  assert.ok(v5Size > 4_000_000, `the v5 store holds its texts (${v5Size} bytes)`);

  assert.throws(() => LoreDb.open(m.vars.LORE_HOME!), /message_text_block/);
  raw = new Database(file);
  assert.equal(raw.pragma('user_version', { simple: true }), 5, 'still v5');
  assert.ok(columns(raw, 'message_text').includes('text'), 'the v5 table is back');
  assert.equal(raw.prepare('SELECT count(*) FROM message_text').pluck().get(), 2001);
  assert.equal(raw.prepare("SELECT count(*) FROM message_fts WHERE message_fts MATCH 'wombats'").pluck().get(), 1, 'the v5 index answers');
  raw.exec('DROP INDEX message_text_block; CREATE INDEX message_text_block ON message_text(session_id, path, off);');
  raw.close();

  const db = LoreDb.open(m.vars.LORE_HOME!);
  // The migrated file, read beside the store's own handle.
  const migrated = new Database(file, { readonly: true });
  try {
    assert.equal(migrated.pragma('user_version', { simple: true }), 6);
    assert.ok(!columns(migrated, 'message_text').includes('text'), 'no text column');
    assert.equal(migrated.prepare('SELECT count(*) FROM message_text').pluck().get(), 0);
    assert.deepEqual(db.search.pending().map((p) => p.session_id), [id], 'the transcript waits to be indexed again');
  } finally {
    migrated.close();
    db.close();
  }
  const v6Size = fs.statSync(file).size;
  assert.ok(v6Size < v5Size / 4, `the freed pages went back to the file system (${v5Size} -> ${v6Size} bytes)`);

  const after = m.ctx(repo);
  try {
    const r = await searchSessions(after, { query: 'wombats' });
    assert.deepEqual(r.results.map((x) => [x.id, x.snippet]), [[id, 'where do the \uE000wombats\uE001 sleep']]);
    assert.equal((await searchSessions(after, { query: 'filler' })).results.length, 0, 'v5 rows are gone, not carried over');
    assert.ok(after.db.search.upToDate());
  } finally {
    after.close();
  }
});
