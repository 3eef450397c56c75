import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';

/** A PATH with git, sh and node but without git-lore. */
function pathWithoutLore(): string {
  const dirs = new Set(['/usr/bin', '/bin', path.dirname(process.execPath)]);
  return [...dirs].join(':');
}

function commitFile(m: Machine, repo: string, name: string, text: string): void {
  fs.writeFileSync(path.join(repo, name), text);
  m.git(repo, 'add', name);
  m.git(repo, 'commit', '-qm', `add ${name}`);
}

function remoteLoreFiles(m: Machine, bare: string): string[] {
  try {
    return m.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions').split('\n').filter((p) => p.endsWith('.idx'));
  } catch {
    return [];
  }
}

async function setupPair(tag: string) {
  const a = new Machine(`${tag}a`);
  const b = new Machine(`${tag}b`);
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(a.lore(['hooks', 'install'], { cwd: repoA }));
  await ok(b.lore(['hooks', 'install'], { cwd: repoB }));
  return { a, b, bare, repoA, repoB };
}

test('plain git push sends new sessions; plain git pull (merge and --rebase) brings them in', async () => {
  const { a, b, bare, repoA, repoB } = await setupPair('h');
  const s1 = uuid(1, 'f');
  writeSession(a, repoA, s1, [userLine(s1, repoA, 'p1', 'pushed by the hook', 1)]);
  commitFile(a, repoA, 'one.txt', 'one\n');
  const push = await a.run('git', ['push', '-q', 'origin', 'main'], { cwd: repoA });
  assert.equal(push.code, 0, push.stderr);
  assert.equal(push.stderr, 'lore: sent 1 session to origin\n', 'one line when the hook sent sessions');
  commitFile(a, repoA, 'one-more.txt', 'more\n');
  const quiet = await a.run('git', ['push', '-q', 'origin', 'main'], { cwd: repoA });
  assert.equal(quiet.stderr, '', 'nothing at all when there was nothing to send');
  assert.ok(remoteLoreFiles(a, bare).some((f) => f.includes(s1)), 'the session is on the remote after a plain push');

  const pull = await b.run('git', ['pull', '-q', '--no-rebase', 'origin', 'main'], { cwd: repoB });
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(pull.stderr, 'lore: received 1 session from origin\n');
  const list = JSON.parse((await ok(b.lore(['sessions', '--json'], { cwd: repoB }))).stdout);
  assert.ok(list.sessions.some((s: { id: string }) => s.id === s1), 'post-merge imported the session');

  // --rebase runs post-rewrite, not post-merge: B has a local commit so the pull really rebases.
  const s2 = uuid(2, 'f');
  writeSession(a, repoA, s2, [userLine(s2, repoA, 'p2', 'second one', 2)]);
  commitFile(a, repoA, 'two.txt', 'two\n');
  await ok(a.run('git', ['push', '-q', 'origin', 'main'], { cwd: repoA }));
  commitFile(b, repoB, 'b-local.txt', 'local\n');
  const rebase = await b.run('git', ['pull', '-q', '--rebase', 'origin', 'main'], { cwd: repoB });
  assert.equal(rebase.code, 0, rebase.stderr);
  const list2 = JSON.parse((await ok(b.lore(['sessions', '--json'], { cwd: repoB }))).stdout);
  assert.ok(list2.sessions.some((s: { id: string }) => s.id === s2), 'post-rewrite imported the session');
});

