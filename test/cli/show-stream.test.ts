import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { showSession } from '../../src/core/sessions.js';
import { colors, jsonText, transcript } from '../../src/cli/output.js';
import { memorySink } from '../../src/env.js';

/**
 * `git lore show` writes a session as its messages are parsed from the piece store (issue 14: no
 * command holds a whole session in memory). Its output must be what the whole-session rendering
 * gives, byte for byte, for a transcript stored in many pieces whose last line has no newline.
 */
test('show and show --json stream a many-piece session and print exactly the whole-session rendering', async () => {
  const m = new Machine('showstream');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(7, 'c');
  const reply = (i: number) => JSON.stringify({
    type: 'assistant', sessionId: id, cwd: repo, uuid: `a${i}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    message: { id: `m${i}`, role: 'assistant', model: 'claude-opus-4-5-20251101', content: [{ type: 'text', text: `reply ${i}: ${'the reasoning goes on. '.repeat(12 + (i % 7))}` }] },
  });
  const lines: string[] = [];
  for (let i = 0; i < 4000; i++) lines.push(i % 2 ? reply(i) : userLine(id, repo, `u${i}`, `prompt ${i} ${'x'.repeat(i % 50)}`, i));
  const file = writeSession(m, repo, id, lines);
  // The agent is writing its last line: no newline yet.
  fs.appendFileSync(file, userLine(id, repo, 'last', 'a prompt being written', 4001));
  await ok(m.lore(['import'], { cwd: repo }));

  const ctx = m.ctx(repo);
  let detail;
  try {
    const stored = ctx.db.sessionFiles(id);
    assert.ok(stored[0]!.pieces.length > 4, `stored in many pieces (${stored[0]!.pieces.length})`);
    detail = await showSession(ctx, id);
  } finally {
    ctx.close();
  }
  assert.equal(detail.messages.length, 4001);

  const json = await ok(m.lore(['show', '--json', id], { cwd: repo }));
  assert.equal(json.stdout, `${jsonText({ version: 1, ...detail }, 2)}\n`);
  const human = await ok(m.lore(['show', id], { cwd: repo }));
  const now = new Date();
  assert.equal(human.stdout, transcript(detail, colors(memorySink(false), { NO_COLOR: '1' }), undefined, now));
  const at = await ok(m.lore(['show', '--at', '3990', id], { cwd: repo }));
  assert.equal(at.stdout, transcript(detail, colors(memorySink(false), { NO_COLOR: '1' }), 3990, now));
  assert.match(at.stdout, /▶ \[3990\]/);

  // A session without messages: the JSON still holds an empty array.
  const empty = uuid(8, 'c');
  writeSession(m, repo, empty, [JSON.stringify({ type: 'summary', summary: 'nothing yet', leafUuid: 'x' }), userLine(empty, repo, 'e1', 'hello', 1)]);
  await ok(m.lore(['import'], { cwd: repo }));
  const c2 = m.ctx(repo);
  try {
    const d = await showSession(c2, empty);
    const out = await ok(m.lore(['show', '--json', empty], { cwd: repo }));
    assert.equal(out.stdout, `${jsonText({ version: 1, ...d }, 2)}\n`);
    const none = jsonText({ version: 1, ...d, messages: [] }, 2);
    assert.match(none, /"messages": \[\],/);
  } finally {
    c2.close();
  }
});
