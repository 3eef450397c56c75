import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AiderSource, aider, aiderSessionId } from '../../src/sources/aider.js';
import { aiderTime } from '../../src/sources/aider-parse.js';
import { RestoreRefused } from '../../src/sources/types.js';
import { Machine, tmpdir } from '../helpers/machine.js';
import { ok } from '../helpers/repos.js';

const report = { unreadable: () => undefined };
const CHAT = 'aider/.aider.chat.history.md';
const parse = (text: string) => new AiderSource(null, null, null, report).parse('s', [{ path: CHAT, data: Buffer.from(text), mtimeMs: 0 }]);

const HISTORY = [
  '',
  '# aider chat started at 2025-12-03 14:43:45',
  '',
  '> aider --model gpt-4o  ',
  '> Aider v0.86.1  ',
  '',
  '#### add a helper  ',
  '',
  'Here are the blocks:',
  '',
  'src/a.py',
  '```python',
  '<<<<<<< SEARCH',
  'x = 1',
  '=======',
  'x = 1',
  'y = 2',
  '> not a tool line inside a block',
  '>>>>>>> REPLACE',
  '```',
  '',
  'src/b.py',
  '```python',
  '<<<<<<< SEARCH',
  '=======',
  'b = 1',
  '>>>>>>> REPLACE',
  '```',
  '',
  '> Tokens: 2.4k sent  ',
  '> Applied edit to src/a.py  ',
  '',
  '#### next  ',
  '',
  'src/c.py',
  '```',
  '<<<<<<< SEARCH',
  '=======',
  'never applied',
  '>>>>>>> REPLACE',
  '```',
  '',
  '> src/c.py: SearchReplaceNoExactMatch  ',
  '',
  '#### /ask and now?  ',
  '',
  'src/d.py',
  '```',
  '<<<<<<< SEARCH',
  '=======',
  'pending',
  '>>>>>>> REPLACE',
  '```',
  '',
].join('\n');

test('aider: only blocks a later "Applied edit to" names count, with their exact added lines; the last reply\'s are pending', () => {
  const s = parse(HISTORY);
  assert.deepEqual(s.edits.map((e) => [e.path, e.op, e.added]), [
    ['src/a.py', 'edit', ['y = 2', '> not a tool line inside a block']],
    ['src/d.py', 'write', ['pending']],
  ]);
  assert.equal(s.edits[0]!.ts, aiderTime('2025-12-03 14:43:45'));
  assert.equal(s.toolVersion, '0.86.1');
  assert.equal(s.title, 'add a helper');
  assert.equal(s.messageCount, 6);
  assert.equal(s.messages.find((m) => m.role === 'user')!.text, 'add a helper');
});

test('aider: the session id comes from the first run header only, and has the shape commands accept', () => {
  const id = aiderSessionId(HISTORY)!;
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(aiderSessionId(`${HISTORY}\n# aider chat started at 2026-01-01 00:00:00\n`), id);
  assert.notEqual(aiderSessionId(HISTORY.replace('14:43:45', '14:43:46')), id);
  assert.equal(aiderSessionId('#### no header yet\n'), null);
});

test('aider: restore writes only the two history files, into the work tree', () => {
  const src = new AiderSource(null, null, null, report);
  const id = aiderSessionId(HISTORY)!;
  assert.equal(src.restoreTarget(CHAT, id, '/clone'), '/clone/.aider.chat.history.md');
  assert.equal(src.restoreTarget('aider/.aider.input.history', id, '/clone'), '/clone/.aider.input.history');
  for (const bad of ['aider/.aider.conf.yml', 'aider/../x', 'aider/sub/.aider.chat.history.md']) assert.throws(() => src.restoreTarget(bad, id, '/clone'), RestoreRefused);
  assert.throws(() => src.restoreTarget(CHAT, 'not-an-aider-id', '/clone'), RestoreRefused);
  // No cwd (the hook shims' view): no roots, nothing found.
  assert.deepEqual(aider.create('/x', report, {}).roots, []);
});

