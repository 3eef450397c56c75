import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClineSource, cline } from '../../src/sources/cline.js';
import { replaceInFileAdded } from '../../src/sources/cline-parse.js';
import { RestoreRefused } from '../../src/sources/types.js';
import { ROOT, tmpdir } from '../helpers/machine.js';

const report = { unreadable: () => undefined };
const ID = '1767700000000';
const api = (msgs: object[]) => ({ path: `cline/tasks/${ID}/api_conversation_history.json`, data: Buffer.from(JSON.stringify(msgs)), mtimeMs: 0 });

test('cline: replace_in_file gives the exact lines each SEARCH/REPLACE block added (new and legacy markers)', () => {
  const diff = [
    '------- SEARCH', 'a', 'b', '=======', 'a', 'B', 'c', '+++++++ REPLACE',
    '<<<<<<< SEARCH', 'x', '=======', 'x', 'x2', '>>>>>>> REPLACE',
    '=======', 'not in a block',
  ].join('\n');
  assert.deepEqual(replaceInFileAdded(diff), ['B', 'c', 'x2']);
});

test('cline: the synthetic task gives its three saved edits, not the denied one, with cwd and title', () => {
  const dir = path.join(ROOT, 'test', 'fixtures', 'cline', 'tasks', ID);
  const files = fs.readdirSync(dir).map((n) => ({ path: `cline/tasks/${ID}/${n}`, data: fs.readFileSync(path.join(dir, n)), mtimeMs: 0 }));
  const s = new ClineSource(['/nowhere'], report).parse(ID, files);
  assert.equal(s.cwd, '/home/dev/notes-app');
  assert.equal(s.title, 'Add a median() helper in src/stats.js and use it in src/index.js');
  assert.equal(s.messageCount, 10);
  assert.deepEqual(s.edits.map((e) => [e.toolName, e.path, e.op]), [
    ['write_to_file', 'src/stats.js', 'write'],
    ['replace_in_file', 'src/index.js', 'edit'],
    ['write_to_file', '/home/dev/notes-app/test/stats.test.js', 'write'],
  ]);
  assert.equal(s.edits[0]!.added.length, 8);
  assert.deepEqual(s.edits[1]!.added, ["import { median } from './stats.js';", '', "console.log('median', median(data));"]);
  assert.equal(s.edits[1]!.ts, new Date(Number(ID) + 46000).toISOString());
});

test('cline: a call with no result yet is pending; a failed one is no edit; bad JSON is counted, not thrown', () => {
  const src = new ClineSource(['/nowhere'], report);
  const s = src.parse(ID, [api([
    { role: 'user', content: [{ type: 'text', text: '<task>\nfix\n</task>' }], ts: 1 },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'replace_in_file', input: { path: 'a.js', diff: '------- SEARCH\n=======\nnew\n+++++++ REPLACE' } }, { type: 'tool_use', id: 't2', name: 'write_to_file', input: { path: 'b.js', content: 'b\n' } }], ts: 2 },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'The tool execution failed with the following error:\n<error>\nno match\n</error>' }], ts: 3 },
  ])]);
  assert.deepEqual(s.edits.map((e) => e.path), ['b.js']);
  const p = src.parser(ID);
  p.feed(`cline/tasks/${ID}/api_conversation_history.json`, Buffer.from('[{"role":"user","content":"cut'));
  assert.equal(p.summary().malformedLines, 1);
  assert.deepEqual(p.takeEdits(), []);
});

test('cline: capture always re-reads a task whole (a saved state is refused)', () => {
  const src = new ClineSource(['/nowhere'], report);
  assert.throws(() => src.parser(ID, src.parser(ID).save()), /saved state/);
});

test('cline: discovery under its storage folder(s), cwd from taskHistory.json; restore only into tasks/<id>/', () => {
  const home = tmpdir('lore-cline-');
  const storage = path.join(home, '.config', 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev');
  const cliData = path.join(home, '.cline', 'data');
  for (const [dir, id] of [[storage, ID], [cliData, '1767700000001']] as const) {
    fs.mkdirSync(path.join(dir, 'tasks', id), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tasks', id, 'api_conversation_history.json'), '[]');
    fs.writeFileSync(path.join(dir, 'tasks', id, 'checkpoint.lock'), '');
  }
  // The same task in a second folder (copied): listed once, from the first folder.
  fs.mkdirSync(path.join(cliData, 'tasks', ID), { recursive: true });
  fs.writeFileSync(path.join(cliData, 'tasks', ID, 'api_conversation_history.json'), '[]');
  fs.mkdirSync(path.join(storage, 'tasks', 'not-a-task'), { recursive: true });
  fs.writeFileSync(path.join(storage, 'tasks', 'not-a-task', 'ui_messages.json'), '[]');
  fs.mkdirSync(path.join(storage, 'state'));
  fs.writeFileSync(path.join(storage, 'state', 'taskHistory.json'), JSON.stringify([{ id: ID, ts: 1, task: 't', cwdOnTaskInitialization: 'C:\\work\\app' }]));
  const src = new ClineSource([storage, cliData], report);
  const found = src.discover().sort((a, b) => a.absPath.localeCompare(b.absPath));
  assert.deepEqual(found.map((f) => [f.bundlePath, f.sessionId, f.cwd, f.absPath.startsWith(storage)]), [
    ['cline/tasks/1767700000001/api_conversation_history.json', '1767700000001', undefined, false],
    [`cline/tasks/${ID}/api_conversation_history.json`, ID, 'C:/work/app', true],
  ]);
  // The registry's source reads the one folder it is given (CLINE_STORAGE_DIR, or the default).
  assert.deepEqual(cline.create(storage, report, { HOME: home }).roots, [path.join(storage, 'tasks')]);
  assert.equal(cline.create(storage, report, { HOME: home }).discover().length, 1);
  assert.equal(src.restoreTarget(`cline/tasks/${ID}/ui_messages.json`, ID, '/x'), path.join(storage, 'tasks', ID, 'ui_messages.json'));
  for (const bad of [`cline/tasks/${ID}/../../settings/cline_mcp_settings.json`, `cline/tasks/1767700000001/ui_messages.json`, `cline/state/taskHistory.json`, `cline/tasks/${ID}/checkpoint.lock`]) {
    assert.throws(() => src.restoreTarget(bad, ID, '/x'), RestoreRefused, bad);
  }
});

test('cline: plantDemo writes a task its own parser credits with the whole write', () => {
  const dir = tmpdir('lore-cline-demo-');
  const at = (s: number) => new Date(Date.UTC(2026, 0, 10, 12, 0, s)).toISOString();
  const p = cline.plantDemo!(path.join(dir, 'storage'), path.join(dir, 'app'), path.join(dir, 'app', 'stats.js'), 'line 1\nline 2\n', at);
  assert.equal(p.sessionId, String(Date.parse(at(0))));
  const files = fs.readdirSync(p.dir).map((n) => ({ path: `cline/tasks/${p.sessionId}/${n}`, data: fs.readFileSync(path.join(p.dir, n)), mtimeMs: 0 }));
  const s = new ClineSource(['/nowhere'], report).parse(p.sessionId, files);
  assert.equal(s.cwd, path.join(dir, 'app'));
  assert.deepEqual(s.edits.map((e) => [e.path, e.added]), [['stats.js', ['line 1', 'line 2']]]);
});
