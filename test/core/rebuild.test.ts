import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';

const ids = async (m: Machine, cwd: string) =>
  (JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd }))).stdout) as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id).sort();

test('a corrupt lore.db says so and how to recover; import --rebuild re-imports, the next sync brings back the rest', async () => {
  const a = new Machine('rbA');
  const b = new Machine('rbB');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  await ok(a.lore(['sync', 'setup', '--no-hooks'], { cwd: repoA, env: PASS }));
  const fromA = uuid(1, 'a');
  writeSession(a, repoA, fromA, [userLine(fromA, repoA, 'u1', 'written on A', 1)]);
  await ok(a.lore(['sync'], { cwd: repoA }));
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup', '--no-hooks'], { cwd: repoB, env: PASS }));
  const onB = uuid(2, 'b');
  writeSession(b, repoB, onB, [userLine(onB, repoB, 'u1', 'written on B', 2)]);
  await ok(b.lore(['sync'], { cwd: repoB }));
  assert.deepEqual(await ids(b, repoB), [fromA, onB].sort());

  const db = path.join(b.vars.LORE_HOME!, 'lore.db');
  for (const f of [`${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
  fs.writeFileSync(db, Buffer.alloc(8192, 'not a database '));
  const broken = await b.lore(['sessions'], { cwd: repoB });
  assert.equal(broken.code, 1, broken.stderr);
  assert.match(broken.stderr, /^git-lore: the local store LORE_HOME\/lore.db is corrupt \(file is not a database\)\nhint: Rebuild it with `git lore import --rebuild`/);

  const rebuilt = await ok(b.lore(['import', '--rebuild'], { cwd: repoB }));
  const moved = /moved the old lore.db aside to (\S+)/.exec(rebuilt.stdout)?.[1];
  assert.ok(moved && fs.readFileSync(moved).toString().startsWith('not a database'), rebuilt.stdout);
  assert.match(rebuilt.stdout, /imported 1 new/);
  assert.match(rebuilt.stdout, /come back with the next `git lore sync`/);
  assert.deepEqual(await ids(b, repoB), [onB], 'the agents\' files give back what this machine captured');
  await ok(b.lore(['sync'], { cwd: repoB }));
  assert.deepEqual(await ids(b, repoB), [fromA, onB].sort(), 'the next sync gives back what came through sync');
});