test('aider: capture finds the history in the work tree it runs in, sees it grow through the listing, and restore never clobbers another history', async () => {
  const m = new Machine('aider-grow');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const chat = path.join(repo, '.aider.chat.history.md');
  fs.writeFileSync(chat, HISTORY.slice(0, HISTORY.indexOf('#### next')));
  fs.mkdirSync(path.join(repo, 'sub'));
  const first = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: path.join(repo, 'sub') }))).stdout);
  assert.equal(first.sessionsNew, 1);
  const again = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
  assert.equal(again.sessionsNew + again.sessionsUpdated, 0);
  // Appended with the same size-changing write: the listing's digest changes, capture reads it.
  fs.appendFileSync(chat, HISTORY.slice(HISTORY.indexOf('#### next')));
  const grown = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
  assert.equal(grown.sessionsUpdated, 1);
  const id = aiderSessionId(HISTORY)!;
  const shown = JSON.parse((await ok(m.lore(['show', '--json', id], { cwd: repo }))).stdout);
  assert.ok(shown.messages.some((x: { text: string }) => x.text.includes('/ask and now?')), 'the appended run is shown');
  // Another history where restore would write it: refused, nothing written.
  fs.writeFileSync(chat, '# aider chat started at 2030-01-01 00:00:00\n');
  const r = await m.lore(['restore', id], { cwd: repo });
  assert.notEqual(r.code, 0);
  assert.equal(fs.readFileSync(chat, 'utf8'), '# aider chat started at 2030-01-01 00:00:00\n');
  fs.rmSync(chat);
  await ok(m.lore(['restore', id], { cwd: repo }));
  assert.equal(fs.readFileSync(chat, 'utf8'), HISTORY);
});

test('aider: a history file as a capture root is listed alone (empty path), beside folder roots', async () => {
  const { listRoots } = await import('../../src/sources/listing.js');
  const m = new Machine('aider-listing');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const chat = path.join(repo, '.aider.chat.history.md');
  fs.writeFileSync(chat, HISTORY);
  const folder = path.join(m.home, 'agent');
  fs.mkdirSync(path.join(folder, 'x'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'x', 'a.jsonl'), '{}\n');
  const listing = await listRoots([folder, chat], 4, m.vars);
  assert.ok(listing, 'find lists a file root');
  assert.deepEqual(listing.byRoot.get(chat)?.map((f) => [f.rel, f.size]), [['', Buffer.byteLength(HISTORY)]]);
  assert.deepEqual(listing.byRoot.get(folder)?.map((f) => f.rel), ['x/a.jsonl'], 'the folder root is still answered from the listing');
  const src = aider.create(chat, report, { AIDER_CHAT_HISTORY_FILE: chat }, repo);
  assert.deepEqual(src.discover(listing).map((f) => [f.absPath, f.bundlePath, f.cwd]), [[chat, CHAT, repo]]);
});

test('aider: plantDemo appends runs aider-style; the session keeps the first run\'s id and credits each write', () => {
  const dir = tmpdir('lore-aider-demo-');
  const file = path.join(dir, 'history', '.aider.chat.history.md');
  const at = (s: number) => new Date(Date.UTC(2026, 0, 10, 12, 0, s)).toISOString();
  const a = aider.plantDemo!(file, dir, path.join(dir, 'src/a.js'), 'export const a = 1;\nexport const b = 2;\n', at);
  const b = aider.plantDemo!(file, dir, path.join(dir, 'src/b.js'), 'export const c = 3;\n', (s) => at(s + 30));
  assert.equal(a.sessionId, b.sessionId);
  const s = new AiderSource(null, null, null, report).parse(a.sessionId, [{ path: CHAT, data: fs.readFileSync(file), mtimeMs: 0 }]);
  assert.deepEqual(s.edits.map((e) => [e.path, e.added, e.ts]), [
    ['src/a.js', ['export const a = 1;', 'export const b = 2;'], at(0)],
    ['src/b.js', ['export const c = 3;'], at(30)],
  ]);
});
