import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { shq } from '../helpers/terminal.js';
import { newIdentity } from '../../src/crypto/age-wrap.js';

/** An ssh-ed25519 key pair made by ssh-keygen (in ~/.ssh/id_ed25519 unless `file`). */
function sshKey(m: Machine, opts: { passphrase?: string; file?: string } = {}): { priv: string; pub: string } {
  const priv = opts.file ?? path.join(m.home, '.ssh', 'id_ed25519');
  fs.mkdirSync(path.dirname(priv), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', opts.passphrase ?? '', '-C', `${m.name}@test`, '-f', priv], { stdio: 'ignore' });
  return { priv, pub: `${priv}.pub` };
}

const NO_PASS = { LORE_PASSPHRASE: undefined, LORE_PASSPHRASE_FILE: undefined };
const remoteTip = (m: Machine, bare: string) => m.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
const storeIdOf = (m: Machine, bare: string) => (JSON.parse(m.git(bare, 'cat-file', 'blob', 'refs/lore/sessions:lore.json')) as { storeId: string }).storeId;

test('a join by ssh or age key pins the store like a passphrase join: a swapped store (with the member\'s public key in it) stops sync and is not joined by key unless its id is accepted', { timeout: 180_000 }, async () => {
  const owner = new Machine('tro');
  const member = new Machine('trm');
  const ager = new Machine('tra');
  const attacker = new Machine('trx');
  const bare = bareRemote(owner);
  const repoO = cloneOn(owner, bare);
  const repoM = cloneOn(member, bare);
  const repoA = cloneOn(ager, bare);
  const memberKey = sshKey(member);
  const age = await newIdentity();
  const ageFile = path.join(ager.home, 'age.key');
  fs.writeFileSync(ageFile, `${age.identity}\n`, { mode: 0o600 });

  await ok(owner.lore(['sync', 'setup', '--no-hooks'], { cwd: repoO, env: PASS }));
  const real = storeIdOf(owner, bare);
  await ok(owner.lore(['keys', 'add', 'member', '--ssh', memberKey.pub], { cwd: repoO }));
  await ok(owner.lore(['keys', 'add', 'ager', '--age', age.recipient], { cwd: repoO }));

  // Both join by key, no passphrase anywhere: first use pins the (remote, store id) pair.
  assert.match((await ok(member.lore(['sync', 'setup', '--no-hooks'], { cwd: repoM, env: NO_PASS }))).stdout, new RegExp(`joined the lore store ${real}`));
  assert.match((await ok(ager.lore(['sync', 'setup', '--no-hooks', '--identity', ageFile], { cwd: repoA, env: NO_PASS }))).stdout, new RegExp(`joined the lore store ${real}`));
  const s1 = uuid(1, 'e');
  writeSession(member, repoM, s1, [userLine(s1, repoM, 'u1', 'the member\'s own reasoning', 1)]);
  await ok(member.lore(['sync', '-q'], { cwd: repoM }));
  await ok(ager.lore(['sync', '-q'], { cwd: repoA }));

  // An attacker with push access writes a store of their own that the member's public key opens
  // (public keys are public) and puts it in place of the team's.
  const other = path.join(attacker.home, 'other.git');
  attacker.git(attacker.home, 'init', '-q', '--bare', other);
  const repoX = attacker.initRepo(path.join(attacker.home, 'x'));
  attacker.git(repoX, 'remote', 'add', 'origin', other);
  attacker.git(repoX, 'push', '-q', 'origin', 'main');
  await ok(attacker.lore(['sync', 'setup', '--no-hooks'], { cwd: repoX, env: { LORE_PASSPHRASE: 'the attacker owns this passphrase' } }));
  await ok(attacker.lore(['keys', 'add', 'victim', '--ssh', memberKey.pub], { cwd: repoX }));
  owner.git(bare, 'fetch', '-q', other, '+refs/lore/sessions:refs/lore/sessions');
  const swapped = remoteTip(owner, bare);
  const fake = storeIdOf(owner, bare);
  assert.notEqual(fake, real);

  // Every sync of a key-joined clone stops with the store-changed error and sends nothing.
  writeSession(member, repoM, s1, [userLine(s1, repoM, 'u2', 'more private reasoning', 2)], true);
  for (const [m, repo] of [[member, repoM], [ager, repoA]] as const) {
    const r = await m.lore(['sync'], { cwd: repo, env: NO_PASS });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`the lore store on origin changed: this clone joined store ${real}, the remote now holds store ${fake}`));
  }
  assert.equal(remoteTip(owner, bare), swapped, 'nothing pushed');

  // Setup does not join the swapped store by key, though the key opens it; nothing is written.
  const again = await member.lore(['sync', 'setup', '--no-hooks'], { cwd: repoM, env: NO_PASS });
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, new RegExp(`it knew store ${real}, the remote holds store ${fake}.*anyone with push access can write a store your public key opens`));
  assert.match(again.stderr, new RegExp(`--accept-store ${fake}`));
  assert.equal((await member.lore(['sync'], { cwd: repoM, env: NO_PASS })).code, 1, 'still pinned to the team\'s store');
  // A fresh clone of the same address on this machine: the address is pinned too.
  const fresh = cloneOn(member, bare, 'fresh');
  const freshSetup = await member.lore(['sync', 'setup', '--no-hooks'], { cwd: fresh, env: NO_PASS });
  assert.equal(freshSetup.code, 1, freshSetup.stderr);
  assert.match(freshSetup.stderr, /not the one this clone knew/);
  assert.equal(remoteTip(owner, bare), swapped, 'nothing pushed');

  // A wrong id is refused; the announced id is accepted on purpose (the old ref is kept aside).
  const wrong = await member.lore(['sync', 'setup', '--no-hooks', '--accept-store', real], { cwd: repoM, env: NO_PASS });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, new RegExp(`is store ${fake}, not ${real}`));
  assert.match((await ok(member.lore(['sync', 'setup', '--no-hooks', '--accept-store', fake], { cwd: repoM, env: NO_PASS }))).stdout, /joined the lore store/);
  await ok(member.lore(['sync', '-q'], { cwd: repoM, env: NO_PASS }));
  assert.ok(member.git(repoM, 'for-each-ref', '--format=%(refname)', 'refs/lore/replaced/').includes(real));
});

