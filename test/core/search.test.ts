import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { ftsQuery, searchSessions } from '../../src/core/search.js';
import { importSessions } from '../../src/core/import.js';
import { indexedTexts, updateSearchIndex } from '../../src/core/search-index.js';
import { sources } from '../../src/core/import.js';
import { SEARCH_INDEX_SCHEMA } from '../../src/store/search-index.js';
import type { LoreContext } from '../../src/core/context.js';

const replyLine = (id: string, cwd: string, msgId: string, text: string, t: number) =>
  JSON.stringify({
    type: 'assistant', sessionId: id, cwd, uuid: `${msgId}-u`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString(),
    message: { id: msgId, role: 'assistant', model: 'claude-opus-4-5-20251101', content: [{ type: 'text', text }] },
  });

/** Every indexed text of a session, in order (after the index caught up): its rows, each text parsed again from the piece store. */
async function indexed(ctx: LoreContext, id: string): Promise<string[]> {
  const all = sources(ctx, { unreadable: () => undefined });
  await updateSearchIndex(ctx, all);
  assert.deepEqual(ctx.db.search.pending(), [], 'nothing left pending');
  const rows = ctx.db.search.rowsOf(id);
  const texts = indexedTexts(ctx, all, rows);
  assert.equal(texts.length, rows.length, 'every row finds its text in the piece store');
  return texts.map((t) => t.text);
}

/** What a rebuild from the stored files gives for the same session: the reference the incremental index must equal. */
async function rebuilt(ctx: LoreContext, id: string): Promise<string[]> {
  ctx.db.search.markStale();
  return indexed(ctx, id);
}

test('ftsQuery: words and "phrases" quoted, operators read as words, prefix kept, junk dropped', () => {
  assert.equal(ftsQuery('retry backoff'), '"retry" "backoff"');
  assert.equal(ftsQuery('"retry with backoff" jitter'), '"retry with backoff" "jitter"');
  assert.equal(ftsQuery('cache OR NOT (db)'), '"cache" "OR" "NOT" "(db)"');
  assert.equal(ftsQuery('text:foo NEAR(a b) ^start +x'), '"text:foo" "NEAR(a" "b)" "^start" "+x"');
  assert.equal(ftsQuery('migrat*'), '"migrat"*');
  assert.equal(ftsQuery('"unclosed phrase'), '"unclosed phrase"');
  assert.equal(ftsQuery('say "he said ""hi"""'), '"say" "he said " "hi"');
  assert.equal(ftsQuery('*** -- ""  ()'), null);
  assert.equal(ftsQuery('a\u0000b'), '"a" "b"');
});

test('any typed query runs against a real FTS5 table without an error (property)', () => {
  const db = new Database(':memory:');
  db.exec(SEARCH_INDEX_SCHEMA);
  db.prepare("INSERT INTO message_fts (rowid, text) VALUES (1, 'retry with backoff and jitter')").run();
  const stmt = db.prepare('SELECT count(*) FROM message_fts WHERE message_fts MATCH ?').pluck();
  const alphabet = fc.constantFrom('a', 'b', 'retry', ' ', '"', '*', '(', ')', ':', '^', '+', '-', 'AND', 'OR', 'NOT', 'NEAR', '{', '}', ',', 'é', '\u0000', '\\');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 12 }).map((xs) => xs.join('')), (input) => {
      const q = ftsQuery(input);
      if (q !== null) stmt.get(q);
    }),
    { numRuns: 2000, seed: 18 },
  );
  // The property can fail: the raw input does crash FTS5.
  assert.throws(() => stmt.get('retry AND ('));
  db.close();
});

