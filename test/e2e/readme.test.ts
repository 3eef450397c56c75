import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, ROOT, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn } from '../helpers/repos.js';

/** The commands of README.md's quick start, as written there: [yours, the teammate's]. */
function quickStart(): [string[], string[]] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('## Quick start in a real repository')[1];
  assert.ok(section, 'README.md has its quick start');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block);
  const [mine, theirs] = block.split(/^# a teammate.*$/m);
  const commands = (text: string) => text.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !l.startsWith('#'));
  return [commands(mine!), commands(theirs ?? '')];
}

test('the README\'s quick start works as written: two machines, one bare remote', async () => {
  const [mine, theirs] = quickStart();
  assert.ok(mine.includes('git lore sync setup') && theirs.some((c) => c.startsWith('git clone')), 'both halves found');
  const a = new Machine('readmeA');
  const b = new Machine('readmeB');
  // Named like the README's address, so that `git clone <it>` makes the folder my-app.
  const bare = path.join(a.home, 'team', 'my-app.git');
  fs.mkdirSync(path.dirname(bare));
  fs.renameSync(bareRemote(a), bare);
  const address = (c: string) => c.replace('git@github.com:team/my-app.git', bare);

  // Before the quick start: a clone with work of an agent session, committed, not pushed yet.
  const app = cloneOn(a, bare, 'my-app');
  const id = 'abcdef01-0000-4000-8000-000000000001';
  const content = Array.from({ length: 50 }, (_, i) => `export const value${i + 1} = ${i + 1};`).join('\n') + '\n';
  const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
  const proj = claudeProjectDir(a.claudeDir, app);
  fs.mkdirSync(proj, { recursive: true });
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), [
    JSON.stringify({ type: 'user', sessionId: id, cwd: app, uuid: 'u1', timestamp: at(180), message: { role: 'user', content: 'write src/app.ts with fifty constants' } }),
    JSON.stringify({ type: 'assistant', sessionId: id, cwd: app, uuid: 'a1', timestamp: at(120), message: { id: 'm1', role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: path.join(app, 'src/app.ts'), content } }] } }),
  ].join('\n') + '\n');
  fs.mkdirSync(path.join(app, 'src'));
  fs.writeFileSync(path.join(app, 'src/app.ts'), content);
  a.git(app, 'add', '.');
  a.git(app, 'commit', '-qm', 'the app');

  const you = await a.run('bash', ['-e', '-c', mine.map(address).join('\n')], { cwd: a.home, env: PASS });
  assert.equal(you.code, 0, `${mine.join('\n')}\n${you.stdout}${you.stderr}`);
  assert.match(you.stderr, /^lore: sent 1 session to origin$/m, 'the push said it sent the session');

  const teammate = await b.run('bash', ['-e', '-c', theirs.map(address).join('\n')], { cwd: b.home, env: PASS });
  assert.equal(teammate.code, 0, `${theirs.join('\n')}\n${teammate.stdout}${teammate.stderr}`);
  assert.match(teammate.stdout, /joined the lore store/);
  assert.match(teammate.stdout, /^abcdef01 .*write src\/app\.ts with fifty constants/m, 'git lore sessions lists it');
  assert.match(teammate.stdout, /^[0-9a-f]{8} abcdef01 claude-code .* 1\) export const value1 = 1;$/m, 'git lore blame credits the session');
  assert.match(teammate.stdout, /src\/app\.ts:42 {2}export const value42 = 42;\nsession abcdef01-/, 'the reasoning behind line 42');
  assert.match(teammate.stdout, /prompt:\n {4}write src\/app\.ts with fifty constants/);
});

test('install.sh, where its folder is not on PATH, prints the line to add and a next command that works as printed', async () => {
  const m = new Machine('newcomer');
  const prefix = path.join(m.home, '.local');
  const PATH = `/usr/local/bin:/usr/bin:/bin:${path.dirname(process.execPath)}`;
  const r = await m.run(path.join(ROOT, 'install.sh'), [], { cwd: m.home, env: { LORE_INSTALL_LINK_ONLY: '1', PATH } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`export PATH="${prefix}/bin:\\$PATH"`));
  const next = /Next \(works before that too\): (.+)$/m.exec(r.stdout)?.[1];
  assert.equal(next, `${prefix}/bin/git-lore demo`);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^\.\/install\.sh && ~\/\.local\/bin\/git-lore demo /m, 'the README\'s first command is the same');
  const demo = await m.run('sh', ['-c', next!], { cwd: m.home, env: { PATH } });
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  assert.match(demo.stdout, /The demo worked/);
});
