import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  CODEX_FIXTURE, FIXTURES, FIXTURE_CWDS, Machine, SKIP_NO_FIXTURES, claudeProjectDir, placeFixtures,
} from '../helpers/machine.js';
import { importSessions } from '../../src/core/import.js';
import { listSessions, showSession } from '../../src/core/sessions.js';
import { storedFiles } from '../../src/core/sessions.js';

/** Independent count of Claude Code messages: user lines by uuid, assistant replies by message.id. */
function claudeCount(files: string[]): number {
  let n = 0;
  for (const f of files) {
    const keys = new Set<string>();
    for (const raw of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!raw.trim()) continue;
      const o = JSON.parse(raw);
      if (o.type === 'user' && o.message) keys.add(`u${o.uuid}`);
      if (o.type === 'assistant' && o.message) keys.add(`a${o.message.id}`);
    }
    n += keys.size;
  }
  return n;
}

test('import of every real fixture: listed once, subagents attached, counts and edits right', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('a');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const { claude, codex } = placeFixtures(m, repo);

  const imp = await m.lore(['import'], { cwd: repo });
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /imported 6 new and 0 updated sessions/);
  const res = await m.lore(['sessions', '--json'], { cwd: repo });
  assert.equal(res.code, 0, res.stderr);
  const list = JSON.parse(res.stdout) as { version: number; repository: string; sessions: Array<Record<string, any>> };
  assert.equal(list.version, 1);
  assert.equal(list.repository, repo);
  const ids = list.sessions.map((s) => s.id).sort();
  assert.deepEqual(ids, [...claude, codex].sort(), 'every session exactly once; subagent files are not sessions');

  const byId = new Map(list.sessions.map((s) => [s.id, s]));
  for (const id of Object.keys(FIXTURE_CWDS)) {
    const sub = path.join(FIXTURES, 'claude-code', id, 'subagents');
    const subFiles = fs.existsSync(sub) ? fs.readdirSync(sub).map((f) => path.join(sub, f)) : [];
    const s = byId.get(id)!;
    assert.equal(s.tool, 'claude-code');
    assert.equal(s.repository, repo);
    assert.equal(s.subagentCount, subFiles.length, `${id} subagents`);
    assert.equal(s.messageCount, claudeCount([path.join(FIXTURES, 'claude-code', `${id}.jsonl`), ...subFiles]), `${id} message count`);
  }
  // Checked by hand against the files: 5c0375b4 has 25 user lines and 28 assistant lines sharing 20 ids.
  assert.equal(byId.get('5c0375b4-57a5-4f26-b12d-d022ee4e51b7')!.messageCount, 45);
  assert.equal(byId.get('0ccf1a04-1b4c-43b6-8aa5-79e41db43a68')!.subagentCount, 5);

  // Codex: 13 user-role items (12 prompts + the environment context), each prompt also an event: counted once.
  const cx = await m.lore(['show', '--json', codex.slice(0, 8)], { cwd: repo });
  assert.equal(cx.code, 0, cx.stderr);
  const cxd = JSON.parse(cx.stdout);
  assert.equal(cxd.messages.filter((x: any) => x.role === 'user').length, 12);
  assert.equal(cxd.messages.filter((x: any) => x.role === 'system').length, 1);
  assert.equal(byId.get(codex)!.messageCount, cxd.messages.length);
  assert.equal(byId.get(codex)!.branch, null);
  // 75 apply_patch calls, 2 of which failed verification: 17 adds, 55 updates, 1 delete.
  const ops: Record<string, number> = {};
  for (const e of cxd.edits) ops[e.op] = (ops[e.op] ?? 0) + 1;
  assert.deepEqual(ops, { add: 17, update: 55, delete: 1 });
  const first = cxd.edits[0];
  assert.equal(first.file, 'index.html');
  assert.equal(first.added.length, 118);
  assert.equal(first.added[0], '<!DOCTYPE html>');
  assert.ok(cxd.edits.every((e: any) => !path.isAbsolute(e.file)), 'codex edit paths are repository-relative');
  assert.ok(cxd.edits.some((e: any) => e.file === 'assets/pieces/wK.svg' && e.op === 'add'));
  assert.deepEqual(cxd.edits.filter((e: any) => e.op === 'delete').map((e: any) => e.file), ['app.js']);

  // Claude: the MultiEdit of CLAUDE.md (structuredPatch), and the failed Edit that must not count.
  const md = JSON.parse((await m.lore(['show', '--json', '5c0375b4'], { cwd: repo })).stdout);
  assert.equal(md.edits.length, 1);
  assert.equal(md.edits[0].file, 'CLAUDE.md');
  assert.equal(md.edits[0].op, 'multiedit');
  assert.equal(md.edits[0].added.length, 64);
  assert.ok(md.edits[0].added.includes('A fully functional TODO application built with Next.js 15.5.2, React 19.1.0, TypeScript, and Tailwind CSS v4. Features modern React patterns, comprehensive state management, and persistent storage.'));
  const w = JSON.parse((await m.lore(['show', '--json', '1af7fc5e'], { cwd: repo })).stdout);
  assert.equal(w.edits.length, 0, 'the Write was refused by a permission prompt');
  const e4 = JSON.parse((await m.lore(['show', '--json', '1656b075'], { cwd: repo })).stdout);
  assert.deepEqual(e4.edits.map((e: any) => e.added), [
    ['It contains the word goodbye in the middle.'],
    ['This file has bar repeated several times.'],
    ['This file has baz repeated several times.'],
    ['  const NEW_CODE = true;', '  if (NEW_CODE) {', '    console.log("new implementation");'],
  ]);
  assert.ok(e4.edits.every((e: any) => e.file.endsWith('.txt') && path.isAbsolute(e.file)), 'edits outside the repository stay absolute');

  // The bundle is a lossless copy: byte-identical native files.
  const ctx = m.ctx(repo);
  try {
    const files = storedFiles(ctx, '0ccf1a04-1b4c-43b6-8aa5-79e41db43a68');
    assert.equal(files.length, 6);
    const main = files.find((f) => f.path.endsWith('0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl'))!;
    assert.deepEqual(main.data, fs.readFileSync(path.join(claudeProjectDir(m.claudeDir, repo), '0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl')));
  } finally {
    ctx.close();
  }
  const text = await m.lore(['show', codex.slice(0, 6)], { cwd: repo });
  assert.match(text.stdout, /index\.html \+118/);
  assert.ok(fs.existsSync(path.join(m.codexHome, 'sessions/2025/11/22', CODEX_FIXTURE)));
});

