import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ODD_NAMES, commitFiles, oddRepo } from './odd-names.js';

test('lsTree, diffTree, readBlob, lsFiles: odd file names exactly, each one alone when asked for', async () => {
  const { m, dir, git } = oddRepo('objects');
  const c0 = m.git(dir, 'rev-parse', 'HEAD').trim();
  const c1 = commitFiles(m, dir, Object.fromEntries(ODD_NAMES.map((n) => [n, `content of ${JSON.stringify(n)}\n`])), 'add');
  const all = await git.lsTree(c1);
  assert.deepEqual(all.map((e) => e.path).sort(), [...ODD_NAMES, 'README'].sort());
  for (const e of all) assert.equal(e.size, fs.statSync(path.join(dir, e.path)).size, e.path);
  for (const n of ODD_NAMES) {
    // '--' and '-leading-dash.txt' are paths here, not options; '*.txt' is that file, not a glob.
    assert.deepEqual((await git.lsTree(c1, [n])).map((e) => e.path), [n], n);
    assert.equal((await git.readBlob(c1, n))?.toString('utf8'), `content of ${JSON.stringify(n)}\n`, n);
    assert.deepEqual(await git.lsFiles([n]), [n], n);
  }
  assert.equal(await git.readBlob(c1, 'no such file'), null);

  const changes = await git.diffTree(c0, c1);
  assert.deepEqual(changes.map((c) => [c.status, c.path]).sort(), ODD_NAMES.map((n) => ['A', n]).sort());
  assert.deepEqual((await git.diffTree(c0, c1, ['new\nline.txt', '--', '*.txt'])).map((c) => c.path).sort(), ['*.txt', '--', 'new\nline.txt']);
});
