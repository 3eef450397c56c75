import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { ok, userLine } from '../helpers/repos.js';
import { summary } from './profile.js';

/** Every file below a folder (no symlinks followed). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('secrets hygiene: passphrase and key never in a child\'s argv or environment, in DEBUG output, or in any file but the 0600 key file', async () => {
  const m = new Machine('secrets');
  const passphrase = 'hunter2-but-longer-SECRETPASS';
  const realGit = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
  // A `git` first on PATH that records the argv and environment lore gives every git it starts.
  const spy = path.join(m.home, 'spy');
  const log = path.join(m.home, 'spawned.log');
  fs.mkdirSync(spy);
  fs.writeFileSync(path.join(spy, 'git'), `#!/bin/sh\n{ printf 'ARGV:'; printf ' %s' "$@"; printf '\\nENV:\\n'; cat /proc/$$/environ | tr '\\0' '\\n'; printf '\\n--\\n'; } >> "${log}"\nexec "${realGit}" "$@"\n`, { mode: 0o755 });
  const bare = path.join(m.home, 'team.git');
  execFileSync(realGit, ['init', '-q', '--bare', bare]);
  const repo = m.initRepo(path.join(m.home, 'repo'));
  m.git(repo, 'remote', 'add', 'origin', bare);
  m.git(repo, 'push', '-q', 'origin', 'main');
  const id = 'cccccccc-8000-4000-8000-000000000001';
  const proj = path.join(m.claudeDir, 'projects', repo.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(proj, { recursive: true });
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), `${userLine(id, repo, 'u1', 'secret work', 1)}\n`);
  const env = { PATH: `${spy}:${m.vars.PATH}`, DEBUG: 'lore:*' };
  // git-lore is run directly: through `git lore`, git would put its own exec-path (holding a real
  // git) first on PATH and hide the spy.
  const setup = await ok(m.run('git-lore', ['sync', 'setup', '--no-hooks'], { cwd: repo, env: { ...env, LORE_PASSPHRASE: passphrase } }));
  const passFile = path.join(m.home, 'pass');
  fs.writeFileSync(passFile, passphrase, { mode: 0o600 });
  const sync = await ok(m.run('git-lore', ['sync'], { cwd: repo, env: { ...env, LORE_PASSPHRASE_FILE: passFile } }));
  await ok(m.lore(['hooks', 'install'], { cwd: repo, env }));
  m.git(repo, 'commit', '--allow-empty', '-qm', 'x');
  await ok(m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env }));

  const home = m.vars.LORE_HOME!;
  // The key file, and `<store>.slot` (which slot this machine opens; it holds the slot's KEK, not the key).
  const keyFiles = fs.readdirSync(path.join(home, 'keys')).filter((f) => !f.endsWith('.slot'));
  assert.equal(keyFiles.length, 1);
  const keyFile = path.join(home, 'keys', keyFiles[0]!);
  const keyB64 = fs.readFileSync(keyFile, 'utf8').trim();
  const key = Buffer.from(keyB64, 'base64');
  assert.equal(key.length, 32);
  const secrets = [Buffer.from(passphrase), Buffer.from(keyB64), key, Buffer.from(key.toString('hex'))];

  const spawned = fs.readFileSync(log);
  const children = spawned.toString().split('\n--\n').filter(Boolean).length;
  assert.ok(children > 10, `the spy saw ${children} git processes`);
  const debugOut = Buffer.from(setup.stderr + sync.stderr);
  assert.match(debugOut.toString(), /lore:git/, 'DEBUG output was produced');
  let leaks = 0;
  for (const s of secrets) {
    if (spawned.includes(s)) leaks += 1;
    if (debugOut.includes(s)) leaks += 1;
  }
  assert.ok(!spawned.includes(Buffer.from('LORE_PASSPHRASE')), 'not even the variable names reach a child');
  // Files: only the key file holds the key; nothing holds the passphrase (but the user's own file).
  let scanned = 0;
  for (const f of [...filesUnder(home), ...filesUnder(path.join(repo, '.git')), ...filesUnder(bare)]) {
    scanned += 1;
    const data = fs.readFileSync(f);
    for (const s of secrets) if (data.includes(s) && f !== keyFile) {
      leaks += 1;
      assert.fail(`${f} holds a secret`);
    }
  }
  assert.equal(fs.statSync(home).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(home, 'keys')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  summary('secrets hygiene', { 'child processes inspected': children, 'files scanned': scanned, leaks });
  assert.equal(leaks, 0);
});
