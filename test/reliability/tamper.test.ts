import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine } from '../helpers/repos.js';
import { summary } from './profile.js';

/** A repository writer without the passphrase: rewrites blobs of the remote's lore ref and pushes (no force needed). */
function attack(m: Machine, bare: string, edits: Record<string, Buffer | string>): void {
  const work = fs.mkdtempSync(path.join(m.home, 'attack-'));
  const env = { ...m.vars, GIT_INDEX_FILE: path.join(work, 'index'), GIT_DIR: bare };
  execFileSync('git', ['read-tree', 'refs/lore/sessions'], { env });
  for (const [p, data] of Object.entries(edits)) {
    const oid = /^[0-9a-f]{40}$/.test(String(data)) ? String(data) : execFileSync('git', ['hash-object', '-w', '--stdin'], { env, input: data }).toString().trim();
    execFileSync('git', ['update-index', '--cacheinfo', `100644,${oid},${p}`], { env });
  }
  const tree = execFileSync('git', ['write-tree'], { env }).toString().trim();
  const commit = execFileSync('git', ['commit-tree', tree, '-p', 'refs/lore/sessions', '-m', 'innocent'], { env }).toString().trim();
  execFileSync('git', ['update-ref', 'refs/lore/sessions', commit], { env });
}
const blobAt = (bare: string, rev: string, p: string) => execFileSync('git', ['cat-file', 'blob', `${rev}:${p}`], { cwd: bare });
const oidAt = (bare: string, rev: string, p: string) => execFileSync('git', ['rev-parse', `${rev}:${p}`], { cwd: bare }).toString().trim();
const paths = (id: string) => ({ meta: `sessions/${id.slice(-2)}/${id}.meta`, index: `sessions/${id.slice(-2)}/${id}.idx` });

