import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, ROOT, copyRewritten } from '../helpers/machine.js';
import { ok } from '../helpers/repos.js';

/**
 * Restoring a Cline task makes it resumable from Cline's History view, which lists only the tasks
 * of state/taskHistory.json: restore adds the task there once and keeps every other entry.
 */
test('restore of a Cline task lists it in Cline\'s task index, once, keeping the others; a broken index is left alone', async () => {
  const m = new Machine('restorecline');
  const repo = m.initRepo(path.join(m.home, 'notes-app'));
  const storage = path.join(m.home, '.config', 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev');
  const synth = path.join(ROOT, 'test', 'fixtures', 'cline');
  const id = '1767700000000';
  const taskDir = path.join(storage, 'tasks', id);
  for (const f of ['api_conversation_history.json', 'ui_messages.json']) copyRewritten(path.join(synth, 'tasks', id, f), path.join(taskDir, f), [['/home/dev/notes-app', repo]]);
  await ok(m.lore(['import'], { cwd: repo }));

  // Another task of the user's, which restore must keep as it is.
  const index = path.join(storage, 'state', 'taskHistory.json');
  const other = { id: '1700000000000', ts: 1700000000500, task: 'an older task', tokensIn: 5, tokensOut: 7, totalCost: 0.01, cwdOnTaskInitialization: '/elsewhere', isFavorited: true };
  fs.mkdirSync(path.dirname(index), { recursive: true });
  fs.writeFileSync(index, JSON.stringify([other]));
  fs.rmSync(taskDir, { recursive: true });

  const r = await ok(m.lore(['restore', id], { cwd: repo }));
  assert.match(r.stdout, /listed task 1767700000000 in Cline's History/);
  assert.ok(fs.existsSync(path.join(taskDir, 'api_conversation_history.json')));
  const items = JSON.parse(fs.readFileSync(index, 'utf8')) as Array<Record<string, unknown>>;
  assert.deepEqual(items[0], other, 'the other task is kept as it was');
  assert.equal(items.length, 2);
  assert.equal(items[1]!.id, id);
  assert.equal(items[1]!.cwdOnTaskInitialization, repo);
  assert.match(String(items[1]!.task), /median/);
  assert.ok(typeof items[1]!.ts === 'number' && (items[1]!.ts as number) > 0);

  // Again: the files are in place and the task is listed; nothing is added twice.
  const again = await ok(m.lore(['restore', id], { cwd: repo }));
  assert.doesNotMatch(again.stdout, /listed task/);
  assert.equal((JSON.parse(fs.readFileSync(index, 'utf8')) as unknown[]).length, 2);

  // An index that is not a list is never rewritten; restore says so and still writes the task.
  fs.writeFileSync(index, '{"broken": ');
  fs.rmSync(taskDir, { recursive: true });
  const broken = await ok(m.lore(['restore', id], { cwd: repo }));
  assert.match(broken.stdout, /Cline's task index .* was left as it is/);
  assert.equal(fs.readFileSync(index, 'utf8'), '{"broken": ');
  assert.ok(fs.existsSync(path.join(taskDir, 'ui_messages.json')));
});