test('ranking: the closer match first, equal matches most recent first; filters; exit codes and JSON', async () => {
  const m = new Machine('rank');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const other = m.initRepo(path.join(m.home, 'other'));
  const old = uuid(1, 'b');
  const recent = uuid(2, 'b');
  const noisy = uuid(3, 'b');
  const elsewhere = uuid(4, 'b');
  writeSession(m, repo, old, [userLine(old, repo, 'o1', 'why is the flaky retry backoff test failing', 1)]);
  writeSession(m, repo, recent, [userLine(recent, repo, 'r1', 'why is the flaky retry backoff test failing', 50)]);
  const filler = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
  writeSession(m, repo, noisy, [userLine(noisy, repo, 'n1', 'hello', 20), replyLine(noisy, repo, 'm1', `${filler} backoff ${filler}`, 21)]);
  writeSession(m, other, elsewhere, [userLine(elsewhere, other, 'e1', 'backoff in another repository', 30)]);

  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    const r = await searchSessions(ctx, { query: 'backoff' });
    assert.deepEqual(r.results.map((x) => x.id), [recent, old, noisy], 'same text: recent first; the long reply last; other repository out');
    assert.equal(r.results[2]!.role, 'assistant');
    assert.match(r.results[0]!.snippet, /\uE000backoff\uE001/);
    assert.deepEqual((await searchSessions(ctx, { query: 'backoff', all: true })).results.map((x) => x.id).sort(), [old, recent, noisy, elsewhere].sort());
    assert.deepEqual((await searchSessions(ctx, { query: '"retry backoff"' })).results.map((x) => x.id), [recent, old]);
    assert.deepEqual((await searchSessions(ctx, { query: '"backoff retry"' })).results, [], 'a phrase keeps its order');
    assert.deepEqual((await searchSessions(ctx, { query: 'backoff', since: '2026-01-01T00:00:40Z' })).results.map((x) => x.id), [recent]);
    assert.equal((await searchSessions(ctx, { query: 'backoff', tool: 'codex' })).results.length, 0);
    assert.equal((await searchSessions(ctx, { query: 'backoff', authorMachine: 'me' })).results.length, 3);
    assert.equal((await searchSessions(ctx, { query: 'backoff', authorMachine: 'ffff' })).results.length, 0);
    assert.deepEqual((await searchSessions(ctx, { query: 'backoff', limit: 1 })).results.map((x) => x.id), [recent]);
    assert.equal((await searchSessions(ctx, { query: 'fail*' })).results.length, 2, 'prefix');
    assert.equal((await searchSessions(ctx, { query: 'failed' })).results.length, 2, 'stemmed: failed finds failing');
  } finally {
    ctx.close();
  }

  const hit = await m.lore(['search', '--json', 'flaky', '(backoff)', '^why', '+retry'], { cwd: repo });
  assert.equal(hit.code, 0, hit.stderr);
  const json = JSON.parse(hit.stdout);
  assert.equal(json.version, 1);
  assert.equal(json.query, 'flaky (backoff) ^why +retry');
  assert.deepEqual(json.results.map((x: { id: string }) => x.id), [recent, old]);
  assert.equal(json.results[0].snippet, '**why** is the **flaky** **retry** **backoff** test failing');
  assert.deepEqual(Object.keys(json.results[0]).sort(), ['id', 'kind', 'machine', 'origin', 'role', 'score', 'snippet', 'title', 'tool', 'toolName', 'ts'].sort());
  assert.equal(json.truncated, false, 'two matches: all ranked');
  const none = await m.lore(['search', 'zebra'], { cwd: repo });
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /no message matches "zebra"/);
  // The command's capture runs beside the search: a session written since is found (the index catches up).
  const late = uuid(11, 'b');
  writeSession(m, repo, late, [userLine(late, repo, 'l1', 'a pangolin appears late', 60)]);
  const found = await m.lore(['search', '--json', 'pangolin'], { cwd: repo });
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(JSON.parse(found.stdout).results.map((x: { id: string }) => x.id), [late]);
  const human = await m.lore(['search', 'retry'], { cwd: repo });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^${recent} claude-code 2026-01-01 00:00 user`));
  for (const bad of [['search', '***'], ['search', 'x', '--since', 'yesterday'], ['search', 'x', '-n', '0'], ['search', 'x', '--tool', 'vim'], ['search']]) {
    const r = await m.lore(bad, { cwd: repo });
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
  }
});

test('a query matching more texts than the cap ranks only the most recently indexed ones, and says so', async () => {
  const m = new Machine('cap');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const [oldest, middle, newest] = [uuid(7, 'a'), uuid(8, 'a'), uuid(9, 'a')];
  // The oldest session holds the best match; the index walks sessions oldest first, so it gets the lowest row id.
  writeSession(m, repo, oldest, [userLine(oldest, repo, 'x1', 'capybara capybara capybara capybara', 1)]);
  writeSession(m, repo, middle, [userLine(middle, repo, 'y1', 'a capybara among many other words in a longer prompt about nothing much at all', 2)]);
  writeSession(m, repo, newest, [userLine(newest, repo, 'z1', 'one capybara with several other words in a longer prompt about something else', 3)]);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    const all = await searchSessions(ctx, { query: 'capybara' });
    assert.equal(all.truncated, false);
    assert.equal(all.results[0]!.id, oldest, 'ranked whole, the best match comes first');
    assert.equal(all.results.length, 3);
    const capped = await searchSessions(ctx, { query: 'capybara', maxCandidates: 2 });
    assert.equal(capped.truncated, true, 'three matched, two ranked');
    assert.deepEqual(capped.results.map((r) => r.id).sort(), [middle, newest].sort(), 'the two most recent are ranked');
    assert.equal((await searchSessions(ctx, { query: 'capybara', maxCandidates: 3 })).truncated, false, 'exactly the cap: not truncated');
    // Filters apply before the cap: the oldest session alone (by time) is found whole.
    const since = await searchSessions(ctx, { query: 'capybara', maxCandidates: 1, since: '2026-01-01T00:00:03Z' });
    assert.deepEqual([since.truncated, since.results.map((r) => r.id)], [false, [newest]]);
    await assert.rejects(searchSessions(ctx, { query: 'capybara', maxCandidates: 0 }), /invalid maxCandidates/);
  } finally {
    ctx.close();
  }
});

test('the index keeps no text: lore.db holds no message, snippets are parsed again from the pieces, across blocks', async () => {
  const m = new Machine('nocontent');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(10, 'e');
  const secret = 'the xylophonist tuned seventeen marimbas before breakfast';
  const filler = (i: number) => `${'lorem ipsum dolor sit amet '.repeat(40)} filler ${i}`;
  // About 700 KB: several pieces (64 KiB on average), so the match sits in a later block than the first.
  const lines = [userLine(id, repo, 'p0', 'first prompt', 0)];
  for (let i = 1; i < 600; i++) lines.push(replyLine(id, repo, `r${i}`, filler(i), i));
  lines.push(replyLine(id, repo, 'r600', `late in the session, ${secret}.`, 600));
  for (let i = 601; i < 650; i++) lines.push(replyLine(id, repo, `r${i}`, filler(i), i));
  writeSession(m, repo, id, lines);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    const r = await searchSessions(ctx, { query: 'xylophonist marimbas' });
    assert.equal(r.results.length, 1);
    assert.match(r.results[0]!.snippet, /\uE000xylophonist\uE001 tuned seventeen \uE000marimbas\uE001 before breakfast/);
    const raw = new Database(path.join(ctx.paths.loreHome, 'lore.db'), { readonly: true });
    const blocks = raw.prepare('SELECT count(DISTINCT m.off) FROM message_text m JOIN message_file f ON f.id = m.file WHERE f.session_id = ?').pluck().get(id) as number;
    raw.close();
    assert.ok(blocks > 1, `the transcript was indexed in ${blocks} blocks`);
    assert.equal((await searchSessions(ctx, { query: 'filler', limit: 1000 })).results.length, 648, 'every block\'s texts found and shown');
  } finally {
    ctx.close();
  }
  const db = new Database(path.join(m.vars.LORE_HOME!, 'lore.db'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  for (const f of fs.readdirSync(m.vars.LORE_HOME!).filter((n) => n.startsWith('lore.db'))) {
    assert.ok(!fs.readFileSync(path.join(m.vars.LORE_HOME!, f)).includes(secret), `${f} does not hold the message's text`);
  }
});