test('chaining: a rejecting pre-push still rejects; a stdin reader sees every line; uninstall restores byte for byte', async () => {
  const m = new Machine('chain');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  const hook = path.join(repo, '.git', 'hooks', 'pre-push');
  const seen = path.join(m.home, 'seen.txt');
  const counter = path.join(m.home, 'count.txt');
  const original = `#!/bin/sh\n# my own hook\necho run >> "${counter}"\ncat >> "${seen}"\n[ -f "${path.join(m.home, 'reject')}" ] && { echo "rejected by my hook" >&2; exit 1; }\nexit 0\n`;
  fs.writeFileSync(hook, original, { mode: 0o750 });
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  const inst = await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  assert.match(inst.stdout, /kept your pre-push hook/);
  const again = await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  assert.match(again.stdout, /already installed/);
  const st = JSON.parse((await ok(m.lore(['hooks', 'status', '--json'], { cwd: repo }))).stdout);
  assert.deepEqual(st.hooks.map((h: { state: string }) => h.state), ['chained', 'installed', 'installed']);

  // Two refs in one push: the chained hook sees both lines.
  m.git(repo, 'branch', 'feature');
  commitFile(m, repo, 'x.txt', 'x\n');
  const id = uuid(3, 'f');
  writeSession(m, repo, id, [userLine(id, repo, 'c1', 'chained', 1)]);
  const p1 = await m.run('git', ['push', '-q', 'origin', 'main', 'feature'], { cwd: repo });
  assert.equal(p1.code, 0, p1.stderr);
  const lines = fs.readFileSync(seen, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(' ')[0]).sort(), ['refs/heads/feature', 'refs/heads/main']);
  assert.equal(fs.readFileSync(counter, 'utf8').trim().split('\n').length, 1, 'no recursion: the sync\'s own push ran no hook');
  assert.ok(remoteLoreFiles(m, bare).some((f) => f.includes(id)));

  fs.writeFileSync(path.join(m.home, 'reject'), '');
  commitFile(m, repo, 'y.txt', 'y\n');
  const p2 = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
  assert.notEqual(p2.code, 0, 'the user hook still rejects the push');
  assert.match(p2.stderr, /rejected by my hook/);

  await ok(m.lore(['hooks', 'uninstall'], { cwd: repo }));
  assert.equal(fs.readFileSync(hook, 'utf8'), original);
  assert.equal(fs.statSync(hook).mode & 0o777, 0o750);
  assert.ok(!fs.existsSync(`${hook}.lore-chained`));
  assert.ok(!fs.existsSync(path.join(repo, '.git', 'hooks', 'post-merge')));
});

test('core.hooksPath is honoured; a husky-style folder gets nothing without --force', async () => {
  const m = new Machine('hp');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const custom = path.join(m.home, 'my-hooks');
  m.git(repo, 'config', 'core.hooksPath', custom);
  await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  assert.ok(fs.existsSync(path.join(custom, 'pre-push')));
  assert.ok(!fs.existsSync(path.join(repo, '.git', 'hooks', 'pre-push')));

  const h = m.initRepo(path.join(m.home, 'husky-repo'));
  fs.mkdirSync(path.join(h, '.husky', '_'), { recursive: true });
  fs.writeFileSync(path.join(h, '.husky', 'pre-commit'), 'npm test\n');
  m.git(h, 'config', 'core.hooksPath', '.husky/_');
  const r = await m.lore(['hooks', 'install'], { cwd: h });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /managed by husky; nothing was written/);
  assert.match(r.stderr, /git-lore hook <hook-name> "\$@" \|\| true/);
  assert.deepEqual(fs.readdirSync(path.join(h, '.husky', '_')), []);
  await ok(m.lore(['hooks', 'install', '--force'], { cwd: h }));
  assert.ok(fs.existsSync(path.join(h, '.husky', '_', 'pre-push')));
});

