import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../../helpers/repos.js';
import { Git } from '../../../src/git/git.js';
import { readRefState } from '../../../src/format/ref-store.js';
import { readSomeSessions } from '../../../src/core/sync/state.js';
import { LORE_REF } from '../../../src/format/refs.js';

test('readSomeSessions (cat-file lookups) gives what readRefState gives for the same sessions through ls-tree', async () => {
  const m = new Machine('qs');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  const ids = [1, 2, 3].map((n) => uuid(n, 'c'));
  for (const id of ids) writeSession(m, repo, id, [userLine(id, repo, `${id}-1`, `prompt of ${id}`, 1)]);
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(m.lore(['sync'], { cwd: repo }));
  const git = new Git(m.env(repo), repo);
  const tip = (await git.resolve(LORE_REF))!;
  const cat = git.catFile();
  try {
    // Two stored sessions, one the ref does not hold.
    const wanted = [ids[0]!, uuid(9, 'c'), ids[2]!];
    const viaCat = await readSomeSessions(cat, tip, wanted);
    const viaLsTree = await readRefState(git, cat, tip, wanted);
    assert.deepEqual(viaCat, viaLsTree);
    assert.equal(viaCat.sessions.size, 2);
    for (const id of [ids[0]!, ids[2]!]) {
      const e = viaCat.sessions.get(id)!;
      assert.match(e.metaOid ?? '', /^[0-9a-f]{40}$/, 'the blob id, not only its size');
      assert.match(e.indexOid ?? '', /^[0-9a-f]{40}$/);
      assert.ok(e.metaSize! > 0 && e.indexSize! > 0);
    }
    assert.ok(!viaCat.sessions.has(uuid(9, 'c')));
    assert.equal(viaCat.descriptor.storeId, viaLsTree.descriptor.storeId);
    // A commit that is not a lore store is refused as readRefState refuses it.
    const head = (await git.resolve('HEAD'))!;
    await assert.rejects(readSomeSessions(cat, head, [ids[0]!]), /has no lore\.json: not a git-lore store/);
  } finally {
    await cat.close();
  }
});
