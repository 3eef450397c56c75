import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GitError } from '../../src/errors.js';
import { parseLogPatches } from '../../src/git/log.js';
import type { LogFile } from '../../src/git/git.js';
import { ODD_NAMES, commitFiles, oddRepo } from './odd-names.js';

/** Line texts name their file as JSON: a name may hold a newline. */
const label = (name: string) => JSON.stringify(name);
const tenLines = (name: string) => Array.from({ length: 10 }, (_, i) => `line ${i + 1} of ${label(name)}\n`).join('');

/**
 * Two commits over every odd name: the first adds them, the second appends to most, renames two
 * (one with a newline in its name), turns one into a symbolic link, deletes one, changes a mode,
 * adds a binary file and a submodule, and appends lines that look like patch headers. The
 * repository's configuration turns on everything that changes `git log -p` output for people.
 */
function historyRepo() {
  const r = oddRepo('log');
  const { m, dir } = r;
  const c1 = commitFiles(m, dir, Object.fromEntries(ODD_NAMES.map((n) => [n, tenLines(n)])), 'add odd names');
  for (const [k, v] of [
    ['core.quotePath', 'true'], ['diff.noprefix', 'true'], ['diff.mnemonicPrefix', 'true'], ['color.ui', 'always'], ['color.diff', 'always'],
    ['diff.external', 'false'], ['diff.submodule', 'log'], ['diff.renames', 'false'], ['i18n.logOutputEncoding', 'ISO-8859-1'],
    ['diff.upper.textconv', 'tr a-z A-Z'], ['log.showSignature', 'false'], ['diff.relative', 'true'],
  ]) m.git(dir, 'config', k!, v!);
  fs.writeFileSync(path.join(dir, '.git', 'info', 'attributes'), '* diff=upper\n');
  const keep = ODD_NAMES.filter((n) => !['plain.txt', '"quoted".txt', '-leading-dash.txt', 'diff --git a b', 'ta\tb.txt'].includes(n));
  for (const n of keep) fs.appendFileSync(path.join(dir, n), `added to ${label(n)}\n`);
  fs.renameSync(path.join(dir, 'with space.txt'), path.join(dir, 'renamed with space.txt'));
  fs.renameSync(path.join(dir, 'new\nline.txt'), path.join(dir, 'moved\nagain.txt'));
  fs.rmSync(path.join(dir, 'plain.txt'));
  fs.symlinkSync('café.txt', path.join(dir, 'plain.txt'));
  fs.rmSync(path.join(dir, '"quoted".txt'));
  fs.chmodSync(path.join(dir, '-leading-dash.txt'), 0o755);
  fs.appendFileSync(path.join(dir, 'ta\tb.txt'), 'no newline at the end');
  fs.appendFileSync(path.join(dir, 'diff --git a b'), 'diff --git a/x b/x\n@@ -1 +1 @@\n+++ b/evil\n\x01fake commit\n-not removed\n\\ not a marker\n');
  fs.writeFileSync(path.join(dir, 'bin ary.dat'), Buffer.from([0, 1, 2, 0, 255, 10, 0]));
  m.git(dir, 'add', '-A');
  m.git(dir, 'update-index', '--add', '--cacheinfo', `160000,${c1},sub module`);
  m.git(dir, 'commit', '-q', '-m', 'Zweite Änderung — ünï');
  const c2 = m.git(dir, 'rev-parse', 'HEAD').trim();
  return { ...r, c1, c2 };
}

const byPath = (files: LogFile[]) => new Map(files.map((f) => [f.path, f]));

