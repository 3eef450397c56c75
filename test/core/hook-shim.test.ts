import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { bareRemote, cloneOn, ok } from '../helpers/repos.js';
import { HOOK_NAMES, shimText } from '../../src/core/hooks.js';
import { folderWord, hooksDisabled, shellAgentFolders, shellRules } from '../../src/core/hook-rules.js';
import { clineStorageUnderHome } from '../../src/sources/cline.js';
import { sources } from '../../src/core/import.js';
import { Git } from '../../src/git/git.js';

/**
 * The installed shims and the node side keep one set of rules (src/core/hook-rules.ts). These
 * tests run the installed hook files with a stub `git-lore` on PATH that records each call.
 */
async function hookedClone(tag: string) {
  const m = new Machine(tag);
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  await ok(m.lore(['hooks', 'install'], { cwd: repo }));
  // A lore ref without a store is enough for the shims: they only compare ref ids.
  m.git(repo, 'update-ref', 'refs/lore/sessions', 'HEAD');
  const stub = path.join(m.home, 'stub-bin');
  const calls = path.join(m.home, 'calls.txt');
  fs.mkdirSync(stub);
  fs.writeFileSync(path.join(stub, 'git-lore'), `#!/bin/sh\necho "$*" >> "${calls}"\n`, { mode: 0o755 });
  const PATH = `${stub}:/usr/bin:/bin`;
  const head = m.git(repo, 'rev-parse', 'HEAD').trim();
  /** Runs one installed hook the way git does; returns the stub's calls it caused. */
  const fire = async (name: string, env: Record<string, string> = {}): Promise<string[]> => {
    fs.rmSync(calls, { force: true });
    const args = name === 'pre-push' ? ['origin', bare] : name === 'post-rewrite' ? ['rebase'] : ['0'];
    const input = name === 'pre-push' ? `refs/heads/main ${head} refs/heads/main ${head}\n` : name === 'post-rewrite' ? `${head} ${head}\n` : '';
    const r = await m.run(path.join(repo, '.git', 'hooks', name), args, { cwd: repo, input, env: { PATH, ...env } });
    assert.equal(r.code, 0, r.stderr);
    return fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
  };
  return { m, repo, bare, fire, head };
}

test('one shim: every hook is the same self-contained file, with the rules pasted in', async () => {
  const { repo } = await hookedClone('shim1');
  const texts = HOOK_NAMES.map((n) => fs.readFileSync(path.join(repo, '.git', 'hooks', n), 'utf8'));
  for (const t of texts) assert.equal(t, shimText());
  assert.ok(!texts[0]!.includes('@LORE_RULES@'));
  assert.ok(texts[0]!.includes(shellRules()));
  execFileSync('sh', ['-n', path.join(repo, '.git', 'hooks', 'pre-push')]);
});

test('each installed hook honours LORE_SKIP and lore.hooks false (and calls git-lore otherwise)', async () => {
  const { m, repo, fire } = await hookedClone('shim2');
  for (const name of HOOK_NAMES) {
    assert.deepEqual((await fire(name)).map((c) => c.split(' ').slice(0, 2).join(' ')), [`hook ${name}`], `${name} calls git-lore when enabled`);
    assert.deepEqual(await fire(name, { LORE_SKIP: '1' }), [], `${name} with LORE_SKIP=1`);
    assert.deepEqual(await fire(name, { LORE_SKIP: 'yes' }), [], `${name} with LORE_SKIP=yes`);
    m.git(repo, 'config', 'lore.hooks', 'false');
    assert.deepEqual(await fire(name), [], `${name} with lore.hooks=false`);
    m.git(repo, 'config', 'lore.hooks', 'off');
    assert.deepEqual(await fire(name), [], `${name} with lore.hooks=off`);
    m.git(repo, 'config', '--unset', 'lore.hooks');
  }
});

