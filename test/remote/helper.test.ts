import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { PASS, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { gitDaemon, httpBackend } from '../helpers/servers.js';
import { absolutizeAddress } from '../../src/remote/helper.js';

function seededBare(m: Machine, dir: string, name: string): string {
  const bare = path.join(dir, name);
  m.git(dir, 'init', '-q', '--bare', bare);
  m.git(bare, 'config', 'http.receivepack', 'true');
  const seed = m.initRepo(path.join(m.home, `seed-${name}`));
  m.git(seed, 'push', '-q', bare, 'main');
  return bare;
}

async function listIds(m: Machine, repo: string): Promise<string[]> {
  const r = await ok(m.lore(['sessions', '--json'], { cwd: repo }));
  return (JSON.parse(r.stdout).sessions as Array<{ id: string }>).map((s) => s.id).sort();
}

/** The two-machine story through one transport. */
async function twoMachines(tag: string, address: (bare: string) => string): Promise<void> {
  const a = new Machine(`${tag}a`);
  const b = new Machine(`${tag}b`);
  const served = path.join(a.home, 'served');
  fs.mkdirSync(served);
  const bare = seededBare(a, served, 'team.git');
  const url = `lore::${address(bare)}`;

  const clA = await a.run('git', ['clone', '-q', url, 'proj'], { cwd: a.home });
  assert.equal(clA.code, 0, clA.stderr);
  const repoA = path.join(a.home, 'proj');
  assert.equal(a.git(repoA, 'config', 'remote.origin.url').trim(), url);
  // The helper fetches the lore ref itself: a refspec for it would make git look for it in the
  // helper's ref list, and a plain fetch would fail.
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  assert.doesNotMatch(a.git(repoA, 'config', '--get-all', 'remote.origin.fetch'), /refs\/lore/);
  const s1 = uuid(1, tag.slice(0, 1) === 'h' ? 'd' : 'e');
  writeSession(a, repoA, s1, [userLine(s1, repoA, 'a1', `from A over ${tag}`, 1)]);
  fs.writeFileSync(path.join(repoA, 'a.txt'), 'a\n');
  a.git(repoA, 'add', '.');
  a.git(repoA, 'commit', '-qm', 'A work');
  const push = await a.run('git', ['push', '-q', 'origin', 'main'], { cwd: repoA });
  assert.equal(push.code, 0, push.stderr);
  assert.ok(a.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').includes(s1), 'code and sessions in one push');
  assert.equal(a.git(bare, 'rev-parse', 'main').trim(), a.git(repoA, 'rev-parse', 'HEAD').trim());

  const clB = await b.run('git', ['clone', '-q', url, 'proj'], { cwd: b.home, env: PASS });
  assert.equal(clB.code, 0, clB.stderr);
  const repoB = path.join(b.home, 'proj');
  assert.ok(fs.existsSync(path.join(repoB, 'a.txt')));
  assert.deepEqual(await listIds(b, repoB), [s1], 'A\'s sessions are listed straight after the clone');

  const s2 = uuid(2, tag.slice(0, 1) === 'h' ? 'd' : 'e');
  writeSession(b, repoB, s2, [userLine(s2, repoB, 'b1', `from B over ${tag}`, 2)]);
  fs.writeFileSync(path.join(repoB, 'b.txt'), 'b\n');
  b.git(repoB, 'add', '.');
  b.git(repoB, 'commit', '-qm', 'B work');
  await ok(b.run('git', ['push', '-q', 'origin', 'main'], { cwd: repoB }));
  const fetch = await a.run('git', ['fetch', '-q', 'origin'], { cwd: repoA });
  assert.equal(fetch.code, 0, fetch.stderr);
  assert.deepEqual(await listIds(a, repoA), [s1, s2].sort(), 'a plain git fetch brought B\'s session');
  const pull = await a.run('git', ['pull', '-q', '--ff-only', 'origin', 'main'], { cwd: repoA });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(fs.existsSync(path.join(repoA, 'b.txt')));
}

test('lore:: over a local path and file://', async () => {
  await twoMachines('path', (bare) => bare);
  await twoMachines('file', (bare) => `file://${bare}`);
});

test('lore:: over git daemon (git://127.0.0.1)', async () => {
  const host = new Machine('daemon');
  const served = path.join(host.home, 'daemon-root');
  fs.mkdirSync(served);
  // Each machine's repository lives under its own HOME; the daemon serves a shared folder.
  const daemon = await gitDaemon('/', { ...host.vars });
  try {
    await twoMachines('git', (bare) => daemon.url(bare.slice(1)));
  } finally {
    await daemon.stop();
  }
});

test('lore:: over smart HTTP (git http-backend)', async () => {
  const host = new Machine('http');
  const server = await httpBackend('/', { ...host.vars });
  try {
    await twoMachines('http', (bare) => server.url(bare.slice(1)));
  } finally {
    await server.stop();
  }
});

test('per-ref results as with a plain remote: rejection and hint, force-with-lease, dry-run, delete; loud inner failures', async () => {
  const m = new Machine('refs');
  const bare = seededBare(m, m.home, 'r.git');
  await ok(m.run('git', ['clone', '-q', `lore::${bare}`, 'one'], { cwd: m.home }));
  await ok(m.run('git', ['clone', '-q', `lore::${bare}`, 'two'], { cwd: m.home }));
  const one = path.join(m.home, 'one');
  const two = path.join(m.home, 'two');
  m.git(one, 'commit', '--allow-empty', '-qm', 'one');
  await ok(m.run('git', ['push', '-q', 'origin', 'main'], { cwd: one }));
  m.git(two, 'commit', '--allow-empty', '-qm', 'two');
  const rejected = await m.run('git', ['push', 'origin', 'main'], { cwd: two });
  assert.notEqual(rejected.code, 0);
  assert.match(rejected.stderr, /\[rejected\]\s+main -> main \(fetch first\)/);
  assert.match(rejected.stderr, /hint: Updates were rejected because the remote contains work/);

  const stale = m.git(two, 'rev-parse', 'origin/main').trim();
  const lease = await m.run('git', ['push', `--force-with-lease=main:${stale}`, 'origin', 'main'], { cwd: two });
  assert.notEqual(lease.code, 0);
  assert.match(lease.stderr, /stale info/);
  await ok(m.run('git', ['fetch', '-q', 'origin'], { cwd: two }));
  await ok(m.run('git', ['push', '-q', '--force-with-lease', 'origin', 'main'], { cwd: two }));
  assert.equal(m.git(bare, 'rev-parse', 'main').trim(), m.git(two, 'rev-parse', 'HEAD').trim());

  m.git(two, 'branch', 'topic');
  await ok(m.run('git', ['push', '-q', 'origin', 'topic'], { cwd: two }));
  const before = m.git(bare, 'for-each-ref', '--format=%(refname) %(objectname)');
  m.git(two, 'commit', '--allow-empty', '-qm', 'dry');
  const dry = await m.run('git', ['push', '--dry-run', 'origin', 'main'], { cwd: two });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(m.git(bare, 'for-each-ref', '--format=%(refname) %(objectname)'), before, 'dry-run changes nothing');
  await ok(m.run('git', ['push', '-q', 'origin', ':topic'], { cwd: two }));
  assert.throws(() => m.git(bare, 'rev-parse', '--verify', 'refs/heads/topic'));
  // A push of what the remote already has: success, git's own "Everything up-to-date", nothing
  // written. (This used to push a branch that did not exist and accept any failure.)
  await ok(m.run('git', ['push', '-q', 'origin', 'topic'], { cwd: two }));
  const pushed = m.git(bare, 'for-each-ref', '--format=%(refname) %(objectname)');
  const upToDate = await m.run('git', ['push', 'origin', 'topic'], { cwd: two });
  assert.equal(upToDate.code, 0, upToDate.stderr);
  assert.match(upToDate.stderr, /^Everything up-to-date$/m);
  assert.equal(m.git(bare, 'for-each-ref', '--format=%(refname) %(objectname)'), pushed);
  const missing = await m.run('git', ['push', 'origin', 'no-such-branch'], { cwd: two });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /src refspec no-such-branch does not match any/);

  const gone = await m.run('git', ['clone', `lore::${path.join(m.home, 'no-such.git')}`, 'x'], { cwd: m.home });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /does not appear to be a git repository|not found/);
  assert.ok(!fs.existsSync(path.join(m.home, 'x')));
  const nested = await m.run('git', ['clone', `lore::lore::${bare}`, 'y'], { cwd: m.home });
  assert.notEqual(nested.code, 0);
  assert.match(nested.stderr, /nested lore:: address/);
});

