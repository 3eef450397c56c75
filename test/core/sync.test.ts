import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { storedFiles } from '../../src/core/sessions.js';

async function sessionsOf(m: Machine, repo: string): Promise<Map<string, { messageCount: number }>> {
  const r = await ok(m.lore(['sessions', '--json'], { cwd: repo }));
  return new Map((JSON.parse(r.stdout).sessions as Array<{ id: string; messageCount: number }>).map((s) => [s.id, s]));
}

async function texts(m: Machine, repo: string, id: string): Promise<string[]> {
  const r = await ok(m.lore(['show', '--json', id], { cwd: repo }));
  return (JSON.parse(r.stdout).messages as Array<{ role: string; text: string }>).filter((x) => x.role === 'user').map((x) => x.text);
}

test('two machines: A creates and syncs, B joins and sees identical content, continues, A sees the longer one', async () => {
  const a = new Machine('sa');
  const b = new Machine('sb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const id = uuid(1);
  writeSession(a, repoA, id, [userLine(id, repoA, 'u1', 'first prompt', 1), userLine(id, repoA, 'u2', 'second prompt', 2)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  const s1 = await ok(a.lore(['sync'], { cwd: repoA }));
  assert.match(s1.stdout, /send 1/);
  const again = await ok(a.lore(['sync'], { cwd: repoA }));
  assert.match(again.stdout, /up to date/);
  const tip = a.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
  await ok(a.lore(['sync'], { cwd: repoA }));
  assert.equal(a.git(bare, 'rev-parse', 'refs/lore/sessions').trim(), tip, 'a sync with nothing new writes no commit');

  const repoB = cloneOn(b, bare);
  // The glob refspec makes a plain fetch bring the lore ref.
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  assert.match(b.git(repoB, 'config', '--get-all', 'remote.origin.fetch'), /^\+refs\/lore\/sessions:refs\/lore\/remotes\/origin\/sessions$/m);
  assert.throws(() => b.git(repoB, 'config', '--get', 'remote.origin.push'), 'setup never sets remote.<name>.push');
  const sb = await ok(b.lore(['sync'], { cwd: repoB }));
  assert.match(sb.stdout, /receive 1 session from origin, send 0/);
  assert.deepEqual(await texts(b, repoB, id), ['first prompt', 'second prompt']);
  const ca = a.ctx(repoA);
  const cb = b.ctx(repoB);
  try {
    assert.equal(cb.db.getSession(id)!.bundle_sha256, ca.db.getSession(id)!.bundle_sha256, 'identical content');
    assert.deepEqual(storedFiles(cb, id), storedFiles(ca, id));
  } finally {
    ca.close();
    cb.close();
  }

  // B continues the session: its agent resumes the transcript (paths rewritten to B's clone, as a
  // restore does) and appends to it.
  const onB = writeSession(b, repoB, id, []);
  fs.writeFileSync(onB, fs.readFileSync(path.join(claudeProjectDir(a.claudeDir, repoA), `${id}.jsonl`), 'utf8').split(repoA).join(repoB));
  writeSession(b, repoB, id, [userLine(id, repoB, 'u3', 'third prompt, on B', 3)], true);
  assert.match((await ok(b.lore(['sync'], { cwd: repoB }))).stdout, /send 1/);
  assert.match((await ok(a.lore(['sync'], { cwd: repoA }))).stdout, /receive 1/);
  assert.deepEqual(await texts(a, repoA, id), ['first prompt', 'second prompt', 'third prompt, on B']);
  assert.equal((await sessionsOf(a, repoA)).get(id)!.messageCount, 3);
});

test('diverged continuation on A and B: after both sync twice, both hold every message of both sides', async () => {
  const a = new Machine('da');
  const b = new Machine('db');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const repoB = cloneOn(b, bare);
  const id = uuid(2);
  const base = [userLine(id, repoA, 'u1', 'shared start', 1)];
  writeSession(a, repoA, id, base);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repoA }));
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync'], { cwd: repoB }));
  // Both machines continue the same session independently.
  writeSession(b, repoB, id, [userLine(id, repoB, 'u1', 'shared start', 1)]);
  writeSession(a, repoA, id, [userLine(id, repoA, 'a2', 'A goes on', 2), userLine(id, repoA, 'a4', 'A again', 4)], true);
  writeSession(b, repoB, id, [userLine(id, repoB, 'b3', 'B goes on', 3)], true);
  for (let round = 0; round < 2; round++) {
    await ok(a.lore(['sync'], { cwd: repoA }));
    await ok(b.lore(['sync'], { cwd: repoB }));
  }
  const want = ['shared start', 'A goes on', 'B goes on', 'A again'];
  assert.deepEqual(await texts(a, repoA, id), want);
  assert.deepEqual(await texts(b, repoB, id), want);
  // Converged: the same bundle on both, and nothing left to send.
  assert.match((await ok(a.lore(['sync'], { cwd: repoA }))).stdout, /up to date/);
  assert.match((await ok(b.lore(['sync'], { cwd: repoB }))).stdout, /up to date/);
});

