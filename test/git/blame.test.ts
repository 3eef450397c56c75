import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { ODD_NAMES, commitFiles, oddRepo } from './odd-names.js';

test('blame: every odd file name, and the original name of moved lines exactly (quoted filename headers undone)', async () => {
  const { m, dir, git } = oddRepo('blame');
  m.git(dir, 'config', 'core.quotePath', 'true');
  const c1 = commitFiles(m, dir, Object.fromEntries(ODD_NAMES.map((n) => [n, `first of ${JSON.stringify(n)}\nsecond\n`])), 'add');
  for (const n of ODD_NAMES) {
    const lines = await git.blame(n);
    assert.deepEqual(lines.map((l) => [l.line, l.text, l.commit, l.filename]), [[1, `first of ${JSON.stringify(n)}`, c1, n], [2, 'second', c1, n]], n);
  }
  // Moved to a new name: -M follows the lines, whose filename header is the old (quoted) name.
  const moves: Array<[string, string]> = [['new\nline.txt', 'plain target'], ['café.txt', 'ta\tb moved'], ['qu"ote.txt', '-dashed "again"'], ['ünïcødé dir/naïve 名前.txt', 'ascii.txt']];
  for (const [from, to] of moves) {
    fs.rmSync(path.join(dir, to), { force: true });
    fs.renameSync(path.join(dir, from), path.join(dir, to));
    fs.appendFileSync(path.join(dir, to), 'third\n');
  }
  m.git(dir, 'add', '-A');
  m.git(dir, 'commit', '-q', '-m', 'move');
  const c2 = m.git(dir, 'rev-parse', 'HEAD').trim();
  for (const [from, to] of moves) {
    const lines = await git.blame(to, { flags: ['-M'] });
    assert.deepEqual(lines.map((l) => [l.commit, l.filename, l.text]), [[c1, from, `first of ${JSON.stringify(from)}`], [c1, from, 'second'], [c2, to, 'third']], `${from} -> ${to}`);
  }
  // An old revision and a range.
  const old = await git.blame('café.txt', { rev: c1, range: '2,2' });
  assert.deepEqual(old.map((l) => [l.line, l.text]), [[2, 'second']]);
});

test('blame: a revision that git would read as an option is refused before git runs', async () => {
  const { git } = oddRepo('blame-rev');
  await assert.rejects(git.blame('README', { rev: '--output=/tmp/x' }), UsageError);
  await assert.rejects(git.blame('README', { flags: ['--contents=/etc/passwd'] }), UsageError);
});