test('logPatches: exact paths and added lines for odd file names, whatever the configuration', async () => {
  const { git, c1, c2 } = historyRepo();
  const commits = await git.logPatches('HEAD', { max: 2 });
  assert.deepEqual(commits.map((c) => c.commit), [c2, c1]);
  assert.equal(commits[0]!.subject, 'Zweite Änderung — ünï');

  // The first commit: every name added with its ten lines, numbered from 1.
  const first = byPath(commits[1]!.files);
  assert.deepEqual([...first.keys()].sort(), [...ODD_NAMES].sort());
  for (const n of ODD_NAMES) {
    assert.equal(first.get(n)!.status, 'A', n);
    assert.deepEqual(first.get(n)!.added, Array.from({ length: 10 }, (_, i) => ({ line: i + 1, text: `line ${i + 1} of ${label(n)}` })), n);
  }

  // The second commit.
  const second = byPath(commits[0]!.files);
  const appended = (n: string) => [{ line: 11, text: `added to ${label(n)}` }];
  assert.match(second.get('renamed with space.txt')!.status, /^R\d+$/);
  assert.equal(second.get('renamed with space.txt')!.oldPath, 'with space.txt');
  assert.deepEqual(second.get('renamed with space.txt')!.added, appended('with space.txt'));
  assert.equal(second.get('moved\nagain.txt')!.oldPath, 'new\nline.txt');
  assert.deepEqual(second.get('moved\nagain.txt')!.added, appended('new\nline.txt'));
  for (const n of ['*.txt', 'qu"ote.txt', 'back\\slash.txt', 'café.txt', 'ünïcødé dir/naïve 名前.txt', '--', ' lead and trail ']) {
    assert.deepEqual(second.get(n), { status: 'M', path: n, oldPath: null, added: appended(n) }, n);
  }
  assert.deepEqual(second.get('plain.txt'), { status: 'T', path: 'plain.txt', oldPath: null, added: [{ line: 1, text: 'café.txt' }] });
  assert.deepEqual(second.get('"quoted".txt'), { status: 'D', path: '"quoted".txt', oldPath: null, added: [] });
  assert.deepEqual(second.get('-leading-dash.txt'), { status: 'M', path: '-leading-dash.txt', oldPath: null, added: [] });
  assert.deepEqual(second.get('bin ary.dat'), { status: 'A', path: 'bin ary.dat', oldPath: null, added: [] });
  assert.deepEqual(second.get('sub module'), { status: 'A', path: 'sub module', oldPath: null, added: [] });
  assert.deepEqual(second.get('ta\tb.txt')!.added, [{ line: 11, text: 'no newline at the end' }]);
  // Content that looks like headers is content (no textconv: lower case as written).
  assert.deepEqual(second.get('diff --git a b')!.added, ['diff --git a/x b/x', '@@ -1 +1 @@', '+++ b/evil', '\x01fake commit', '-not removed', '\\ not a marker'].map((text, i) => ({ line: 11 + i, text })));
  assert.equal(second.size, 16);
});

test('logPatches: merges list no files; a range git refuses is a GitError with its exit code', async () => {
  const { m, dir, git } = oddRepo('log-merge');
  m.git(dir, 'checkout', '-q', '-b', 'side');
  commitFiles(m, dir, { 'side file': 'a\n' }, 'side');
  m.git(dir, 'checkout', '-q', 'main');
  commitFiles(m, dir, { 'main file': 'b\n' }, 'main');
  m.git(dir, 'merge', '-q', '--no-edit', 'side');
  const commits = await git.logPatches('HEAD', { max: 3 });
  assert.equal(commits.length, 3);
  assert.deepEqual(commits[0]!.files, []);
  assert.deepEqual(commits.slice(1).map((c) => c.files.map((f) => f.path)).sort(), [['main file'], ['side file']]);
  await assert.rejects(git.logPatches('no-such-branch..HEAD'), (e: unknown) => e instanceof GitError && e.gitExitCode !== 0 && /no-such-branch/.test(e.stderr));
});

test('parseLogPatches: truncated or foreign output is a GitError, never a wrong attribution', () => {
  const h = 'a'.repeat(40);
  const good = Buffer.from(`\x01${h}\x00100\x00s\x00\n:000000 100644 ${'0'.repeat(40)} ${'b'.repeat(40)} A\x00f\x00\x00diff --git a/f b/f\n--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+one\n+two\n`, 'latin1');
  assert.deepEqual(parseLogPatches(good)[0]!.files, [{ status: 'A', path: 'f', oldPath: null, added: [{ line: 1, text: 'one' }, { line: 2, text: 'two' }] }]);
  const bad = [
    good.subarray(0, good.length - 5), // a hunk cut short
    Buffer.from(good.toString('latin1').replace('+++ b/f', '+++ b/g'), 'latin1'), // a section that is not its record's
    Buffer.from(good.toString('latin1').replace(' A\x00f\x00\x00', ' A\x00f\x00'), 'latin1'), // no end of the raw records
    Buffer.from(`diff --git a/f b/f\n`), // no commit header
    Buffer.from(good.toString('latin1') + 'diff --git a/f b/f\n', 'latin1'), // more sections than records
  ];
  for (const b of bad) assert.throws(() => parseLogPatches(b), GitError, JSON.stringify(b.toString('latin1').slice(-40)));
});