test('four clones syncing concurrently in a loop: every session everywhere, no forced push', async () => {
  const first = new Machine('c0');
  const bare = bareRemote(first);
  const machines = [first, new Machine('c1'), new Machine('c2'), new Machine('c3')];
  const repos = machines.map((m) => cloneOn(m, bare));
  const setupFirst = await ok(machines[0]!.lore(['sync', 'setup'], { cwd: repos[0]!, env: PASS }));
  assert.match(setupFirst.stdout, /created/);
  await Promise.all(machines.slice(1).map((m, i) => ok(m.lore(['sync', 'setup'], { cwd: repos[i + 1]!, env: PASS }))));
  const all: string[] = [];
  const ROUNDS = 3;
  await Promise.all(
    machines.map(async (m, i) => {
      for (let round = 0; round < ROUNDS; round++) {
        const id = uuid(round, String(i + 1));
        all.push(id);
        writeSession(m, repos[i]!, id, [userLine(id, repos[i]!, `m${i}r${round}`, `machine ${i} round ${round}`, round)]);
        await ok(m.lore(['sync'], { cwd: repos[i]! }));
      }
    }),
  );
  for (let i = 0; i < machines.length; i++) await ok(machines[i]!.lore(['sync'], { cwd: repos[i]! }));
  for (let i = 0; i < machines.length; i++) {
    const have = await sessionsOf(machines[i]!, repos[i]!);
    for (const id of all) assert.ok(have.has(id), `clone ${i} lacks ${id}`);
  }
  const onRemote = first.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').split('\n').filter((p) => p.endsWith('.idx'));
  assert.equal(onRemote.length, all.length);
  // Every update of the remote ref was a fast-forward: nothing was force-pushed.
  const log = fs.readFileSync(path.join(bare, 'logs', 'refs', 'lore', 'sessions'), 'utf8').trim().split('\n');
  for (const line of log) {
    const [oldOid, newOid] = line.split(' ');
    if (/^0+$/.test(oldOid!)) continue;
    execFileSync('git', ['merge-base', '--is-ancestor', oldOid!, newOid!], { cwd: bare });
  }
  assert.ok(log.length >= all.length / 3, 'the remote ref was updated many times');
});

test('wrong passphrase on join writes nothing; no passphrase and no TTY is a usage error', async () => {
  const a = new Machine('wa');
  const b = new Machine('wb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  const repoB = cloneOn(b, bare);
  const configBefore = fs.readFileSync(path.join(repoB, '.git', 'config'), 'utf8');
  const wrong = await b.lore(['sync', 'setup'], { cwd: repoB, env: { LORE_PASSPHRASE: 'not the passphrase' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong passphrase/);
  assert.match(wrong.stderr, /Nothing was written/);
  assert.equal(fs.readFileSync(path.join(repoB, '.git', 'config'), 'utf8'), configBefore);
  assert.ok(!fs.existsSync(path.join(b.vars.LORE_HOME!, 'keys')) || fs.readdirSync(path.join(b.vars.LORE_HOME!, 'keys')).length === 0);
  assert.throws(() => b.git(repoB, 'rev-parse', '--verify', '-q', 'refs/lore/sessions'));
  const none = await b.lore(['sync', 'setup'], { cwd: repoB });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /LORE_PASSPHRASE or LORE_PASSPHRASE_FILE/);
  const fromFile = path.join(b.home, 'pass.txt');
  fs.writeFileSync(fromFile, `${PASS.LORE_PASSPHRASE}\n`);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: { LORE_PASSPHRASE_FILE: fromFile } }));
  // The cached key, and which slot this machine opens (src/core/keys/machine-key.ts).
  const key = fs.readdirSync(path.join(b.vars.LORE_HOME!, 'keys')).sort();
  assert.equal(key.length, 2);
  assert.ok(key[1]!.endsWith('.slot'));
  assert.equal(fs.statSync(path.join(b.vars.LORE_HOME!, 'keys', key[1]!)).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(b.vars.LORE_HOME!, 'keys', key[0]!)).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(b.vars.LORE_HOME!, 'keys')).mode & 0o777, 0o700);
  const short = new Machine('ws');
  const bare2 = bareRemote(short);
  const repoS = cloneOn(short, bare2);
  const r = await short.lore(['sync', 'setup'], { cwd: repoS, env: { LORE_PASSPHRASE: 'short' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /at least 8 characters/);
});

