import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, Machine, SKIP_NO_FIXTURES } from '../helpers/machine.js';
import { ok } from '../helpers/repos.js';
import { isSessionId } from '../../src/format/session-entry.js';
import { loreIdOf, nativeIdOf } from '../../src/sources/opencode/ids.js';
import { OpenCodeSource } from '../../src/sources/opencode/index.js';

const NEON = 'ses_39b623ce7ffeILPe9UgDcyGicH';
const NEON_ID = '39b623ce7ffe-3091169137c179b18f6b5';
const ROOT = '/Users/alex/repos/vfp/dark-factory';

test('OpenCode ids map to git-lore ids and back, one to one', () => {
  assert.equal(loreIdOf(NEON), NEON_ID);
  const ids = [NEON, 'ses_39b5d713cffeRgAoxPIwS3Plus', 'ses_39b623ce7ffeILPe9UgDcyGicI', 'ses_39b623ce7ffeiLPe9UgDcyGicH', 'ses_39b623ce7ffe00000000000000', 'ses_39b623ce7ffezzzzzzzzzzzzzz', 'ses_abc', 'ses_ABC', 'ses_Z'];
  const seen = new Set<string>();
  for (const id of ids) {
    const l = loreIdOf(id)!;
    assert.ok(l && isSessionId(l) && /^[0-9a-f-]{4,}$/.test(l), `${id} -> ${l}: a format id that commands take (hex)`);
    assert.equal(nativeIdOf(l), id);
    assert.ok(!seen.has(l), `${l} is one session's`);
    seen.add(l);
  }
  for (const bad of ['ses-x', 'ses_', 'ses_a/b', 'msg_39b623ce7ffeILPe9UgDcyGicH', `ses_${'a'.repeat(39)}`]) assert.equal(loreIdOf(bad), null, bad);
  for (const bad of ['39b623ce7ffe-ffffffffffffffffffffff', '39b623ce7ffe-fffffffffffffffffffff', '0c-61626', '0c-2f2f', 'a0c-6162']) assert.equal(nativeIdOf(bad), null, bad);
});

/** A machine with the 1.18.33 fixture database placed as if OpenCode had run in `repo`. */
function placeDb(m: Machine, repo: string): string {
  const data = path.join(m.home, '.local', 'share', 'opencode');
  fs.mkdirSync(data, { recursive: true });
  const file = path.join(data, 'opencode.db');
  fs.copyFileSync(path.join(FIXTURES, 'opencode', 'opencode-1.18.33', 'opencode.db'), file);
  fs.chmodSync(file, 0o644);
  const db = new Database(file);
  for (const [t, c] of [['project', 'worktree'], ['session', 'directory'], ['message', 'data'], ['part', 'data']]) db.prepare(`UPDATE ${t} SET ${c} = replace(${c}, ?, ?)`).run(ROOT, repo);
  db.close();
  return file;
}

test('a running OpenCode\'s rows still in the WAL are captured (read through SQLite)', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('oc-wal');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const file = placeDb(m, repo);
  await ok(m.lore(['import'], { cwd: repo }));
  // A writer that never checkpoints: its new message stays in opencode.db-wal.
  const writer = new Database(file);
  try {
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    const now = Date.now();
    writer.prepare('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)').run('msg_zzzzzzzzzzzz00000000000001', NEON, now, now, JSON.stringify({ role: 'user', time: { created: now } }));
    writer.prepare('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)').run('prt_zzzzzzzzzzzz00000000000001', 'msg_zzzzzzzzzzzz00000000000001', NEON, now, now, JSON.stringify({ type: 'text', text: 'a prompt only the WAL holds' }));
    assert.ok(fs.statSync(`${file}-wal`).size > 0, 'the rows are in the WAL');
    const before = fs.readFileSync(file);
    const imp = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
    assert.deepEqual(imp.warnings, []);
    assert.equal(imp.sessionsUpdated, 1, 'the session grew');
    assert.ok(fs.readFileSync(file).equals(before), 'the database file itself was not written');
    const shown = (await ok(m.lore(['show', NEON_ID.slice(0, 10)], { cwd: repo }))).stdout;
    assert.match(shown, /a prompt only the WAL holds/);
    const list = JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo }))).stdout);
    assert.equal(list.sessions.find((s: { id: string }) => s.id === NEON_ID).messageCount, 11);
  } finally {
    writer.close();
  }
});

