import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unquotePath } from '../../src/git/quote.js';
import { ODD_NAMES, commitFiles, oddRepo } from './odd-names.js';

test('unquotePath undoes git\'s own quoting of every odd name (core.quotePath on and off)', () => {
  const { m, dir } = oddRepo('quote');
  commitFiles(m, dir, Object.fromEntries(ODD_NAMES.map((n) => [n, 'x\n'])), 'add');
  for (const quotePath of ['true', 'false']) {
    // Without -z, git prints one (quoted when unusual) name per line: a name never holds a raw newline.
    const printed = m.git(dir, '-c', `core.quotePath=${quotePath}`, 'ls-files').split('\n').filter(Boolean);
    assert.deepEqual(printed.map(unquotePath).sort(), [...ODD_NAMES, 'README'].sort(), `core.quotePath=${quotePath}`);
    if (quotePath === 'true') assert.ok(printed.includes('"caf\\303\\251.txt"'), 'non-ASCII is quoted as octal');
  }
});

test('unquotePath: plain fields pass through; malformed quoted fields are refused', () => {
  assert.equal(unquotePath('with space'), 'with space');
  assert.equal(unquotePath('"a\\tb\\n\\"\\\\\\303\\251"'), 'a\tb\n"\\é');
  for (const bad of ['"unterminated', '"bad \\q escape"', '"dangling \\"', '"short \\30"', '"inner " quote"']) assert.throws(() => unquotePath(bad), SyntaxError, bad);
});