test('a tampered blob is reported by session id, the rest syncs, exit 1, local data untouched', async () => {
  const a = new Machine('ta');
  const b = new Machine('tb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const good = uuid(1, 'c');
  const bad = uuid(2, 'c');
  writeSession(a, repoA, good, [userLine(good, repoA, 'g1', 'good session', 1)]);
  writeSession(a, repoA, bad, [userLine(bad, repoA, 'b1', 'will be tampered', 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repoA }));
  // A repository writer without the passphrase flips a byte of one index and pushes.
  const attacker = cloneOn(a, bare, 'attacker');
  a.git(attacker, 'fetch', '-q', 'origin', 'refs/lore/sessions:refs/lore/sessions');
  const p = `sessions/${bad.slice(-2)}/${bad}.idx`;
  const blob = execFileSync('git', ['cat-file', 'blob', `refs/lore/sessions:${p}`], { cwd: attacker });
  blob[blob.length - 20] ^= 0xff;
  const newBlob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: attacker, input: blob }).toString().trim();
  const idx = path.join(a.home, 'attack.index');
  const env = { ...a.vars, GIT_INDEX_FILE: idx };
  execFileSync('git', ['read-tree', 'refs/lore/sessions'], { cwd: attacker, env });
  execFileSync('git', ['update-index', '--cacheinfo', `100644,${newBlob},${p}`], { cwd: attacker, env });
  const tree = execFileSync('git', ['write-tree'], { cwd: attacker, env }).toString().trim();
  const commit = execFileSync('git', ['commit-tree', tree, '-p', 'refs/lore/sessions', '-m', 'evil'], { cwd: attacker, env: a.vars }).toString().trim();
  a.git(attacker, 'push', '-q', 'origin', `${commit}:refs/lore/sessions`);

  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  const r = await b.lore(['sync'], { cwd: repoB });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`session ${bad}: .*authentication failed`));
  assert.match(r.stderr, /: 1 session failed authentication; the rest synced/);
  const have = await sessionsOf(b, repoB);
  assert.ok(have.has(good), 'the good session synced');
  assert.ok(!have.has(bad), 'nothing applied from the tampered blob');
  // The same bad entry is not read again by later syncs (a hostile ref must not make every sync
  // repeat the work and fail): one line says it is still there.
  const again = await b.lore(['sync'], { cwd: repoB });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /1 session on origin still cannot be read .*git lore repair/);
  assert.doesNotMatch(again.stderr, /authentication failed/);

  // On A, which holds the session, the tampered blob never overwrites local data; A's next sync repairs the ref.
  const ra = await a.lore(['sync'], { cwd: repoA });
  assert.equal(ra.code, 1);
  assert.deepEqual(await texts(a, repoA, bad), ['will be tampered']);
  const rb = await b.lore(['sync'], { cwd: repoB });
  assert.equal(rb.code, 0, rb.stderr);
  assert.deepEqual(await texts(b, repoB, bad), ['will be tampered']);
});