test('relative inner paths become absolute; remote.<name>.vcs=lore routes a plain URL; the pre-push hook skips helper remotes', async () => {
  const a = new Machine('rel');
  const bare = seededBare(a, a.home, 'rel.git');
  const cl = await a.run('git', ['clone', '-q', 'lore::rel.git', 'proj'], { cwd: a.home });
  assert.equal(cl.code, 0, cl.stderr);
  const repo = path.join(a.home, 'proj');
  assert.equal(a.git(repo, 'config', 'remote.origin.url').trim(), `lore::${bare}`);
  await ok(a.run('git', ['fetch', '-q'], { cwd: repo }));

  const plain = path.join(a.home, 'plain');
  a.git(a.home, 'clone', '-q', bare, plain);
  await ok(a.lore(['sync', 'setup'], { cwd: plain, env: PASS }));
  await ok(a.lore(['hooks', 'install'], { cwd: plain }));
  await ok(a.lore(['remote', 'enable', 'origin'], { cwd: plain }));
  assert.equal(a.git(plain, 'config', 'remote.origin.vcs').trim(), 'lore');
  assert.equal(a.git(plain, 'config', 'remote.origin.url').trim(), bare, 'the URL stays readable');
  const id = uuid(7, 'c');
  writeSession(a, plain, id, [userLine(id, plain, 'v1', 'through vcs=lore', 1)]);
  a.git(plain, 'commit', '--allow-empty', '-qm', 'vcs');
  const push = await a.run('git', ['push', '-q', 'origin', 'main'], { cwd: plain, env: { GIT_TRACE: '' } });
  assert.equal(push.code, 0, push.stderr);
  assert.equal(push.stderr, '');
  assert.ok(a.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').includes(id), 'the helper sent the session');
  await ok(a.lore(['remote', 'disable', 'origin'], { cwd: plain }));
  assert.throws(() => a.git(plain, 'config', 'remote.origin.vcs'));
});

test('absolutizeAddress leaves URLs and scp-like addresses alone', () => {
  assert.equal(absolutizeAddress('x.git', '/w'), '/w/x.git');
  assert.equal(absolutizeAddress('../x.git', '/w/a'), '/w/x.git');
  assert.equal(absolutizeAddress('/abs/x.git', '/w'), '/abs/x.git');
  assert.equal(absolutizeAddress('file:///abs/x.git', '/w'), 'file:///abs/x.git');
  assert.equal(absolutizeAddress('https://h/x.git', '/w'), 'https://h/x.git');
  assert.equal(absolutizeAddress('git@host:team/x.git', '/w'), 'git@host:team/x.git');
});