test('a locked or corrupt database warns, keeps what was captured, and is read again once readable', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('oc-lock');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const file = placeDb(m, repo);
  assert.equal(JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout).sessionsNew, 2);
  // Another process holds the database exclusively (rollback journal, exclusive lock): readers get SQLITE_BUSY.
  const holder = new Database(file);
  holder.pragma('journal_mode = DELETE');
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.prepare('UPDATE session SET title = ? WHERE id = ?').run('renamed while locked', NEON);
  let r;
  try {
    r = await m.lore(['import', '--json'], { cwd: repo });
  } finally {
    holder.close();
  }
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /TypeError|RangeError|\n\s+at /);
  const locked = JSON.parse(r.stdout);
  assert.ok(locked.warnings.some((w: string) => w.includes(file) && /BUSY|locked/i.test(w)), `a warning names the database: ${r.stdout}`);
  assert.equal(JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo }))).stdout).sessions.length, 2, 'both sessions still listed');
  // Free again: the change made under the lock is captured.
  const after = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
  assert.deepEqual(after.warnings, []);
  const list = JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo }))).stdout);
  assert.equal(list.sessions.find((s: { id: string }) => s.id === NEON_ID).title, 'renamed while locked');
  // Corrupt: not a database at all.
  fs.writeFileSync(file, Buffer.alloc(8192, 7));
  fs.rmSync(`${file}-wal`, { force: true });
  fs.rmSync(`${file}-shm`, { force: true });
  const bad = await m.lore(['import', '--json'], { cwd: repo });
  assert.equal(bad.code, 0, bad.stderr);
  assert.ok(JSON.parse(bad.stdout).warnings.some((w: string) => w.includes(file)), bad.stdout);
  assert.equal(JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo }))).stdout).sessions.length, 2);
});

test('an unchanged database is not opened again (its stamps and its WAL\'s are those of the last export)', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('oc-stamp');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const file = placeDb(m, repo);
  // A whole second, so that it can be set back exactly.
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  fs.utimesSync(file, mtime, mtime);
  await ok(m.lore(['import'], { cwd: repo }));
  const source = new OpenCodeSource(path.dirname(file), { unreadable: (p, why) => assert.fail(`${p}: ${why}`) }, m.vars);
  const found = source.discover();
  assert.equal(found.filter((f) => f.bundlePath.startsWith('opencode/db/')).length, 2);
  // Same size and mtime, other bytes: opened, it would be corrupt and reported (the reporter fails the test).
  fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 7));
  fs.utimesSync(file, mtime, mtime);
  assert.deepEqual(source.discover().map((f) => [f.bundlePath, f.size]), found.map((f) => [f.bundlePath, f.size]));
  // A new mtime: read, found corrupt, reported.
  fs.utimesSync(file, mtime, new Date(mtime.getTime() + 5000));
  const reasons: string[] = [];
  new OpenCodeSource(path.dirname(file), { unreadable: (p, why) => void reasons.push(`${p}: ${why}`) }, m.vars).discover();
  assert.equal(reasons.length, 1, 'the changed database is read');
});

test('restore refuses a missing database and another schema, writing nothing', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('oc-restore');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const file = placeDb(m, repo);
  await ok(m.lore(['import'], { cwd: repo }));
  const saved = fs.readFileSync(file);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  const missing = await m.lore(['restore', NEON_ID], { cwd: repo });
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /does not exist; nothing was written/);
  assert.match(missing.stderr, /Run opencode once in/);
  assert.ok(!fs.existsSync(file), 'no database made up');
  // An older schema: part without its time_updated column.
  fs.writeFileSync(file, saved);
  const db = new Database(file);
  db.exec('DELETE FROM part; ALTER TABLE part DROP COLUMN time_updated; DELETE FROM message; DELETE FROM session');
  db.close();
  const other = await m.lore(['restore', NEON_ID], { cwd: repo });
  assert.equal(other.code, 1, other.stderr);
  assert.match(other.stderr, /another schema .*part table has no time_updated column/);
  const check = new Database(file, { readonly: true });
  assert.equal((check.prepare('SELECT count(*) AS n FROM message').get() as { n: number }).n, 0, 'no row written');
  check.close();
  // Into a database that lacks the project (OpenCode never opened this clone): the project is added for this clone.
  fs.writeFileSync(file, saved);
  const fresh = new Database(file);
  fresh.exec('DELETE FROM part; DELETE FROM message; DELETE FROM session; DELETE FROM project_directory; DELETE FROM project');
  fresh.close();
  const r = await ok(m.lore(['restore', NEON_ID], { cwd: repo }));
  assert.match(r.stdout + r.stderr, new RegExp(`opencode --session ${NEON}`));
  const after = new Database(file, { readonly: true });
  assert.deepEqual(after.prepare('SELECT id, worktree FROM project').all(), [{ id: '51ce91990cdb80fb62489f7028ffc023d69077fd', worktree: repo }]);
  assert.deepEqual(after.prepare('SELECT directory, project_id FROM session').all(), [{ directory: repo, project_id: '51ce91990cdb80fb62489f7028ffc023d69077fd' }]);
  assert.equal((after.prepare('SELECT count(*) AS n FROM part WHERE session_id = ?').get(NEON) as { n: number }).n, 67);
  after.close();
});

