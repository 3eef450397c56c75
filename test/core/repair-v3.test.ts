import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { sessionPaths } from '../../src/format/session-entry.js';

const NO_PASS = { LORE_PASSPHRASE: undefined, LORE_PASSPHRASE_FILE: undefined };
const tipOf = (m: Machine, bare: string) => m.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
const descriptorAt = (m: Machine, bare: string, rev: string) => JSON.parse(m.git(bare, 'cat-file', 'blob', `${rev}:lore.json`)) as { version: number; epoch?: number; slots: Array<{ label?: string }> };

async function sessionIds(m: Machine, repo: string): Promise<string[]> {
  const r = await ok(m.lore(['sessions', '--json'], { cwd: repo }));
  return (JSON.parse(r.stdout).sessions as Array<{ id: string }>).map((s) => s.id).sort();
}

/**
 * What a writer with push access but no key can do: a commit on top of the remote's lore ref
 * whose tree has `lore.json` replaced by `descriptorFrom`'s (an earlier one) and a bogus entry.
 */
function attackerCommit(bare: string, descriptorFrom: string, junkId: string): string {
  const index = path.join(path.dirname(bare), `attack-index-${process.pid}`);
  const env = { ...process.env, GIT_INDEX_FILE: index, GIT_DIR: bare, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };
  const git = (args: string[], input?: string) => execFileSync('git', args, { env, encoding: 'utf8', input }).trim();
  const tip = git(['rev-parse', 'refs/lore/sessions']);
  git(['read-tree', tip]);
  const old = git(['rev-parse', `${descriptorFrom}:lore.json`]);
  const junk = git(['hash-object', '-w', '--stdin'], 'not a sealed metadata blob');
  git(['update-index', '--add', '--cacheinfo', `100644,${old},lore.json`]);
  git(['update-index', '--add', '--cacheinfo', `100644,${junk},${sessionPaths(junkId).meta}`]);
  const tree = git(['write-tree']);
  const commit = git(['commit-tree', tree, '-p', tip, '-m', 'innocent']);
  git(['update-ref', 'refs/lore/sessions', commit, tip]);
  fs.rmSync(index, { force: true });
  return commit;
}

