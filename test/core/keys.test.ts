import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { newIdentity } from '../../src/crypto/age-wrap.js';
import { openIndex } from '../../src/format/session-index.js';
import { sessionPaths } from '../../src/format/session-entry.js';

/** An ssh-ed25519 key pair in the machine's ~/.ssh (or `file`), made by ssh-keygen. */
function sshKey(m: Machine, opts: { passphrase?: string; file?: string; type?: string } = {}): { priv: string; pub: string } {
  const priv = opts.file ?? path.join(m.home, '.ssh', 'id_ed25519');
  fs.mkdirSync(path.dirname(priv), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', `${m.name}@test`, '-f', priv], { stdio: 'ignore' });
  return { priv, pub: `${priv}.pub` };
}

async function sessionIds(m: Machine, repo: string): Promise<string[]> {
  const r = await ok(m.lore(['sessions', '--json'], { cwd: repo }));
  return (JSON.parse(r.stdout).sessions as Array<{ id: string }>).map((s) => s.id).sort();
}

async function keyList(m: Machine, repo: string) {
  const r = await ok(m.lore(['keys', 'list', '--json'], { cwd: repo }));
  return JSON.parse(r.stdout) as { storeId: string; format: number; epoch: number; keys: Array<{ id: string; kind: string; label: string | null; fingerprint: string; thisMachine: boolean }> };
}

const remoteTip = (m: Machine, bare: string) => m.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
const NO_PASS = { LORE_PASSPHRASE: undefined, LORE_PASSPHRASE_FILE: undefined };

test('team: two members by ssh key and one by passphrase; add, join, concurrent changes, passphrase change, removal with rotation', { timeout: 240_000 }, async () => {
  const pat = new Machine('kp');
  const ann = new Machine('ka');
  const bob = new Machine('kb');
  const bare = bareRemote(pat);
  const repoP = cloneOn(pat, bare);
  const repoA = cloneOn(ann, bare);
  const repoB = cloneOn(bob, bare);
  const annKey = sshKey(ann);
  const bobKey = sshKey(bob, { passphrase: 'bob ssh key pass', file: path.join(bob.home, 'keys', 'work_ed25519') });

  // Pat creates the store with a passphrase and sends a session.
  const s1 = uuid(1, 'c');
  writeSession(pat, repoP, s1, [userLine(s1, repoP, 'u1', 'before anything', 1)]);
  await ok(pat.lore(['sync', 'setup'], { cwd: repoP, env: PASS }));
  await ok(pat.lore(['sync'], { cwd: repoP }));

  // The last slot cannot go (checked before "this machine's slot").
  const last = await pat.lore(['keys', 'remove', (await keyList(pat, repoP)).keys[0]!.id], { cwd: repoP });
  assert.equal(last.code, 2, last.stderr);
  assert.match(last.stderr, /last key slot/);

  // Bad public keys: clear errors naming what works, nothing written.
  const tip0 = remoteTip(pat, bare);
  const ecdsa = sshKey(pat, { type: 'ecdsa', file: path.join(pat.home, 'ec', 'id_ecdsa') });
  const badEc = await pat.lore(['keys', 'add', 'ec', '--ssh', ecdsa.pub], { cwd: repoP });
  assert.equal(badEc.code, 2);
  assert.match(badEc.stderr, /kind ecdsa-sha2-nistp256 are not supported[\s\S]*ssh-ed25519/);
  const badLine = await pat.lore(['keys', 'add', 'x', '--ssh', 'ssh-ed25519 AAAAnotbase64!!'], { cwd: repoP });
  assert.equal(badLine.code, 2);
  assert.match(badLine.stderr, /malformed ssh public key/);
  const badAge = await pat.lore(['keys', 'add', 'x', '--age', 'age1nope'], { cwd: repoP });
  assert.equal(badAge.code, 2);
  assert.match(badAge.stderr, /malformed age recipient/);
  assert.equal(remoteTip(pat, bare), tip0, 'nothing written');

  // Pat adds Ann and Bob by their ssh public keys (a file, and a line).
  await ok(pat.lore(['keys', 'add', 'ann', '--ssh', annKey.pub], { cwd: repoP }));
  await ok(pat.lore(['keys', 'add', 'bob', '--ssh', fs.readFileSync(bobKey.pub, 'utf8').trim()], { cwd: repoP }));
  const dup = await pat.lore(['keys', 'add', 'ann2', '--ssh', annKey.pub], { cwd: repoP });
  assert.match(dup.stderr, /already has a key slot/);

  // Ann joins with ~/.ssh/id_ed25519, no passphrase anywhere, and receives the session.
  const joinA = await ok(ann.lore(['sync', 'setup', '--no-hooks'], { cwd: repoA, env: NO_PASS }));
  assert.match(joinA.stdout, /joined the lore store/);
  await ok(ann.lore(['sync'], { cwd: repoA }));
  assert.deepEqual(await sessionIds(ann, repoA), [s1]);

  // Bob's key is encrypted: a wrong passphrase is a clear error and caches nothing.
  const wrong = await bob.lore(['sync', 'setup', '--no-hooks', '--identity', bobKey.priv], { cwd: repoB, env: { LORE_SSH_PASSPHRASE: 'not it' } });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /wrong passphrase for the ssh key/);
  const bobKeys = path.join(bob.vars.LORE_HOME!, 'keys');
  assert.ok(!fs.existsSync(bobKeys) || fs.readdirSync(bobKeys).length === 0, 'nothing cached');
  await ok(bob.lore(['sync', 'setup', '--no-hooks', '--identity', bobKey.priv], { cwd: repoB, env: { LORE_SSH_PASSPHRASE: 'bob ssh key pass' } }));
  await ok(bob.lore(['sync'], { cwd: repoB }));
  assert.deepEqual(await sessionIds(bob, repoB), [s1]);

  const listed = await keyList(ann, repoA);
  assert.equal(listed.format, 3);
  assert.deepEqual(listed.keys.map((k) => [k.kind, k.label, k.thisMachine]), [['passphrase', null, false], ['ssh-ed25519', 'ann', true], ['ssh-ed25519', 'bob', false]]);
  assert.match(listed.keys[1]!.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);

  // Two members change keys at once: both changes land (one is applied again on the other's commit).
  const carol = await newIdentity();
  const daveKey = sshKey(pat, { file: path.join(pat.home, 'dave', 'id_ed25519') });
  const [c1, c2] = await Promise.all([
    ann.lore(['keys', 'add', 'carol', '--age', carol.recipient], { cwd: repoA }),
    pat.lore(['keys', 'add', 'dave', '--ssh', daveKey.pub], { cwd: repoP }),
  ]);
  assert.equal(c1.code, 0, c1.stderr);
  assert.equal(c2.code, 0, c2.stderr);
  assert.deepEqual((await keyList(bob, repoB)).keys.map((k) => k.label).slice(1).sort(), ['ann', 'bob', 'carol', 'dave']);

  // Removing the slot this machine uses is refused.
  const own = await ann.lore(['keys', 'remove', 'ann'], { cwd: repoA });
  assert.equal(own.code, 2);
  assert.match(own.stderr, /the one this machine uses/);

  // Pat changes the passphrase (no terminal: both from the environment). The old one no longer joins.
  const NEW = 'a brand new team passphrase for pat';
  await ok(pat.lore(['passphrase', 'change'], { cwd: repoP, env: { ...PASS, LORE_NEW_PASSPHRASE: NEW } }));
  const late = new Machine('kl');
  const repoL = cloneOn(late, bare);
  const old = await late.lore(['sync', 'setup', '--no-hooks'], { cwd: repoL, env: PASS });
  assert.equal(old.code, 1);
  assert.match(old.stderr, /wrong passphrase/);
  await ok(late.lore(['sync', 'setup', '--no-hooks'], { cwd: repoL, env: { LORE_PASSPHRASE: NEW } }));
  const weak = await pat.lore(['passphrase', 'change'], { cwd: repoP, env: { LORE_PASSPHRASE: NEW, LORE_NEW_PASSPHRASE: 'password' } });
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /too weak/);

  // Ann removes Bob: the key rotates. Ann's machine is "killed" before caching the new key (its
  // old key put back): the next command picks the new epoch up through its slot.
  const annKeys = path.join(ann.vars.LORE_HOME!, 'keys', listed.storeId);
  const annOld = fs.readFileSync(annKeys);
  const rm = await ok(ann.lore(['keys', 'remove', 'bob'], { cwd: repoA }));
  assert.match(rm.stdout, /rotated the store key to epoch 1/);
  assert.match(rm.stdout, /can still read every session written before now/);
  fs.writeFileSync(annKeys, annOld);
  const s2 = uuid(2, 'c');
  writeSession(ann, repoA, s2, [userLine(s2, repoA, 'u1', 'after bob left', 2)]);
  await ok(ann.lore(['sync'], { cwd: repoA }));
  assert.notDeepEqual(fs.readFileSync(annKeys), annOld, 'the new key is cached');

  // Pat picks the new epoch up on his next sync, without any action.
  await ok(pat.lore(['sync'], { cwd: repoP }));
  assert.deepEqual(await sessionIds(pat, repoP), [s1, s2].sort());
  // A machine that does not know its slot (joined with an older git-lore: no .slot file) is told
  // to run setup once, and setup joins again although a (stale) key is cached.
  fs.rmSync(path.join(late.vars.LORE_HOME!, 'keys', `${listed.storeId}.slot`));
  const stale = await late.lore(['sync'], { cwd: repoL });
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /was rotated \(epoch 1\)[\s\S]*git lore sync setup/);
  await ok(late.lore(['sync', 'setup', '--no-hooks'], { cwd: repoL, env: { LORE_PASSPHRASE: NEW } }));
  await ok(late.lore(['sync'], { cwd: repoL }));
  assert.deepEqual(await sessionIds(late, repoL), [s1, s2].sort());

  // Bob reads nothing written after: his sync says why, and his old key opens no new index.
  const b = await bob.lore(['sync'], { cwd: repoB });
  assert.equal(b.code, 1);
  assert.match(b.stderr, /no longer in lore store/);
  assert.deepEqual(await sessionIds(bob, repoB), [s1]);
  const bobOld = Buffer.from(fs.readFileSync(path.join(bob.vars.LORE_HOME!, 'keys', listed.storeId), 'utf8').trim(), 'base64');
  const p2 = sessionPaths(s2);
  const meta2 = execFileSync('git', ['cat-file', 'blob', `refs/lore/sessions:${p2.meta}`], { cwd: bare });
  const idx2 = execFileSync('git', ['cat-file', 'blob', `refs/lore/sessions:${p2.idx}`], { cwd: bare });
  assert.equal(idx2.readUInt32BE(6), 1, 'sealed under epoch 1');
  assert.throws(() => openIndex(bobOld, listed.storeId, s2, meta2, idx2, 1), /authentication failed/);

  // --reseal: every index moves to the new epoch; the removed member's key opens none of them.
  await ok(pat.lore(['keys', 'remove', 'dave', '--reseal'], { cwd: repoP, env: { LORE_PASSPHRASE: NEW } }));
  for (const id of [s1, s2]) {
    const idx = execFileSync('git', ['cat-file', 'blob', `refs/lore/sessions:${sessionPaths(id).idx}`], { cwd: bare });
    assert.equal(idx.readUInt32BE(6), 2, `${id} re-sealed under epoch 2`);
  }
  await ok(ann.lore(['sync'], { cwd: repoA }));
  assert.equal((await keyList(ann, repoA)).epoch, 2);
});