test('after a complete sync only sessions written since are looked at; what others push is still pulled', async () => {
  const a = new Machine('qa');
  const b = new Machine('qb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const ids = [1, 2, 3, 4, 5, 6].map((n) => uuid(n, 'b'));
  for (const id of ids.slice(0, 3)) writeSession(a, repoA, id, [userLine(id, repoA, `${id}-1`, `prompt of ${id}`, 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repoA }));
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync'], { cwd: repoB }));
  const debug = { DEBUG: 'lore:sync' };

  const pending = async () => JSON.parse((await ok(a.lore(['sync', 'status', '--json'], { cwd: repoA }))).stdout).pending as number;
  assert.equal(await pending(), 0);
  writeSession(a, repoA, ids[3]!, [userLine(ids[3]!, repoA, 'n1', 'new on A', 1)]);
  assert.equal(await pending(), 1, 'status counts what a quick sync would send');
  const quick = await ok(a.lore(['sync'], { cwd: repoA, env: debug }));
  assert.match(quick.stderr, /quick sync: 1 sessions written since the last one/);
  assert.match(quick.stdout, /send 1/);
  const noop = await ok(a.lore(['sync'], { cwd: repoA, env: debug }));
  assert.match(noop.stderr, /nothing new here or on origin since the last sync/);

  // B pushes in between: A, which has not fetched, pushes on its old tip, is refused, and then
  // pulls like a full sync. Nothing of the ref was damaged: no warning says so.
  writeSession(b, repoB, ids[4]!, [userLine(ids[4]!, repoB, 'm1', 'new on B', 1)]);
  await ok(b.lore(['sync'], { cwd: repoB }));
  writeSession(a, repoA, ids[5]!, [userLine(ids[5]!, repoA, 'k1', 'another on A', 1)]);
  const full = await ok(a.lore(['sync'], { cwd: repoA, env: debug }));
  assert.match(full.stderr, /push rejected .*fetching and retrying/);
  assert.doesNotMatch(full.stderr, /warning/);
  assert.match(full.stdout, /receive 1 session from origin, send 1/);

  // A session that is already in the ref grows: the quick path sends the new version.
  writeSession(a, repoA, ids[0]!, [userLine(ids[0]!, repoA, `${ids[0]}-2`, 'a later prompt', 2)], true);
  assert.equal(await pending(), 1);
  const grown = await ok(a.lore(['sync'], { cwd: repoA, env: debug }));
  assert.match(grown.stderr, /quick sync: 1 sessions/);
  assert.match(grown.stdout, /send 1/);
  assert.equal(await pending(), 0);
  await ok(b.lore(['sync'], { cwd: repoB }));
  assert.deepEqual([...(await sessionsOf(b, repoB)).keys()].sort(), [...ids].sort());
  assert.deepEqual(await texts(b, repoB, ids[0]!), [`prompt of ${ids[0]}`, 'a later prompt']);
});

test('unreachable remote fails clearly and changes nothing; a sync killed after its commit completes on re-run', async () => {
  const a = new Machine('ua');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const id = uuid(3, 'd');
  writeSession(a, repoA, id, [userLine(id, repoA, 'x1', 'hello', 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  a.git(repoA, 'remote', 'add', 'nowhere', path.join(a.home, 'no-such-remote.git'));
  const r = await a.lore(['sync', '--remote', 'nowhere'], { cwd: repoA });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot fetch the lore ref from nowhere: .*(does not appear to be a git repository|not found|Could not read)/);
  const bad = await a.lore(['sync', '--remote', 'no-such-name'], { cwd: repoA });
  assert.equal(bad.code, 2);

  const killed = await a.lore(['sync'], { cwd: repoA, env: { LORE_TEST_CRASH: 'after-update-ref' } });
  assert.notEqual(killed.code, 0);
  assert.equal(a.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').includes(id), false, 'killed before the push');
  const rerun = await ok(a.lore(['sync'], { cwd: repoA }));
  assert.match(rerun.stdout, /send 1|up to date/);
  assert.ok(a.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').includes(id));
  assert.equal(a.git(repoA, 'rev-parse', 'refs/lore/sessions'), a.git(bare, 'rev-parse', 'refs/lore/sessions'));
  const status = JSON.parse((await ok(a.lore(['sync', 'status', '--json'], { cwd: repoA }))).stdout);
  assert.deepEqual([status.setUp, status.keyCached, status.pending, status.relation], [true, true, 0, 'in-sync']);
  const dry = await ok(a.lore(['sync', '--dry-run'], { cwd: repoA }));
  assert.match(dry.stdout, /up to date/);
});

test('leak test: no content canary and no path in any object of the bare remote', async () => {
  const a = new Machine('leak');
  const bare = bareRemote(a);
  const canaryDir = path.join(a.home, 'secret-project-path-CANARYPATH');
  fs.mkdirSync(canaryDir);
  a.git(canaryDir, 'clone', '-q', bare, 'repo');
  const repo = path.join(canaryDir, 'repo');
  const id = uuid(4, 'e');
  const canary = 'CANARY-7f3a9c1e-the-secret-reasoning';
  writeSession(a, repo, id, [userLine(id, repo, 'k1', `please keep ${canary} private`, 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(a.lore(['sync'], { cwd: repo }));
  const all = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: bare, maxBuffer: 1 << 30 });
  assert.ok(all.length > 0);
  for (const needle of [canary, 'CANARYPATH', a.home, 'please keep', PASS.LORE_PASSPHRASE]) {
    assert.equal(all.includes(Buffer.from(needle)), false, `${needle} leaked to the remote`);
  }
  assert.ok(all.includes(Buffer.from(id)), 'the session id is visible metadata (documented)');
});
