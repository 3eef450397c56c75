import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { bareRemote, cloneOn, ok } from '../helpers/repos.js';
import { inTerminal } from '../helpers/terminal.js';
import { HiddenLine } from '../../src/cli/process-env.js';

const loreRefs = (m: Machine, dir: string) => m.git(dir, 'for-each-ref', '--format=%(refname)', 'refs/lore');
const keys = (m: Machine) => (fs.existsSync(path.join(m.vars.LORE_HOME!, 'keys')) ? fs.readdirSync(path.join(m.vars.LORE_HOME!, 'keys')) : []);

test('the hidden line editor: Backspace, Ctrl-U, Ctrl-W, Ctrl-D, Ctrl-C, arrow keys', () => {
  const type = (keys: string) => {
    const l = new HiddenLine();
    for (const k of keys) {
      const r = l.key(k);
      if (r) return { r, value: l.value };
    }
    return { r: null, value: l.value };
  };
  assert.deepEqual(type('abd\x7fc\r'), { r: 'enter', value: 'abc' });
  assert.deepEqual(type('oops\x15good\r'), { r: 'enter', value: 'good' });
  assert.deepEqual(type('two words\x17pass\r'), { r: 'enter', value: 'two pass' });
  assert.deepEqual(type('ab\x04c\r'), { r: 'enter', value: 'abc' }, 'Ctrl-D inside a line is ignored');
  assert.deepEqual(type('\x04'), { r: 'eof', value: '' });
  assert.deepEqual(type('secret\x03'), { r: 'interrupt', value: 'secret' });
  assert.deepEqual(type('a\x1b[Db\x1bOA\r'), { r: 'enter', value: 'ab' });
});

test('on a terminal: line editing, three tries for passphrases that differ or are wrong', async () => {
  const a = new Machine('ppA');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const create = await inTerminal(a, ['sync', 'setup', '--no-hooks'], {
    cwd: repoA,
    steps: [
      { after: 'Passphrase: ', type: 'junk\x15secret walrus harbor\x04 one\r' },
      { after: 'Passphrase again: ', type: 'secret walrus harbor onx\r' },
      { after: 'Passphrase: ', type: 'secret walrus harbor onf\x7fe\r' },
      { after: 'Passphrase again: ', type: 'secret walrus harbor one\r' },
    ],
  });
  assert.equal(create.code, 0, create.screen);
  assert.match(create.screen, /The two passphrases differ\. Try again\.\n/);
  assert.match(create.screen, /created a new lore store/);
  assert.doesNotMatch(create.screen, /secret|junk/, 'nothing typed is echoed');

  // The passphrase is exactly what the edited lines said: another machine joins with it.
  const b = new Machine('ppB');
  const repoB = cloneOn(b, bare);
  const wrong = await inTerminal(b, ['sync', 'setup', '--no-hooks'], {
    cwd: repoB,
    steps: [
      { after: 'Passphrase: ', type: 'secret two\r' },
      { after: 'Try again.', type: '' },
      { after: 'Passphrase: ', type: 'secret three\r' },
      { after: 'Try again.', type: '' },
      { after: 'Passphrase: ', type: 'secret four\r' },
    ],
  });
  assert.equal(wrong.code, 1, wrong.screen);
  assert.equal(wrong.screen.match(/Wrong passphrase\. Try again\./g)?.length, 2, wrong.screen);
  assert.match(wrong.screen, /git-lore: wrong passphrase/);
  assert.deepEqual(keys(b), [], 'no key cached');
  assert.equal(loreRefs(b, repoB), '');
  const join = await inTerminal(b, ['sync', 'setup', '--no-hooks'], {
    cwd: repoB,
    steps: [
      { after: 'Passphrase: ', type: 'not it\r' },
      { after: 'Passphrase: ', type: 'secret walrus harbor one\r' },
    ],
  });
  assert.equal(join.code, 0, join.screen);
  assert.match(join.screen, /joined the lore store/);
});

test('on a terminal: Ctrl-C at the prompt exits 130 and leaves nothing behind; Ctrl-D on an empty line ends', async () => {
  const m = new Machine('ppC');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  const config = fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8');
  const interrupted = await inTerminal(m, ['sync', 'setup', '--no-hooks'], {
    cwd: repo,
    steps: [{ after: 'Passphrase: ', type: 'half a pass\x03' }],
  });
  assert.equal(interrupted.code, 130, interrupted.screen);
  assert.match(interrupted.screen, /interrupted; nothing was written/);
  assert.doesNotMatch(interrupted.screen, /\bat \w+ \(/, 'no stack trace');
  assert.equal(loreRefs(m, repo), '');
  assert.equal(loreRefs(m, bare), '');
  assert.deepEqual(keys(m), []);
  assert.equal(fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8'), config);

  const eof = await inTerminal(m, ['sync', 'setup', '--no-hooks'], { cwd: repo, steps: [{ after: 'Passphrase: ', type: '\x04' }] });
  assert.equal(eof.code, 1, eof.screen);
  assert.match(eof.screen, /no passphrase was typed/);
  assert.equal(loreRefs(m, bare), '');
  await ok(m.lore(['sync', 'setup', '--no-hooks'], { cwd: repo, env: { LORE_PASSPHRASE: 'after all, a cobalt harbor' } }));
});

test('on a terminal: Ctrl-C at the global store\'s passphrase leaves no global store folder behind', async () => {
  const m = new Machine('ppG');
  const bare = path.join(m.home, 'private.git');
  m.git(m.home, 'init', '-q', '--bare', bare);
  await ok(m.lore(['config', 'set', 'sync_global_remote', bare], { cwd: m.home }));
  const r = await inTerminal(m, ['sync', '--global', 'setup'], { cwd: m.home, steps: [{ after: 'Passphrase: ', type: '\x03' }] });
  assert.equal(r.code, 130, r.screen);
  assert.ok(!fs.existsSync(path.join(m.vars.LORE_HOME!, 'sync')), 'no global store repository');
  assert.deepEqual(keys(m), []);
  assert.equal(m.git(bare, 'for-each-ref'), '');
});
