import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractPatchFromCommand, parseApplyPatch } from '../../src/sources/apply-patch.js';

test('apply_patch: add, update with context, move and delete', () => {
  const ops = parseApplyPatch([
    '*** Begin Patch',
    '*** Add File: src/new.js',
    '+const a = 1;',
    '+',
    '*** Update File: src/old.js',
    '*** Move to: src/renamed.js',
    '@@ function f()',
    ' context',
    '-removed',
    '+added line',
    '*** End of File',
    '*** Delete File: gone.txt',
    '*** End Patch',
  ].join('\n'));
  assert.deepEqual(ops, [
    { op: 'add', path: 'src/new.js', added: ['const a = 1;', ''] },
    { op: 'move', path: 'src/old.js', movePath: 'src/renamed.js', added: ['added line'] },
    { op: 'delete', path: 'gone.txt', added: [] },
  ]);
});

test('apply_patch: junk and truncated patches yield what can be read, never throw', () => {
  assert.deepEqual(parseApplyPatch('not a patch at all\n+plus'), []);
  assert.deepEqual(parseApplyPatch('*** Begin Patch\n*** Add File: a\n+x'), [{ op: 'add', path: 'a', added: ['x'] }]);
  assert.deepEqual(parseApplyPatch(''), []);
});

test('apply_patch inside a shell heredoc (older Codex builds)', () => {
  const cmd = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: x.txt\n+hi\n*** End Patch\nEOF";
  const patch = extractPatchFromCommand(cmd);
  assert.ok(patch);
  assert.deepEqual(parseApplyPatch(patch), [{ op: 'add', path: 'x.txt', added: ['hi'] }]);
  assert.equal(extractPatchFromCommand('ls -la'), null);
});