test('git lore repair on a version-3 store: after a writer without the key plants a bogus entry and puts back the descriptor from before a removal, repair keeps the current slots and epoch, pushes on top, and every member syncs again with nothing lost', { timeout: 240_000 }, async () => {
  const pat = new Machine('r3p');
  const ann = new Machine('r3a');
  const gone = new Machine('r3g');
  const carl = new Machine('r3c');
  const bare = bareRemote(pat);
  const repoP = cloneOn(pat, bare);
  const repoA = cloneOn(ann, bare);
  const repoC = cloneOn(carl, bare);
  const keyOf = (m: Machine) => {
    const f = path.join(m.home, '.ssh', 'id_ed25519');
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${m.name}@test`, '-f', f], { stdio: 'ignore' });
    return `${f}.pub`;
  };
  const annPub = keyOf(ann);
  const gonePub = keyOf(gone);
  const carlPub = keyOf(carl);

  // A store with managed keys: Pat (passphrase), Ann and a member who is then removed (epoch 1).
  const s1 = uuid(1, 'a');
  writeSession(pat, repoP, s1, [userLine(s1, repoP, 'u1', 'written under the first key', 1)]);
  await ok(pat.lore(['sync', 'setup', '--no-hooks'], { cwd: repoP, env: PASS }));
  await ok(pat.lore(['sync', '-q'], { cwd: repoP }));
  await ok(pat.lore(['keys', 'add', 'ann', '--ssh', annPub], { cwd: repoP }));
  await ok(pat.lore(['keys', 'add', 'gone', '--ssh', gonePub], { cwd: repoP }));
  // Carl joins before the removal and does not sync again: his cached key is epoch 0's.
  await ok(pat.lore(['keys', 'add', 'carl', '--ssh', carlPub], { cwd: repoP }));
  await ok(carl.lore(['sync', 'setup', '--no-hooks'], { cwd: repoC, env: NO_PASS }));
  const beforeRemoval = tipOf(pat, bare);
  await ok(pat.lore(['keys', 'remove', 'gone'], { cwd: repoP }));
  const s2 = uuid(2, 'a');
  writeSession(pat, repoP, s2, [userLine(s2, repoP, 'u2', 'written under the rotated key', 2)]);
  await ok(pat.lore(['sync', '-q'], { cwd: repoP }));
  await ok(ann.lore(['sync', 'setup', '--no-hooks'], { cwd: repoA, env: NO_PASS }));
  await ok(ann.lore(['sync', '-q'], { cwd: repoA }));
  const s3 = uuid(3, 'a');
  writeSession(ann, repoA, s3, [userLine(s3, repoA, 'u3', 'ann writes too', 3)]);
  await ok(ann.lore(['sync', '-q'], { cwd: repoA }));
  await ok(pat.lore(['sync', '-q'], { cwd: repoP }));
  const good = tipOf(pat, bare);
  const current = pat.git(bare, 'cat-file', 'blob', `${good}:lore.json`);
  assert.equal(descriptorAt(pat, bare, good).version, 3);
  assert.equal(descriptorAt(pat, bare, good).epoch, 1);
  assert.ok(descriptorAt(pat, bare, beforeRemoval).slots.some((s) => s.label === 'gone'));

  // The attack: the epoch-0 descriptor (with the removed member's slot) and a bogus entry on top.
  const junkId = uuid(9, 'f');
  const attacked = attackerCommit(bare, beforeRemoval, junkId);
  const broken = await ann.lore(['sync'], { cwd: repoA });
  assert.equal(broken.code, 1, `the attacked store does not sync: ${broken.stderr}`);

  // Repair, by Carl, whose cached key opens the planted epoch-0 descriptor too: one commit on top
  // of the attacker's (no force), the current descriptor byte for byte (epoch 1, picked up through
  // his slot; no slot for the removed member), every session kept.
  const r = await ok(carl.lore(['repair', '--json'], { cwd: repoC }));
  const out = JSON.parse(r.stdout) as { kept: string[]; dropped: Array<{ id: string }>; removedEntries: number; descriptorRestored: boolean; commit: string };
  assert.deepEqual(out.kept.sort(), [s1, s2, s3]);
  assert.deepEqual(out.dropped.map((d) => d.id), [junkId], 'only the bogus entry is left out');
  assert.ok(out.removedEntries >= 1, 'the bogus entry is gone');
  assert.equal(out.descriptorRestored, true);
  const repaired = tipOf(pat, bare);
  assert.equal(repaired, out.commit);
  assert.equal(pat.git(bare, 'rev-parse', `${repaired}^`).trim(), attacked, 'pushed on top of the remote tip, not forced');
  assert.equal(pat.git(bare, 'cat-file', 'blob', `${repaired}:lore.json`), current, 'slots, epoch and key history exactly as before the attack');
  assert.ok(!descriptorAt(pat, bare, repaired).slots.some((s) => s.label === 'gone'), 'the removed member is not let back in');

  // Teammates' syncs work again, and nothing is lost: every session everywhere, readable.
  await ok(ann.lore(['sync', '-q'], { cwd: repoA }));
  await ok(pat.lore(['sync', '-q'], { cwd: repoP }));
  await ok(carl.lore(['sync', '-q'], { cwd: repoC }));
  assert.deepEqual(await sessionIds(ann, repoA), [s1, s2, s3].sort());
  assert.deepEqual(await sessionIds(carl, repoC), [s1, s2, s3].sort());
  assert.deepEqual(await sessionIds(pat, repoP), [s1, s2, s3].sort());
  const shown = JSON.parse((await ok(ann.lore(['show', '--json', s1], { cwd: repoA }))).stdout) as { messages: Array<{ text: string }> };
  assert.ok(shown.messages.some((m) => m.text === 'written under the first key'), 'a session sealed under epoch 0 still opens');
});