/** `git push` on a pseudo-terminal (util-linux `script`): stdin, stdout and stderr are the terminal. */
function pushInTerminal(m: Machine, cwd: string, env: Record<string, string | undefined>): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...m.vars, TERM: 'xterm', ...env })) if (v !== undefined) vars[k] = v;
    const child = spawn('script', ['-qefc', ['git', 'push', '-q', 'origin', 'main'].map(shq).join(' '), '/dev/null'], { cwd, env: vars, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    // A hook that asked for a passphrase would wait here for ever: the test's own limit ends it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`git push did not finish; the terminal showed:\n${screen}`));
    }, 90_000);
    child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n') });
    });
  });
}

test('an encrypted ssh key in the hooks: the key unwrapped at join is cached, so pushes sync without it; after a rotation the hook says once what to run and never prompts', { timeout: 240_000 }, async () => {
  const owner = new Machine('tho');
  const bob = new Machine('thb');
  const carl = new Machine('thc');
  const bare = bareRemote(owner);
  const repoO = cloneOn(owner, bare);
  const repoB = cloneOn(bob, bare);
  const bobKey = sshKey(bob, { passphrase: 'bob ssh key pass', file: path.join(bob.home, 'keys', 'work_ed25519') });
  const carlKey = sshKey(carl);
  await ok(owner.lore(['sync', 'setup', '--no-hooks'], { cwd: repoO, env: PASS }));
  await ok(owner.lore(['keys', 'add', 'bob', '--ssh', bobKey.pub], { cwd: repoO }));
  await ok(owner.lore(['keys', 'add', 'carl', '--ssh', carlKey.pub], { cwd: repoO }));

  // Bob joins with his encrypted key (its passphrase given once, for the join) and installs the hooks.
  await ok(bob.lore(['sync', 'setup', '--no-hooks', '--identity', bobKey.priv], { cwd: repoB, env: { ...NO_PASS, LORE_SSH_PASSPHRASE: 'bob ssh key pass' } }));
  await ok(bob.lore(['hooks', 'install'], { cwd: repoB }));
  const commit = (n: number) => {
    fs.writeFileSync(path.join(repoB, `f${n}`), `${n}\n`);
    bob.git(repoB, 'add', '.');
    bob.git(repoB, 'commit', '-qm', `c${n}`);
  };

  // A push on a terminal syncs through the cached key: no ssh passphrase asked, the session sent.
  const s1 = uuid(1, 'd');
  writeSession(bob, repoB, s1, [userLine(s1, repoB, 'u1', 'bob reasons', 1)]);
  commit(1);
  const first = await pushInTerminal(bob, repoB, NO_PASS);
  assert.equal(first.code, 0, first.screen);
  assert.match(first.screen, /lore: sent 1 session to origin/);
  assert.doesNotMatch(first.screen, /[Pp]assphrase for/);

  // The owner removes Carl: the store key is rotated, and Bob's slot holds the new key.
  await ok(owner.lore(['keys', 'remove', 'carl'], { cwd: repoO }));
  const s2 = uuid(2, 'd');
  writeSession(bob, repoB, s2, [userLine(s2, repoB, 'u2', 'bob reasons again', 2)]);
  commit(2);
  const second = await pushInTerminal(bob, repoB, NO_PASS);
  assert.equal(second.code, 0, `the push goes on: ${second.screen}`);
  assert.doesNotMatch(second.screen, /[Pp]assphrase for/, 'no prompt from a hook');
  const said = second.screen.split('\n').filter((l) => l.startsWith('lore:'));
  assert.equal(said.length, 1, second.screen);
  assert.match(said[0]!, /rotated.*encrypted.*run `git lore sync` in a terminal/);
  assert.equal(bob.git(repoB, 'rev-parse', 'main').trim(), bob.git(bare, 'rev-parse', 'main').trim(), 'the branch was pushed');

  // What the line says works: `git lore sync` with the key's passphrase picks up the new key, and
  // the next push's hook syncs by itself again.
  await ok(bob.lore(['sync', '-q'], { cwd: repoB, env: { ...NO_PASS, LORE_SSH_PASSPHRASE: 'bob ssh key pass' } }));
  const s3 = uuid(3, 'd');
  writeSession(bob, repoB, s3, [userLine(s3, repoB, 'u3', 'bob reasons a third time', 3)]);
  commit(3);
  const third = await pushInTerminal(bob, repoB, NO_PASS);
  assert.equal(third.code, 0, third.screen);
  assert.match(third.screen, /lore: sent 1 session to origin/);
  await ok(owner.lore(['sync', '-q'], { cwd: repoO }));
  const ids = (JSON.parse((await ok(owner.lore(['sessions', '--json'], { cwd: repoO }))).stdout).sessions as Array<{ id: string }>).map((s) => s.id).sort();
  assert.deepEqual(ids, [s1, s2, s3]);
});
