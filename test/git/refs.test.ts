import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GitError } from '../../src/errors.js';
import { Git } from '../../src/git/git.js';
import { Machine } from '../helpers/machine.js';
import { commitFiles } from './odd-names.js';

const REF = 'refs/lore/sessions';

/** A repository with two commits; git speaks German if the machine has that locale (it must not matter). */
function repo() {
  const m = new Machine('refs', { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' });
  const dir = m.initRepo(path.join(m.home, 'repo'));
  const c1 = m.git(dir, 'rev-parse', 'HEAD').trim();
  const c2 = commitFiles(m, dir, { f: 'x\n' }, 'second');
  return { m, dir, git: new Git(m.env(dir), dir), c1, c2 };
}

test('updateRef: compare-and-swap wins, and loses when another writer moved the ref', async () => {
  const { git, c1, c2 } = repo();
  assert.equal(await git.updateRef(REF, c1, null), true);
  assert.equal(await git.updateRef(REF, c2, null), false, 'creating a ref that exists loses');
  assert.equal(await git.resolve(REF), c1);
  assert.equal(await git.updateRef(REF, c2, c2), false, 'a stale old value loses');
  assert.equal(await git.updateRef(REF, c2, c1), true);
  // Two writers from the same old value: exactly one wins.
  const results = await Promise.all([git.updateRef(REF, c1, c2), git.updateRef(REF, c1, c2), git.updateRef(REF, c1, c2)]);
  assert.deepEqual(results.filter(Boolean).length, 1, JSON.stringify(results));
  assert.equal(await git.resolve(REF), c1);
});

test('updateRef with alsoDelete: both in one transaction, or neither', async () => {
  const { git, c1, c2 } = repo();
  await git.setRef('refs/lore/tmp/scratch', c2);
  await git.setRef(REF, c1);
  assert.equal(await git.updateRef(REF, c2, c2, 'lore', 'refs/lore/tmp/scratch'), false);
  assert.equal(await git.resolve('refs/lore/tmp/scratch'), c2, 'a lost swap deletes nothing');
  assert.equal(await git.updateRef(REF, c2, c1, 'lore', 'refs/lore/tmp/scratch'), true);
  assert.equal(await git.resolve('refs/lore/tmp/scratch'), null);
  assert.equal(await git.resolve(REF), c2);
});

test('updateRef: a failure with the ref unmoved (a stale lock) is an error with git\'s message, not a lost swap', async () => {
  const { dir, git, c1, c2 } = repo();
  await git.setRef(REF, c1);
  const lock = path.join(dir, '.git', REF + '.lock');
  fs.writeFileSync(lock, '');
  await assert.rejects(git.updateRef(REF, c2, c1), (e: unknown) => e instanceof GitError && /\.lock/.test(e.stderr));
  assert.equal(await git.resolve(REF), c1);
  fs.rmSync(lock);
  assert.equal(await git.updateRef(REF, c2, c1), true);
});

test('refs: deleteRef with an old value, history helpers, and names that are not full refs refused', async () => {
  const { git, c1, c2 } = repo();
  await git.setRef(REF, c2);
  assert.equal(await git.deleteRef(REF, c1), false);
  assert.equal(await git.deleteRef(REF, c2), true);
  assert.equal(await git.resolve(REF), null);
  assert.deepEqual(await git.firstParents('HEAD', 5), [c2, c1]);
  assert.equal(await git.countCommits(`${c1}..HEAD`), 1);
  assert.equal(await git.isAncestor(c1, c2), true);
  assert.equal(await git.isAncestor(c2, c1), false);
  assert.deepEqual(await git.branchesContaining(c1), ['main']);
  assert.equal(await git.currentBranch(), 'main');
  await assert.rejects(git.setRef('--no-deref', c1), GitError);
  await assert.rejects(git.updateRef('HEAD', c1, c2), GitError);
});
