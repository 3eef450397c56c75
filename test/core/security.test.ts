import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, writeSession } from '../helpers/repos.js';

const texts = async (m: Machine, cwd: string, id: string) =>
  (JSON.parse((await ok(m.lore(['show', '--json', id], { cwd }))).stdout).messages as Array<{ text: string }>).map((x) => x.text);

test('a teammate with the key cannot rewrite a line this machine wrote: the forged version is kept beside it and reported', async () => {
  const a = new Machine('sa');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const id = 'abababab-0000-4000-8000-000000000001';
  writeSession(a, repoA, id, [userLine(id, repoA, 'u1', 'deploy only after review', 1), userLine(id, repoA, 'u2', 'second', 2)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));

  // B, who holds the key, restores the session, rewrites A's first line and syncs it.
  const b = new Machine('sb');
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  await ok(b.lore(['restore', id, '--to', repoB], { cwd: repoB }));
  const file = path.join(claudeProjectDir(b.claudeDir, repoB), `${id}.jsonl`);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('deploy only after review', 'zzz deploy without review'));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  assert.ok((await texts(b, repoB, id)).includes('zzz deploy without review'), 'B pushed its version');

  const r = await ok(a.lore(['sync'], { cwd: repoA }));
  assert.match(r.stderr, new RegExp(`session ${id}: 1 line from origin conflict(s)? with this machine's; both versions are kept`));
  const onA = await texts(a, repoA, id);
  assert.ok(onA.includes('deploy only after review'), 'A keeps its own line');
  assert.ok(onA.includes('zzz deploy without review'), 'the other version is kept beside it');
  // The machines converge on the file that holds both.
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  assert.deepEqual((await texts(b, repoB, id)).sort(), onA.sort());
});