test('the legacy JSON tree alone: messages, edits, and a part file added later', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('oc-tree');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const src = path.join(FIXTURES, 'opencode', 'opencode-1.1.65', 'storage');
  const dst = path.join(m.home, '.local', 'share', 'opencode', 'storage');
  const later: string[] = [];
  const copy = (rel: string) => {
    for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) copy(r);
      else if (r.startsWith('part/msg_c649ea203001V3MqdqiCK69ggF/')) later.push(r);
      else {
        fs.mkdirSync(path.dirname(path.join(dst, r)), { recursive: true });
        fs.writeFileSync(path.join(dst, r), fs.readFileSync(path.join(src, r), 'utf8').split(ROOT).join(repo));
      }
    }
  };
  copy('');
  const imp = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
  assert.deepEqual(imp.warnings, []);
  assert.equal(imp.sessionsNew, 2);
  assert.equal(imp.malformedLines, 0);
  const list = () => ok(m.lore(['sessions', '--json'], { cwd: repo })).then((r) => JSON.parse(r.stdout).sessions as Array<{ id: string; editCount: number; messageCount: number; title: string }>);
  const neon = (await list()).find((s) => s.id === NEON_ID)!;
  assert.equal(neon.title, 'Moonrepo docs scraping to new docs external site');
  assert.equal(neon.messageCount, 10);
  // The message whose parts come later holds one of the two apply_patch calls.
  assert.equal(neon.editCount, 1);
  // Its parts arrive: their folder names only the message, so capture reads each part's sessionID.
  for (const r of later) {
    fs.mkdirSync(path.dirname(path.join(dst, r)), { recursive: true });
    fs.writeFileSync(path.join(dst, r), fs.readFileSync(path.join(src, r), 'utf8').split(ROOT).join(repo));
  }
  const again = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
  assert.deepEqual(again.warnings, []);
  assert.equal(again.sessionsUpdated, 1);
  assert.equal((await list()).find((s) => s.id === NEON_ID)!.editCount, 2);
});

test('edits of edit (whole-file before/after), write and apply_patch (patch text) tool parts; a failed call gives none', () => {
  const sid = 'ses_39b623ce7ffeILPe9UgDcyGicH';
  const line = (table: string, row: Record<string, unknown>) => JSON.stringify({ table, row });
  const part = (id: string, data: Record<string, unknown>) => line('part', { id, message_id: 'msg_a', session_id: sid, time_created: 1, time_updated: 1, data: JSON.stringify(data) });
  const done = (tool: string, input: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ type: 'tool', callID: `call_${tool}`, tool, state: { status: 'completed', input, output: 'ok', metadata, time: { start: 1771214600000, end: 1771214601000 } } });
  const rows = [
    line('message', { id: 'msg_a', session_id: sid, time_created: 1, time_updated: 1, data: JSON.stringify({ role: 'assistant', time: { created: 1771214600000 } }) }),
    // replaceAll: the edit's own strings give one line; the whole file before/after shows both it wrote.
    part('prt_1', done('edit', { filePath: '/r/a.ts', oldString: 'x', newString: 'y', replaceAll: true }, { filediff: { file: '/r/a.ts', before: 'keep\nx\nx\n', after: 'keep\ny\ny\n' } })),
    part('prt_2', done('write', { filePath: '/r/b.ts', content: 'one\ntwo\n' })),
    part('prt_3', done('apply_patch', { patchText: '*** Begin Patch\n*** Add File: /r/c.ts\n+c1\n+c2\n*** End Patch' })),
    part('prt_4', { ...done('edit', { filePath: '/r/d.ts', oldString: 'a', newString: 'b' }), state: { status: 'error', input: { filePath: '/r/d.ts', oldString: 'a', newString: 'b' }, error: 'oldString not found' } }),
    line('session', { id: sid, project_id: 'p', parent_id: null, directory: '/r', title: 'T', version: '1.18.33', time_created: 1771214600000, time_updated: 1771214602000 }),
  ];
  const source = new OpenCodeSource('/nowhere', { unreadable: () => undefined }, { HOME: '/nowhere' });
  const s = source.parse(NEON_ID, [{ path: `opencode/db/${sid}.jsonl`, data: Buffer.from(`${rows.join('\n')}\n`), mtimeMs: 0 }]);
  assert.deepEqual(s.edits.map((e) => [e.toolName, e.path, e.op, e.added]), [
    ['edit', '/r/a.ts', 'edit', ['y', 'y']],
    ['write', '/r/b.ts', 'write', ['one', 'two']],
    ['apply_patch', '/r/c.ts', 'add', ['c1', 'c2']],
  ]);
  assert.equal(s.edits[0]!.ts, new Date(1771214601000).toISOString());
  assert.equal(s.cwd, '/r');
  assert.equal(s.messageCount, 1);
  assert.equal(s.malformedLines, 0);
});