test('the push succeeds whatever lore meets: no git-lore on PATH, unreachable fetch, locked database, corrupt key', async () => {
  const m = new Machine('robust');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  let n = 0;
  const newWork = () => {
    n += 1;
    const id = uuid(100 + n, 'b');
    writeSession(m, repo, id, [userLine(id, repo, `r${n}`, `work ${n}`, n)]);
    commitFile(m, repo, `f${n}.txt`, `${n}\n`);
  };

  newWork();
  const noLore = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env: { PATH: pathWithoutLore() } });
  assert.equal(noLore.code, 0, noLore.stderr);
  assert.match(noLore.stderr, /git-lore is not on PATH, so this pre-push hook does nothing; remove it with: rm /);
  assert.equal(noLore.stderr.trim().split('\n').length, 1);

  newWork();
  m.git(repo, 'remote', 'set-url', 'origin', path.join(m.home, 'gone.git'));
  m.git(repo, 'remote', 'set-url', '--push', 'origin', bare);
  const unreachable = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
  assert.equal(unreachable.code, 0, unreachable.stderr);
  assert.match(unreachable.stderr, /^lore: sessions not synced by the pre-push hook \(cannot fetch the lore ref from origin/);
  assert.equal(unreachable.stderr.trim().split('\n').length, 1);
  m.git(repo, 'remote', 'set-url', 'origin', bare);
  m.git(repo, 'config', '--unset', 'remote.origin.pushurl');

  newWork();
  const db = new Database(path.join(m.vars.LORE_HOME!, 'lore.db'));
  db.exec('BEGIN EXCLUSIVE');
  try {
    const locked = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stderr, /^lore: sessions not synced by the pre-push hook/);
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }

  newWork();
  const keys = path.join(m.vars.LORE_HOME!, 'keys');
  const keyFile = path.join(keys, fs.readdirSync(keys)[0]!);
  const goodKey = fs.readFileSync(keyFile);
  fs.writeFileSync(keyFile, 'not a key');
  const corrupt = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
  assert.equal(corrupt.code, 0, corrupt.stderr);
  assert.match(corrupt.stderr, /corrupt/);
  fs.writeFileSync(keyFile, goodKey);

  // LORE_SKIP and lore.hooks=false: nothing runs, so the new session stays off the remote.
  // (Before this test checked only the push's exit code, which a hook that ignored LORE_SKIP passes too.)
  const before = remoteLoreFiles(m, bare).length;
  newWork();
  const skipped = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env: { LORE_SKIP: '1' } });
  assert.equal(skipped.code, 0);
  assert.equal(skipped.stderr, '', 'a skipped hook says nothing');
  assert.equal(remoteLoreFiles(m, bare).length, before, 'LORE_SKIP=1: the hook sent nothing');
  newWork();
  m.git(repo, 'config', 'lore.hooks', 'false');
  const off = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
  m.git(repo, 'config', '--unset', 'lore.hooks');
  assert.equal(off.code, 0);
  assert.equal(remoteLoreFiles(m, bare).length, before, 'lore.hooks=false: the hook sent nothing');
  // And with everything healthy again, the next plain push carries all the work.
  newWork();
  await ok(m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo }));
  assert.equal(remoteLoreFiles(m, bare).length, n);
  assert.ok(n > before);
});

/** Whether a process is still running (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('the hook time limit stops the sync for real: a remote that never answers costs the push the limit, and nothing the hook started lives on', { timeout: 120000 }, async () => {
  const m = new Machine('hang');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  // Fetches from origin go through a transport that never answers (and records its pids);
  // the code push goes to the real remote.
  const pidFile = path.join(m.home, 'hang.pids');
  const hang = path.join(m.home, 'hang.sh');
  fs.writeFileSync(hang, `#!/bin/sh\necho $$ $PPID >> "${pidFile}"\nexec sleep 600\n`, { mode: 0o755 });
  m.git(repo, 'config', 'protocol.ext.allow', 'always');
  m.git(repo, 'remote', 'set-url', 'origin', `ext::${hang}`);
  m.git(repo, 'remote', 'set-url', '--push', 'origin', bare);
  const id = uuid(1, 'e');
  writeSession(m, repo, id, [userLine(id, repo, 'h1', 'work before a hanging fetch', 1)]);
  commitFile(m, repo, 'hang.txt', 'hang\n');

  const started = Date.now();
  const push = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env: { LORE_HOOK_TIMEOUT: '3' } });
  const elapsed = (Date.now() - started) / 1000;
  const pids = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').split(/\s+/).filter(Boolean).map(Number) : [];
  try {
    assert.equal(push.code, 0, push.stderr);
    assert.ok(elapsed < 3 + 10, `the push took ${elapsed} s with a 3 s hook limit`);
    assert.match(push.stderr, /^lore: the pre-push hook gave up after 3 s .*run `git lore sync` later/);
    assert.equal(push.stderr.trim().split('\n').length, 1, push.stderr);
    assert.equal(m.git(bare, 'rev-parse', 'main'), m.git(repo, 'rev-parse', 'main'), 'the code push went on');
    assert.ok(pids.length >= 2, 'the hanging transport was reached');
    for (let i = 0; i < 20 && pids.some(running); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter(running), [], 'the transport and its git were killed with the hook');
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  // The store is consistent after the kill: with a remote that answers, the next sync sends the work.
  m.git(repo, 'remote', 'set-url', 'origin', bare);
  m.git(repo, 'config', '--unset', 'remote.origin.pushurl');
  await ok(m.lore(['sync', '-q'], { cwd: repo }));
  assert.ok(remoteLoreFiles(m, bare).some((f) => f.includes(id)), 'the session reached the remote on the next sync');
});