const SID = (n: number) => `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, '0')}`;
function writeClaude(m: Machine, cwd: string, id: string, lines: string[]): string {
  const file = path.join(claudeProjectDir(m.claudeDir, cwd), `${id}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}
const userLine = (id: string, cwd: string, uuid: string, text: string) =>
  JSON.stringify({ type: 'user', sessionId: id, cwd, uuid, timestamp: `2026-01-01T00:00:0${uuid.length % 10}Z`, message: { role: 'user', content: text } });

test('bad input: malformed lines, unreadable and oversized files are reported; good sessions still import', async () => {
  const m = new Machine('bad');
  const repo = m.initRepo(path.join(m.home, 'repo'));
  writeClaude(m, repo, SID(1), [userLine(SID(1), repo, 'u1', 'good one'), '{"type":"user","trunc']);
  writeClaude(m, repo, SID(2), [userLine(SID(2), repo, 'u1', 'also good'), 'not json at all', '\x00\x01\x02\xff', JSON.stringify({ type: 'from-the-future', sessionId: SID(2) })]);
  fs.symlinkSync('/nonexistent/target', path.join(claudeProjectDir(m.claudeDir, repo), `${SID(3)}.jsonl`));
  writeClaude(m, repo, SID(4), [userLine(SID(4), repo, 'u1', 'x'.repeat(5000))]);
  const ctx = m.ctx(repo, { LORE_MAX_FILE_BYTES: '4096' });
  try {
    const s = await importSessions(ctx);
    assert.equal(s.sessionsNew, 2);
    assert.equal(s.malformedLines, 3);
    assert.equal(s.unknownLines, 1);
    assert.equal(s.unreadableFiles.length, 1);
    assert.match(s.unreadableFiles[0]!, new RegExp(SID(3)));
    assert.equal(s.tooLargeFiles.length, 1);
    assert.ok(s.warnings.some((w) => w.includes(SID(4)) && w.includes('LORE_MAX_FILE_BYTES')), s.warnings.join('\n'));
    const list = await listSessions(ctx, { all: false });
    assert.deepEqual(list.sessions.map((x) => x.id).sort(), [SID(1), SID(2)]);
  } finally {
    ctx.close();
  }
  // The CLI says it too, and still exits 0.
  const r = await m.lore(['import'], { cwd: repo, env: { LORE_MAX_FILE_BYTES: '4096' } });
  assert.equal(r.code, 0);
});

test('incremental: nothing changed reads nothing; a grown transcript updates only its session; deleted files survive', async () => {
  const m = new Machine('inc');
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const f1 = writeClaude(m, repo, SID(1), [userLine(SID(1), repo, 'u1', 'first')]);
  writeClaude(m, repo, SID(2), [userLine(SID(2), repo, 'u1', 'second')]);
  let t = 0;
  const ctx = m.ctx(repo);
  (ctx.env as { now: () => Date }).now = () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++));
  try {
    const a = await importSessions(ctx);
    assert.equal(a.sessionsNew, 2);
    const b = await importSessions(ctx);
    assert.deepEqual([b.filesRead, b.sessionsNew, b.sessionsUpdated], [0, 0, 0]);
    const before = ctx.db.getSession(SID(2))!.imported_at;
    fs.appendFileSync(f1, `\n${userLine(SID(1), repo, 'u22', 'grown')}`);
    const c = await importSessions(ctx);
    assert.deepEqual([c.filesRead, c.sessionsNew, c.sessionsUpdated], [1, 0, 1]);
    assert.equal(ctx.db.getSession(SID(1))!.message_count, 2);
    assert.equal(ctx.db.getSession(SID(2))!.imported_at, before, 'the other session was not rewritten');
    // A subagent file appears, then the agent deletes its main transcript: nothing is lost.
    const sub = path.join(claudeProjectDir(m.claudeDir, repo), SID(1), 'subagents', 'agent-x1.jsonl');
    fs.mkdirSync(path.dirname(sub), { recursive: true });
    fs.writeFileSync(sub, userLine(SID(1), repo, 'sub1', 'sub work'));
    fs.rmSync(f1);
    const d = await importSessions(ctx);
    assert.equal(d.sessionsUpdated, 1);
    const row = ctx.db.getSession(SID(1))!;
    assert.equal(row.message_count, 3);
    assert.equal(row.subagent_count, 1);
    const files = storedFiles(ctx, SID(1)).map((f) => path.basename(f.path)).sort();
    assert.deepEqual(files, ['aaaaaaaa-0000-4000-8000-000000000001.jsonl', 'agent-x1.jsonl']);
  } finally {
    ctx.close();
  }
});

test('scoping: symlinked cwd, linked worktree, and sessions outside any repository', async () => {
  const m = new Machine('scope');
  const repo = m.initRepo(path.join(m.home, 'main-repo'));
  const link = path.join(m.home, 'link-to-repo');
  fs.symlinkSync(repo, link);
  const wt = path.join(m.home, 'wt');
  m.git(repo, 'worktree', 'add', '-q', wt, '-b', 'feature');
  const outside = path.join(m.home, 'plain-folder');
  fs.mkdirSync(outside);
  const edit = (id: string, cwd: string, file: string) =>
    JSON.stringify({ type: 'assistant', sessionId: id, cwd, uuid: 'a1', timestamp: '2026-01-01T00:00:01Z', message: { id: 'm1', role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: file, content: 'hello world\n' } }] } });
  writeClaude(m, link, SID(1), [userLine(SID(1), link, 'u1', 'via symlink'), edit(SID(1), link, `${link}/src/a.ts`)]);
  writeClaude(m, wt, SID(2), [userLine(SID(2), wt, 'u1', 'in worktree'), edit(SID(2), wt, `${wt}/src/b.ts`)]);
  writeClaude(m, outside, SID(3), [userLine(SID(3), outside, 'u1', 'no repo')]);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    const inRepo = await listSessions(ctx, { all: false });
    assert.deepEqual(inRepo.sessions.map((s) => s.id).sort(), [SID(1), SID(2)]);
    assert.deepEqual((await showSession(ctx, SID(1))).edits.map((e) => e.file), ['src/a.ts']);
    assert.deepEqual((await showSession(ctx, SID(2))).edits.map((e) => e.file), ['src/b.ts']);
    const all = await listSessions(ctx, { all: true });
    assert.equal(all.sessions.find((s) => s.id === SID(3))?.repository, null);
  } finally {
    ctx.close();
  }
  const fromWt = await m.lore(['sessions', '--json'], { cwd: wt });
  assert.equal(JSON.parse(fromWt.stdout).sessions.length, 2, 'a worktree sees its main repository\'s sessions');
});
