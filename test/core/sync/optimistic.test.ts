import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Machine } from '../../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../../helpers/repos.js';

/** `git lore sync --json` with git's commands logged: the result, and whether it fetched. */
async function sync(m: Machine, repo: string) {
  const r = await ok(m.lore(['sync', '--json'], { cwd: repo, env: { DEBUG: 'lore:git' } }));
  const j = JSON.parse(r.stdout) as { received: string[]; sent: string[]; retries: number; warnings: string[] };
  return { received: j.received, sent: j.sent, retries: j.retries, fetched: /'fetch'/.test(r.stderr), warnings: j.warnings };
}

// A sync whose refs are where its last sync left them pushes without fetching first; the push is
// the check. Without the optimisation the first assertion on `fetched` fails; without the
// fallbacks (fetch on a refused push, fetch when there is nothing to send), a session is missed.
test('a sync with something to send skips the fetch, and still receives what the remote gained meanwhile', async () => {
  const a = new Machine('opta');
  const b = new Machine('optb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const repoB = cloneOn(b, bare);
  const [s1, s2, s3, s4, s5, s6] = [1, 2, 3, 4, 5, 6].map((n) => uuid(n, 'e'));
  writeSession(a, repoA, s1!, [userLine(s1!, repoA, 'a1', 'first, on A', 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repoA }));
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  assert.deepEqual((await sync(b, repoB)).received, [s1]);

  // Nothing moved on the remote: B sends without a fetch.
  writeSession(b, repoB, s2!, [userLine(s2!, repoB, 'b1', 'second, on B', 1)]);
  assert.deepEqual(await sync(b, repoB), { received: [], sent: [s2], retries: 0, fetched: false, warnings: [] });

  // A sends meanwhile; B, with a session of its own, pushes on its old tip, is refused, fetches,
  // merges and sends: A's session arrives in the same sync.
  writeSession(a, repoA, s3!, [userLine(s3!, repoA, 'a2', 'third, on A', 2)]);
  assert.deepEqual((await sync(a, repoA)).received, [s2]);
  writeSession(b, repoB, s4!, [userLine(s4!, repoB, 'b2', 'fourth, on B', 2)]);
  assert.deepEqual(await sync(b, repoB), { received: [s3], sent: [s4], retries: 1, fetched: true, warnings: [] });

  // Nothing to send: the fetch runs, and A's new session arrives.
  writeSession(a, repoA, s5!, [userLine(s5!, repoA, 'a3', 'fifth, on A', 3)]);
  assert.deepEqual((await sync(a, repoA)).received, [s4]);
  assert.deepEqual(await sync(b, repoB), { received: [s5], sent: [], retries: 0, fetched: true, warnings: [] });

  // A session of another repository was captured on B since its last sync (the session counter
  // moved, but nothing of this repository is to send): B still fetches and receives.
  const other = b.initRepo(path.join(b.home, 'elsewhere'));
  writeSession(b, other, s6!, [userLine(s6!, other, 'o1', 'in another repository', 1)]);
  const s7 = uuid(7, 'e');
  writeSession(a, repoA, s7, [userLine(s7, repoA, 'a4', 'seventh, on A', 4)]);
  await ok(a.lore(['sync'], { cwd: repoA }));
  const last = await sync(b, repoB);
  assert.deepEqual(last.received, [s7]);
  assert.deepEqual(last.sent, []);
  assert.equal(a.git(bare, 'rev-parse', 'refs/lore/sessions'), b.git(repoB, 'rev-parse', 'refs/lore/sessions'), 'B ends on the remote tip');
});