test('tampering by a repository writer without the passphrase: each attack detected or without effect, reported by session id', async () => {
  const a = new Machine('ta');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare, 'team');
  const proj = path.join(a.claudeDir, 'projects', repoA.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(proj, { recursive: true });
  const ids = ['11111111', '22222222', '33333333', '44444444'].map((p) => `${p}-7000-4000-8000-000000000001`);
  for (const id of ids) fs.writeFileSync(path.join(proj, `${id}.jsonl`), `${userLine(id, repoA, `${id}-1`, `first of ${id}`, 1)}\n`);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));
  const v1 = a.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
  fs.appendFileSync(path.join(proj, `${ids[2]}.jsonl`), `${userLine(ids[2]!, repoA, `${ids[2]}-2`, 'second message', 2)}\n`);
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));

  const results: Array<{ attack: string; outcome: string }> = [];
  const fresh = async (tag: string) => {
    const b = new Machine(`tb${tag}`);
    const repo = path.join(b.home, 'team');
    b.git(b.home, 'clone', '-q', bare, repo);
    return { b, repo, setup: await b.lore(['sync', 'setup'], { cwd: repo, env: PASS }) };
  };
  const countOnA = async (id: string) => JSON.parse((await ok(a.lore(['show', '--json', id], { cwd: repoA }))).stdout).session.messageCount as number;

  // 1. Flip bytes in an index.
  const flipped = Buffer.from(blobAt(bare, 'refs/lore/sessions', paths(ids[0]!).index));
  flipped[flipped.length - 30] ^= 0x01;
  attack(a, bare, { [paths(ids[0]!).index]: flipped });
  let f = await fresh('flip');
  let r = await f.b.lore(['sync'], { cwd: f.repo });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`session ${ids[0]}: .*authentication failed`));
  results.push({ attack: 'flip bytes in an index', outcome: 'detected: authentication failed, reported, skipped' });
  const ra = await a.lore(['sync'], { cwd: repoA });
  assert.equal(ra.code, 1, 'the holder sees it too');
  assert.equal(await countOnA(ids[0]!), 1, 'local data untouched');
  assert.equal((await f.b.lore(['sync'], { cwd: f.repo })).code, 0, 'the holder\'s sync repaired the ref');

  // 2. Swap two sessions' indexes.
  const p0 = oidAt(bare, 'refs/lore/sessions', paths(ids[0]!).index);
  const p1 = oidAt(bare, 'refs/lore/sessions', paths(ids[1]!).index);
  attack(a, bare, { [paths(ids[0]!).index]: p1, [paths(ids[1]!).index]: p0 });
  f = await fresh('swap');
  r = await f.b.lore(['sync'], { cwd: f.repo });
  assert.equal(r.code, 1);
  for (const id of [ids[0]!, ids[1]!]) assert.match(r.stderr, new RegExp(`session ${id}: .*authentication failed`));
  results.push({ attack: 'swap two sessions\' indexes', outcome: 'detected: both fail authentication (AAD binds the id)' });
  assert.equal((await a.lore(['sync'], { cwd: repoA })).code, 1);
  assert.equal(await countOnA(ids[0]!), 1);
  assert.equal(await countOnA(ids[1]!), 1);

  // 3. Replay an older (valid) index of a session, with its older metadata.
  attack(a, bare, { [paths(ids[2]!).meta]: oidAt(bare, v1, paths(ids[2]!).meta), [paths(ids[2]!).index]: oidAt(bare, v1, paths(ids[2]!).index) });
  const ar = await a.lore(['sync'], { cwd: repoA });
  assert.equal(ar.code, 0, ar.stderr);
  assert.equal(await countOnA(ids[2]!), 2, 'the older copy is a prefix: the holder keeps the longer');
  f = await fresh('replay');
  await ok(f.b.lore(['sync'], { cwd: f.repo }));
  assert.equal(JSON.parse((await ok(f.b.lore(['show', '--json', ids[2]!], { cwd: f.repo }))).stdout).session.messageCount, 2, 'and wrote it back');
  results.push({ attack: 'replay an older index of the same session', outcome: 'no effect: merge keeps the longer transcript, the next holder\'s sync restores it' });

  // 4. Rewrite plaintext metadata.
  const meta = JSON.parse(blobAt(bare, 'refs/lore/sessions', paths(ids[3]!).meta).toString());
  meta.messageCount = 999;
  meta.branch = 'evil';
  attack(a, bare, { [paths(ids[3]!).meta]: `${JSON.stringify(meta)}\n` });
  f = await fresh('meta');
  r = await f.b.lore(['sync'], { cwd: f.repo });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`session ${ids[3]}: .*authentication failed`));
  results.push({ attack: 'rewrite plaintext metadata', outcome: 'detected: the index\'s AAD holds the exact metadata bytes' });
  assert.equal((await a.lore(['sync'], { cwd: repoA })).code, 1);

  // 5. Weaken the descriptor's KDF parameters.
  const desc = JSON.parse(blobAt(bare, 'refs/lore/sessions', 'lore.json').toString());
  desc.slots[0].kdf.memory = 8;
  desc.slots[0].kdf.iterations = 1;
  attack(a, bare, { 'lore.json': `${JSON.stringify(desc, null, 2)}\n` });
  const weak = await fresh('kdf');
  assert.equal(weak.setup.code, 1);
  assert.match(weak.setup.stderr, /weaker than git-lore accepts/);
  assert.ok(!fs.existsSync(path.join(weak.b.vars.LORE_HOME!, 'keys')) || fs.readdirSync(path.join(weak.b.vars.LORE_HOME!, 'keys')).length === 0);
  const warned = await a.lore(['sync'], { cwd: repoA });
  assert.match(warned.stderr, /weak or malformed key-derivation parameters/);
  results.push({ attack: 'rewrite the descriptor\'s KDF parameters to weak ones', outcome: 'detected: joins refuse it before deriving; holders warn' });
  // Nothing the attacker did changed the holder's data: every session has all its messages.
  const want = [1, 1, 2, 1];
  let lost = 0;
  for (const [i, id] of ids.entries()) lost += Math.max(0, want[i]! - (await countOnA(id)));
  summary('tampering', { attacks: results.length, detected: results.filter((x) => x.outcome.startsWith('detected')).length, 'without effect': results.filter((x) => x.outcome.startsWith('no effect')).length, lost });
  assert.equal(lost, 0);
  for (const x of results) process.stdout.write(`  ${x.attack}: ${x.outcome}\n`);
});
