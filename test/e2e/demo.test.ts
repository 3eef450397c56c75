import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { SOURCES } from '../../src/sources/registry.js';

test('git lore demo runs end to end, names the session on machine B and attributes the planted lines to it', async () => {
  const m = new Machine('demo');
  const before = fs.readdirSync(m.home).sort();
  const r = await m.lore(['demo'], { cwd: m.home });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const id = /session ([0-9a-f-]{36}) planted/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const short = id.slice(0, 8);
  const bobSessions = r.stdout.split('[bob\'s laptop] $ git lore sessions')[1]!.split('\n[')[0]!;
  assert.match(bobSessions, new RegExp(`${short}.*claude-code`));
  const blame = r.stdout.split('[bob\'s laptop] $ git lore blame stats.js\n')[1]!.split('\n\n')[0]!.split('\n');
  assert.equal(blame.length, 12);
  assert.doesNotMatch(blame[0]!, new RegExp(short), 'the line a person added is not the session\'s');
  for (const i of [1, 2, 3, 4, 6, 7, 8, 11]) assert.match(blame[i]!, new RegExp(`${short} claude-code`), `line ${i + 1}`);
  assert.match(r.stdout, /prompt:\n\s+Add a median\(\) helper/);
  assert.match(r.stdout, /temporary folder was removed/);
  // It never touched this machine's own folders.
  assert.deepEqual(fs.readdirSync(m.home).sort(), before);
  assert.ok(!fs.existsSync(path.join(m.home, '.lore')));
});

test('git lore demo --keep keeps its folder and says where', async () => {
  const m = new Machine('demokeep');
  const r = await m.lore(['demo', '--keep'], { cwd: m.home });
  assert.equal(r.code, 0, r.stderr);
  const dir = /kept at (\S+)/.exec(r.stdout)?.[1];
  assert.ok(dir && fs.existsSync(path.join(dir, 'remote.git')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('git lore demo --agent shows a non-Claude session: every source that can plant one', async () => {
  // Taken from the registry, so a new source with a planter is demonstrated here too.
  const agents = SOURCES.filter((d) => d.plantDemo && d.tool !== 'claude-code').map((d) => d.tool);
  assert.ok(agents.length >= 6, agents.join(', '));
  for (const agent of agents) {
    const m = new Machine(`demo-${agent}`);
    const r = await m.lore(['demo', '--agent', agent], { cwd: m.home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const id = /session (\S+) planted/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    const blame = r.stdout.split('[bob\'s laptop] $ git lore blame stats.js\n')[1]!.split('\n\n')[0]!.split('\n');
    assert.match(blame[1]!, new RegExp(`${id.slice(0, 8)} ${agent}`), `${agent}: Bob's blame credits the session`);
  }
  const bad = await new Machine('demo-bad').lore(['demo', '--agent', 'codex'], { cwd: '/' });
  assert.equal(bad.code, 2);
});
