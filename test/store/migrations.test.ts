import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tmpdir } from '../helpers/machine.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { LoreDb } from '../../src/store/db.js';
import { packBundle } from '../../src/store/bundle.js';
import { PieceFiles, contentHash, encodePieces } from '../../src/store/pieces.js';
import { StoreError } from '../../src/errors.js';

/**
 * Every old schema version of lore.db opens with today's code and keeps what it held: a store is
 * made at version v by running the first v migrations, filled as a git-lore of that version
 * would have filled it, then opened through LoreDb (which migrates it).
 */

const ID = '0b5e1a77-0000-4000-8000-000000000001';
const TRANSCRIPT = 'claude/-work-app/0b5e1a77-0000-4000-8000-000000000001.jsonl';
const TEXT = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ type: 'user', n: i, text: `line ${i} of the transcript` })).join('\n') + '\n';
const SUBAGENT = 'claude/-work-app/0b5e1a77-0000-4000-8000-000000000001/subagents/agent-1.jsonl';
const SUBTEXT = '{"type":"assistant"}\n';

function storeAt(version: number): string {
  const home = tmpdir('migrate');
  fs.chmodSync(home, 0o700);
  const db = new Database(path.join(home, 'lore.db'));
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  db.close();
  return home;
}

async function fill(home: string, version: number): Promise<void> {
  if (version === 0) return;
  const db = new Database(path.join(home, 'lore.db'));
  let sha: string;
  let size: number;
  if (version < 3) {
    // Format 1's local store: one tar per session version under bundles/.
    const tar = await packBundle([{ path: TRANSCRIPT, data: Buffer.from(TEXT), mtimeMs: 0 }, { path: SUBAGENT, data: Buffer.from(SUBTEXT), mtimeMs: 0 }]);
    sha = crypto.createHash('sha256').update(tar).digest('hex');
    size = tar.length;
    fs.mkdirSync(path.join(home, 'bundles', sha.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(home, 'bundles', sha.slice(0, 2), `${sha}.tar`), tar);
  } else {
    const pieces = new PieceFiles(path.join(home, 'chunks'));
    const files = [
      { path: SUBAGENT, data: Buffer.from(SUBTEXT) },
      { path: TRANSCRIPT, data: Buffer.from(TEXT) },
    ].map((f) => ({ path: f.path, size: f.data.length, sha256: crypto.createHash('sha256').update(f.data).digest('hex'), pieces: [pieces.put(f.data)] }));
    for (const f of files) {
      db.prepare('INSERT INTO session_files (session_id, path, size, sha256, pieces) VALUES (?, ?, ?, ?, ?)').run(ID, f.path, f.size, f.sha256, encodePieces(f.pieces));
    }
    sha = contentHash(files);
    size = files.reduce((n, f) => n + f.size, 0);
  }
  db.prepare(`INSERT INTO sessions (id, tool, cwd, repo_root, agent_root, title, bundle_sha256, bundle_size, imported_at)
    VALUES (?, 'claude-code', '/work/app', '/work/app', '/work/app', 'the title', ?, ?, '2026-01-01T00:00:00Z')`).run(ID, sha, size);
  db.prepare(`INSERT INTO edits (session_id, seq, file, op, tool_name, ts, added_count, added_json) VALUES (?, 3, 'src/a.ts', 'write', 'Write', '2026-01-01T00:00:01Z', 2, '["a","b"]')`).run(ID);
  db.prepare("INSERT INTO source_files (path, tool, session_id, size, mtime_ms) VALUES ('/h/.claude/x.jsonl', 'claude-code', ?, 10, 5)").run(ID);
  db.prepare("INSERT INTO kv (key, value) VALUES ('pin', 'store-1')").run();
  db.close();
}

for (let version = 0; version <= MIGRATIONS.length; version++) {
  test(`a lore.db of schema version ${version} opens, migrates to ${MIGRATIONS.length} and keeps its content`, async () => {
    const home = storeAt(version);
    await fill(home, version);
    const store = LoreDb.open(home);
    try {
      const raw = new Database(path.join(home, 'lore.db'), { readonly: true });
      assert.equal(raw.pragma('user_version', { simple: true }), MIGRATIONS.length);
      raw.close();
      if (version === 0) {
        assert.deepEqual(store.listSessions(), []);
        return;
      }
      const row = store.getSession(ID);
      assert.ok(row, 'the session row is kept');
      assert.equal(row.title, 'the title');
      assert.deepEqual(store.edits(ID).map((e) => [e.file, JSON.parse(e.added_json)]), [['src/a.ts', ['a', 'b']]]);
      assert.equal(store.sourceFile('/h/.claude/x.jsonl')?.session_id, ID);
      assert.equal(store.getKv('pin'), 'store-1');
      // Files: converted from the tar (v1, v2) or kept (v3+); byte-identical either way.
      const files = store.sessionFiles(ID);
      assert.deepEqual(files.map((f) => f.path), [SUBAGENT, TRANSCRIPT].sort());
      const transcript = files.find((f) => f.path === TRANSCRIPT)!;
      assert.equal(store.pieces.readAll(transcript).toString(), TEXT);
      assert.equal(row.bundle_sha256, contentHash(files), 'the row carries the content hash of format 2');
      assert.equal(fs.existsSync(path.join(home, 'bundles')), false, 'converted bundles are removed');
      // v4: a row without repo_id is found by its folder until backfilled.
      assert.deepEqual(store.listSessions({ id: 'git:none', root: '/work/app' }).map((s) => s.id), [ID]);
      // v5: an existing transcript is pending for the search index.
      if (version < 5) assert.ok(store.search.pending().some((p) => p.session_id === ID && p.path === TRANSCRIPT));
    } finally {
      store.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
}

test('a lore.db newer than this git-lore is refused, and left as it was', () => {
  const home = storeAt(MIGRATIONS.length);
  const file = path.join(home, 'lore.db');
  const db = new Database(file);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  const schema = () => {
    const d = new Database(file, { readonly: true });
    const r = { version: d.pragma('user_version', { simple: true }), sql: d.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all() };
    d.close();
    return r;
  };
  const before = schema();
  assert.throws(() => LoreDb.open(home), (err: unknown) => err instanceof StoreError && /newer than this git-lore/.test(err.message));
  assert.deepEqual(schema(), before);
  fs.rmSync(home, { recursive: true, force: true });
});

test('a migration that fails leaves the store at its old version, and the next open completes it', async () => {
  const home = storeAt(2);
  await fill(home, 2);
  // Lock the database from another connection: the migration's immediate transaction cannot start.
  const blocker = new Database(path.join(home, 'lore.db'));
  blocker.exec('BEGIN EXCLUSIVE');
  assert.throws(() => LoreDb.open(home, 50));
  blocker.exec('ROLLBACK');
  blocker.close();
  const check = new Database(path.join(home, 'lore.db'), { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), 2);
  check.close();
  const store = LoreDb.open(home);
  assert.equal(store.pieces.readAll(store.sessionFiles(ID).find((f) => f.path === TRANSCRIPT)!).toString(), TEXT);
  store.close();
  fs.rmSync(home, { recursive: true, force: true });
});
