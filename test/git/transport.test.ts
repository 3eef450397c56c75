import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GitError } from '../../src/errors.js';
import { Git } from '../../src/git/git.js';
import { parseLsRemote, parsePushPorcelain } from '../../src/git/transport.js';
import { bareRemote, cloneOn } from '../helpers/repos.js';
import { Machine } from '../helpers/machine.js';
import { commitFiles } from './odd-names.js';

/**
 * A repository whose ssh is a script that prints what it was given (the locale and the prompt
 * setting git passed down) and fails: what each transport call gives its git child, seen by a
 * real git.
 */
function sshSpy(vars: Record<string, string> = {}) {
  const m = new Machine('transport', { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8', LC_MESSAGES: 'de_DE.UTF-8', ...vars });
  const dir = m.initRepo(path.join(m.home, 'repo'));
  const spy = path.join(m.home, 'fake-ssh');
  fs.writeFileSync(spy, '#!/bin/sh\necho "seen: LC_ALL=$LC_ALL PROMPT=${GIT_TERMINAL_PROMPT-unset}" >&2\nexit 1\n', { mode: 0o755 });
  m.git(dir, 'config', 'core.sshCommand', spy);
  const batch = m.env(dir);
  const interactive = { ...batch, stdinIsTTY: true, prompt: async () => '' };
  return { batch: new Git(batch, dir), interactive: new Git(interactive, dir) };
}
const URL = 'ssh://example.invalid/repo.git';
const seen = (stderr: string) => /seen: (.*)/.exec(stderr)?.[1];
const lsRemoteSeen = (p: Promise<unknown>) => p.then(() => assert.fail('ls-remote succeeded'), (e: unknown) => (assert.ok(e instanceof GitError), seen(e.stderr)));

test('transport: git children get LC_ALL=C; no credential prompt outside a terminal, the user\'s own setting at one', async () => {
  const { batch, interactive } = sshSpy();
  assert.equal(seen((await batch.fetch(URL, ['refs/heads/main'])).stderr), 'LC_ALL=C PROMPT=0');
  assert.equal(seen((await batch.push(URL, ['HEAD:refs/heads/x'])).run.stderr), 'LC_ALL=C PROMPT=0');
  assert.equal(await lsRemoteSeen(batch.lsRemote(URL, 'refs/heads/main')), 'LC_ALL=C PROMPT=0');
  // At a terminal git may ask, as it would for the user's own command.
  assert.equal(seen((await interactive.fetch(URL, ['refs/heads/main'])).stderr), 'LC_ALL=C PROMPT=unset');
  assert.equal(await lsRemoteSeen(interactive.lsRemote(URL, 'refs/heads/main')), 'LC_ALL=C PROMPT=unset');
  // The remote helper's code transfers ask for `inherit` whatever the Env.
  assert.equal(await lsRemoteSeen(batch.lsRemoteAll(URL, 'inherit')), 'LC_ALL=C PROMPT=unset');
  assert.equal(seen((await batch.fetch(URL, ['refs/heads/main'], { prompt: 'inherit' })).stderr), 'LC_ALL=C PROMPT=unset');
});

test('transport: a user\'s GIT_TERMINAL_PROMPT=0 is kept even at a terminal', async () => {
  const { interactive } = sshSpy({ GIT_TERMINAL_PROMPT: '0' });
  assert.equal(seen((await interactive.fetch(URL, ['refs/heads/main'])).stderr), 'LC_ALL=C PROMPT=0');
});

test('transport: ls-remote listings, fetch and push porcelain against a real bare remote', async () => {
  const m = new Machine('transport-real');
  const bare = bareRemote(m);
  const a = cloneOn(m, bare, 'a');
  const b = cloneOn(m, bare, 'b');
  const ga = new Git(m.env(a), a);
  const gb = new Git(m.env(b), b);
  const listing = await ga.lsRemoteAll(bare);
  assert.equal(listing.symrefs.get('HEAD'), 'refs/heads/main');
  const main = m.git(a, 'rev-parse', 'HEAD').trim();
  assert.deepEqual(listing.refs, [{ oid: main, name: 'HEAD' }, { oid: main, name: 'refs/heads/main' }]);
  assert.equal(await ga.lsRemote(bare, 'refs/heads/main'), main);
  assert.equal(await ga.lsRemote(bare, 'refs/lore/sessions'), null);
  await assert.rejects(ga.lsRemote(path.join(m.home, 'nowhere'), 'HEAD'), GitError);

  commitFiles(m, a, { 'a file': 'a\n' }, 'a');
  commitFiles(m, b, { 'b file': 'b\n' }, 'b');
  const ok = await ga.push(bare, ['HEAD:refs/heads/main', 'HEAD:refs/heads/new-branch']);
  assert.equal(ok.run.exitCode, 0);
  assert.deepEqual(ok.refs.map((r) => [r.flag, r.src, r.dst]), [[' ', 'HEAD', 'refs/heads/main'], ['*', 'HEAD', 'refs/heads/new-branch']]);
  // b is behind: its push is rejected, told by the porcelain flag (not by any message).
  const rejected = await gb.push(bare, ['HEAD:refs/heads/main']);
  assert.notEqual(rejected.run.exitCode, 0);
  assert.equal(rejected.refs[0]!.flag, '!');
  assert.equal(rejected.refs[0]!.dst, 'refs/heads/main');
  const fetched = await gb.fetch(bare, ['+refs/heads/main:refs/remotes/origin/main'], { quiet: true });
  assert.equal(fetched.exitCode, 0);
  assert.equal(await gb.resolve('refs/remotes/origin/main'), m.git(a, 'rev-parse', 'HEAD').trim());
});

test('parsePushPorcelain and parseLsRemote: the fields, and nothing from other lines', () => {
  assert.deepEqual(parsePushPorcelain('To /x\n!\trefs/heads/a:refs/heads/a\t[rejected] (fetch first)\n=\tHEAD:refs/lore/sessions\t[up to date]\nDone\n'), [
    { flag: '!', src: 'refs/heads/a', dst: 'refs/heads/a', summary: '[rejected]', reason: 'fetch first' },
    { flag: '=', src: 'HEAD', dst: 'refs/lore/sessions', summary: '[up to date]', reason: '' },
  ]);
  const oid = 'c'.repeat(40);
  assert.deepEqual(parseLsRemote(`ref: refs/heads/main\tHEAD\n${oid}\tHEAD\n${oid}\trefs/heads/main\nwarning: x\n`), { refs: [{ oid, name: 'HEAD' }, { oid, name: 'refs/heads/main' }], symrefs: new Map([['HEAD', 'refs/heads/main']]) });
});
