import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCli } from '../../src/cli/main.js';
import { manPage } from '../../src/cli/man-page.js';
import { Machine, tmpdir } from '../helpers/machine.js';

async function help(m: Machine, args: string[]): Promise<string> {
  const env = m.env(m.home);
  const code = await runCli([...args, '--help'], env);
  assert.equal(code, 0, `${args.join(' ')}: ${env.err()}`);
  return env.out();
}

/** Every command and subcommand a user can type. */
const COMMANDS = [
  'demo', 'import', 'sessions', 'show', 'blame', 'log', 'sync', 'sync setup', 'sync status', 'restore',
  'hooks', 'hooks install', 'hooks uninstall', 'hooks status', 'remote', 'remote enable', 'remote disable',
  'config', 'config get', 'config set', 'config unset', 'config list', 'search', 'mcp', 'repair',
  'keys', 'keys list', 'keys add', 'keys remove', 'keys reseal', 'passphrase', 'passphrase change', 'passphrase generate',
];

test('every command\'s --help has an example, and the list above covers every command', async () => {
  const m = new Machine('help');
  const top = await help(m, []);
  const listed = [...top.matchAll(/^ {2}git lore (\S+)/gm)].map((x) => x[1]!);
  assert.ok(listed.length >= 10, top);
  for (const c of listed) assert.ok(COMMANDS.includes(c), `${c} is missing from this test's list`);
  for (const parent of ['sync', 'hooks', 'remote', 'config']) {
    for (const sub of [...(await help(m, [parent])).matchAll(new RegExp(`^ {2}git lore ${parent} (\\w+)`, 'gm'))].map((x) => `${parent} ${x[1]}`)) {
      assert.ok(COMMANDS.includes(sub), `${sub} is missing from this test's list`);
    }
  }
  for (const c of COMMANDS) assert.match(await help(m, c.split(' ')), /\nExamples:\n {2}git lore /, `git lore ${c} --help has no example`);
});

test('the man page fits 80 columns, as roff and as man shows it', async () => {
  const page = await manPage();
  const verbatim = page.split('.nf\n')[1]!.split('\n.fi')[0]!.split('\n');
  for (const l of page.split('\n')) assert.ok(l.length <= 80, `roff line of ${l.length}: ${l}`);
  // man indents the verbatim block by 7 columns.
  for (const l of verbatim) assert.ok(l.length <= 73, `help line of ${l.length}: ${l}`);
  let man = '';
  try {
    man = execFileSync('man', ['--version'], { encoding: 'utf8' });
  } catch {
    return; // no man here: the roff checks above stand
  }
  assert.ok(man);
  const file = path.join(tmpdir('lore-man-'), 'git-lore.1');
  fs.writeFileSync(file, page);
  const shown = execFileSync('man', ['-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } });
  assert.match(shown, /git lore sessions/);
  for (const l of shown.split('\n')) assert.ok(l.length <= 80, `shown line of ${l.length}: ${l}`);
});