test('the shell rule and the node rule agree on every LORE_SKIP and lore.hooks value', async () => {
  const m = new Machine('shim3');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const script = `${shellRules()}\nif lore_disabled; then echo off; else echo on; fi\n`;
  const git = new Git(m.env(repo), repo);
  for (const config of [null, 'false', 'no', 'off', '0', 'true', 'yes', '1', 'bogus']) {
    if (config !== null) m.git(repo, 'config', 'lore.hooks', config);
    for (const skip of [undefined, '', '0', 'false', 'no', 'off', '1', 'true', 'yes', 'please']) {
      const vars = { ...m.vars, ...(skip === undefined ? {} : { LORE_SKIP: skip }) };
      const shell = execFileSync('sh', ['-c', script], { cwd: repo, env: vars, encoding: 'utf8' }).trim();
      const node = (await hooksDisabled(vars, git)) ? 'off' : 'on';
      assert.equal(shell, node, `LORE_SKIP=${skip} lore.hooks=${config}`);
    }
  }
});

test('the shims look in every folder and work-tree file the sources read (Codex archived_sessions, Aider\'s histories)', async () => {
  const m = new Machine('shim4');
  // Hooks run at the top of the work tree: the shell words are expanded there, as capture reads them there.
  const proj = m.initRepo(path.join(m.home, 'proj'));
  const expanded = shellAgentFolders().map((w) => path.resolve(proj, execFileSync('sh', ['-c', `printf '%s' ${w}`], { cwd: proj, env: m.vars, encoding: 'utf8' })));
  const roots = sources(m.ctx(proj), { unreadable: () => undefined }).flatMap((s) => [...s.roots]);
  assert.deepEqual([...expanded].sort(), [...roots].sort());
  assert.ok(roots.some((r) => r.endsWith(path.join('.codex', 'archived_sessions'))));
  assert.ok(roots.includes(path.join(proj, '.aider.chat.history.md')), 'Aider\'s history in the work tree');

  // The pre-push shim's "nothing new" check: a newer file under archived_sessions is new work.
  const { m: m2, repo, fire } = await hookedClone('shim5');
  m2.git(repo, 'update-ref', 'refs/lore/remotes/origin/sessions', 'refs/lore/sessions');
  const stamp = path.join(repo, '.git', 'lore', 'hook-stamp');
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, '');
  const past = new Date(Date.now() - 60000);
  fs.utimesSync(stamp, past, past);
  assert.deepEqual(await fire('pre-push'), [], 'nothing new: node is not started');
  const archived = path.join(m2.codexHome, 'archived_sessions', 'rollout-2026-01-01T00-00-00-00000000-0000-4000-8000-000000000001.jsonl');
  fs.mkdirSync(path.dirname(archived), { recursive: true });
  fs.writeFileSync(archived, '{}\n');
  assert.equal((await fire('pre-push')).length, 1, 'an archived Codex session is new work');
  // Only Aider's history in the work tree changed: new work too (the shim used to miss it).
  fs.utimesSync(stamp, new Date(), new Date());
  fs.utimesSync(archived, past, past);
  assert.deepEqual(await fire('pre-push'), [], 'nothing new again');
  fs.writeFileSync(path.join(repo, '.aider.chat.history.md'), '\n# aider chat started at 2026-01-01 00:00:00\n');
  const later = new Date(Date.now() + 2000);
  fs.utimesSync(path.join(repo, '.aider.chat.history.md'), later, later);
  assert.equal((await fire('pre-push')).length, 1, 'a new Aider run is new work');
});

test('an agent folder with a space (macOS\'s Library/Application Support) is one shell word, default or moved', async () => {
  const m = new Machine('shim6');
  const word = folderWord({ env: 'CLINE_STORAGE_DIR', underHome: clineStorageUnderHome('darwin') }, '/tasks');
  const expand = (vars: Record<string, string>) => execFileSync('sh', ['-c', `for w in ${word}; do printf '<%s>' "$w"; done`], { env: { ...m.vars, ...vars }, encoding: 'utf8' });
  assert.equal(expand({}), `<${m.home}/Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/tasks>`);
  assert.equal(expand({ CLINE_STORAGE_DIR: '/data/cline dir' }), '</data/cline dir/tasks>');
  assert.equal(clineStorageUnderHome('linux'), '.config/Code/User/globalStorage/saoudrizwan.claude-dev');
  for (const bad of ['a"b', 'a$b', 'a`b', 'a\\b']) assert.throws(() => folderWord({ env: 'X_DIR', underHome: bad }, ''), /no shell form/);
});
