import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { bareRemote, cloneOn, ok, userLine, writeSession } from '../helpers/repos.js';

const ids = async (m: Machine, cwd: string) => (JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd }))).stdout).sessions as Array<{ id: string }>).map((s) => s.id).sort();

/** A Claude Code line that writes `content` to `file` (a Write tool call, as recorded). */
const writeLine = (id: string, cwd: string, file: string, content: string) =>
  JSON.stringify({ type: 'assistant', sessionId: id, cwd, uuid: 'w1', timestamp: '2026-01-01T00:00:05Z', message: { id: 'm1', role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: file, content } }] } });

test('sessions belong to the repository, not to a folder: every clone lists them, a moved clone too, blame credits them there', async () => {
  const m = new Machine('ident');
  const bare = bareRemote(m);
  const first = cloneOn(m, bare, 'first');
  const id = 'fefefefe-0000-4000-8000-000000000001';
  const code = 'export const answer = 42; // the agent wrote this\n';
  writeSession(m, first, id, [userLine(id, first, 'u1', 'write the answer', 1), writeLine(id, first, `${first}/src/answer.ts`, code)]);
  fs.mkdirSync(path.join(first, 'src'));
  fs.writeFileSync(path.join(first, 'src/answer.ts'), code);
  m.git(first, 'add', '.');
  m.git(first, 'commit', '-qm', 'answer');
  m.git(first, 'push', '-q', 'origin', 'main');
  assert.deepEqual(await ids(m, first), [id]);

  // A second clone of the same remote on the same machine.
  const second = cloneOn(m, bare, 'second');
  assert.deepEqual(await ids(m, second), [id], 'listed in another clone');
  const blamed = JSON.parse((await ok(m.lore(['blame', '--json', 'src/answer.ts'], { cwd: second }))).stdout) as { lines: Array<{ session: { id: string } | null }> };
  assert.equal(blamed.lines[0]!.session?.id, id, 'blame credits the session in another clone');

  // The first clone, moved.
  const moved = path.join(m.home, 'moved');
  fs.renameSync(first, moved);
  assert.deepEqual(await ids(m, moved), [id], 'listed after a move');

  // A linked worktree of the second clone.
  const wt = path.join(m.home, 'wt');
  m.git(second, 'worktree', 'add', '-q', wt, '-b', 'feature');
  assert.deepEqual(await ids(m, wt), [id]);

  // Another repository does not see it.
  const other = m.initRepo(path.join(m.home, 'other'));
  assert.deepEqual(await ids(m, other), []);
});

test('restore --to attaches a session to that clone\'s repository', async () => {
  const m = new Machine('attach');
  const elsewhere = m.initRepo(path.join(m.home, 'elsewhere'));
  const id = 'fafafafa-0000-4000-8000-000000000001';
  writeSession(m, elsewhere, id, [userLine(id, elsewhere, 'u1', 'started in another repository', 1)]);
  assert.deepEqual(await ids(m, elsewhere), [id]);
  // Another repository (initRepo gives each its own first commit: two repositories made alike in
  // the same second would share their root commit, and so their identity).
  const target = m.initRepo(path.join(m.home, 'target'));
  assert.deepEqual(await ids(m, target), []);
  await ok(m.lore(['restore', id, '--to', target], { cwd: target }));
  assert.deepEqual(await ids(m, target), [id], 'listed in the clone it was restored into');
});