test('a slot list edited by someone without the key is refused', { timeout: 120_000 }, async () => {
  const m = new Machine('kt');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  const k = sshKey(m);
  await ok(m.lore(['sync', 'setup', '--no-hooks'], { cwd: repo, env: PASS }));
  await ok(m.lore(['keys', 'add', 'me', '--ssh', k.pub], { cwd: repo }));
  // The host swaps the ssh slot's public key for an attacker's: the next rotation would wrap to it.
  const evil = sshKey(m, { file: path.join(m.home, 'evil', 'id_ed25519') });
  const work = path.join(m.home, 'evil-work');
  m.git(m.home, 'clone', '-q', bare, work);
  m.git(work, 'fetch', '-q', 'origin', 'refs/lore/sessions:refs/lore/sessions');
  m.git(work, 'checkout', '-q', 'refs/lore/sessions');
  const d = JSON.parse(fs.readFileSync(path.join(work, 'lore.json'), 'utf8'));
  d.slots[1].publicKey = fs.readFileSync(evil.pub, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(work, 'lore.json'), JSON.stringify(d, null, 2));
  m.git(work, 'commit', '-qam', 'evil');
  m.git(work, 'push', '-q', 'origin', 'HEAD:refs/lore/sessions');
  const r = await m.lore(['keys', 'list'], { cwd: repo });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /changed by someone without the store's key/);
  const s = await m.lore(['sync'], { cwd: repo });
  assert.equal(s.code, 1);
  assert.match(s.stderr, /changed by someone without the store's key/);
});