test('index in step: growth indexes only new whole lines, no duplicates; equals a rebuild', async () => {
  const m = new Machine('grow');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(5, 'c');
  const file = writeSession(m, repo, id, [userLine(id, repo, 'g1', 'first prompt about zanzibar', 1)]);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    assert.deepEqual(await indexed(ctx, id), ['first prompt about zanzibar']);
    // An agent is writing a line: not indexed until it ends.
    fs.appendFileSync(file, replyLine(id, repo, 'm2', 'half written reply about quokkas', 2));
    await importSessions(ctx);
    assert.deepEqual((await searchSessions(ctx, { query: 'quokkas' })).results, []);
    fs.appendFileSync(file, `\n${userLine(id, repo, 'g3', 'third: quokkas again', 3)}\n`);
    await importSessions(ctx);
    assert.deepEqual(await indexed(ctx, id), ['first prompt about zanzibar', 'half written reply about quokkas', 'third: quokkas again']);
    assert.equal((await searchSessions(ctx, { query: 'quokkas' })).results.length, 2);
    assert.deepEqual(await indexed(ctx, id), await rebuilt(ctx, id));
  } finally {
    ctx.close();
  }
});

test('index in step after a merge from sync, on both machines; rebuilt after the v5 migration', async () => {
  const a = new Machine('ia');
  const b = new Machine('ib');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const repoB = cloneOn(b, bare);
  const id = uuid(6, 'd');
  writeSession(a, repoA, id, [userLine(id, repoA, 'u1', 'shared start', 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repoA }));
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync'], { cwd: repoB }));
  writeSession(b, repoB, id, [userLine(id, repoB, 'u1', 'shared start', 1)]);
  writeSession(a, repoA, id, [userLine(id, repoA, 'a2', 'walrus on A', 2)], true);
  writeSession(b, repoB, id, [userLine(id, repoB, 'b3', 'walrus on B', 3)], true);
  for (let round = 0; round < 2; round++) {
    await ok(a.lore(['sync'], { cwd: repoA }));
    await ok(b.lore(['sync'], { cwd: repoB }));
  }
  for (const [m, repo] of [[a, repoA], [b, repoB]] as const) {
    const r = await ok(m.lore(['search', '--json', 'walrus'], { cwd: repo }));
    assert.deepEqual(JSON.parse(r.stdout).results.map((x: { snippet: string }) => x.snippet).sort(), ['**walrus** on A', '**walrus** on B'], `${m.name}`);
    const ctx = m.ctx(repo);
    try {
      assert.deepEqual((await indexed(ctx, id)).sort(), ['shared start', 'walrus on A', 'walrus on B']);
      assert.deepEqual((await indexed(ctx, id)).sort(), (await rebuilt(ctx, id)).sort());
    } finally {
      ctx.close();
    }
  }

  // A store from before the index (v4): the migration asks for a rebuild, the first search does it.
  const dbFile = path.join(a.vars.LORE_HOME!, 'lore.db');
  const raw = new Database(dbFile);
  raw.exec('DROP TABLE message_fts; DROP TABLE message_text; DROP TABLE message_pending; DROP TABLE message_file; PRAGMA user_version = 4;');
  raw.close();
  const r = await ok(a.lore(['search', '--json', 'walrus'], { cwd: repoA }));
  assert.equal(JSON.parse(r.stdout).results.length, 2);
});
