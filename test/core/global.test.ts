import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CODEX_FIXTURE, FIXTURES, Machine, SKIP_NO_FIXTURES, claudeProjectDir, copyRewritten } from '../helpers/machine.js';
import { PASS, ok, userLine, uuid, writeSession } from '../helpers/repos.js';

test('global store: A syncs sessions of three repositories and one outside any; B joins, lists, restores, re-imports', { skip: SKIP_NO_FIXTURES }, async () => {
  const a = new Machine('ga');
  const b = new Machine('gb');
  const privateRemote = path.join(a.home, 'private.git');
  a.git(a.home, 'init', '-q', '--bare', privateRemote);
  const repos = ['alpha', 'beta', 'gamma'].map((n) => a.initRepo(path.join(a.home, 'src', n)));
  const outside = path.join(a.home, 'scratch');
  fs.mkdirSync(outside);
  // Real sessions: the Claude Code one with subagents in alpha, the Codex one in beta; a small one in gamma and outside.
  const claudeId = '0ccf1a04-1b4c-43b6-8aa5-79e41db43a68';
  const claudeCwd = '/Users/pete/tmp/claude-code-sessions';
  const projA = claudeProjectDir(a.claudeDir, repos[0]!);
  copyRewritten(path.join(FIXTURES, 'claude-code', `${claudeId}.jsonl`), path.join(projA, `${claudeId}.jsonl`), [[claudeCwd, repos[0]!]]);
  for (const f of fs.readdirSync(path.join(FIXTURES, 'claude-code', claudeId, 'subagents'))) {
    copyRewritten(path.join(FIXTURES, 'claude-code', claudeId, 'subagents', f), path.join(projA, claudeId, 'subagents', f), [[claudeCwd, repos[0]!]]);
  }
  const codexId = '019aad50-a7e6-7422-b7a8-0b384290624f';
  const codexFile = path.join(a.codexHome, 'sessions', '2025', '11', '22', CODEX_FIXTURE);
  copyRewritten(path.join(FIXTURES, 'codex', CODEX_FIXTURE), codexFile, [['/Users/pinouchon/code/rtchess', repos[1]!]]);
  const g = uuid(5, 'a');
  writeSession(a, repos[2]!, g, [userLine(g, repos[2]!, 'g1', 'in gamma', 1)]);
  const o = uuid(6, 'b');
  writeSession(a, outside, o, [userLine(o, outside, 'o1', 'outside any repository', 1)]);

  // Not configured: a clear error, nothing written.
  const unconfigured = await a.lore(['sync', '--global', 'setup'], { cwd: a.home, env: PASS });
  assert.equal(unconfigured.code, 2);
  assert.match(unconfigured.stderr, /git lore config set sync_global_remote/);
  assert.ok(!fs.existsSync(path.join(a.vars.LORE_HOME!, 'sync')));

  await ok(a.lore(['config', 'set', 'sync_global_remote', privateRemote], { cwd: a.home }));
  assert.equal((await ok(a.lore(['config', 'get', 'sync_global_remote'], { cwd: a.home }))).stdout.trim(), privateRemote);
  assert.equal(fs.statSync(path.join(a.vars.LORE_HOME!, 'config')).mode & 0o777, 0o600);
  await ok(a.lore(['sync', '--global', 'setup'], { cwd: a.home, env: PASS }));
  const sa = await ok(a.lore(['sync', '--global'], { cwd: repos[1]! }));
  assert.match(sa.stdout, /send 4/);
  const all = [claudeId, codexId, g, o].sort();

  // B: wrong passphrase, unreachable remote: clear errors, nothing written. Then join.
  await ok(b.lore(['config', 'set', 'sync_global_remote', path.join(b.home, 'nowhere.git')], { cwd: b.home }));
  const unreachable = await b.lore(['sync', '--global', 'setup'], { cwd: b.home, env: PASS });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot fetch the lore ref from the global store: .*\nhint: Check that the address in sync_global_remote is reachable/);
  assert.ok(!fs.existsSync(path.join(b.vars.LORE_HOME!, 'keys')) || fs.readdirSync(path.join(b.vars.LORE_HOME!, 'keys')).length === 0);
  await ok(b.lore(['config', 'set', 'sync_global_remote', privateRemote], { cwd: b.home }));
  const wrong = await b.lore(['sync', '--global', 'setup'], { cwd: b.home, env: { LORE_PASSPHRASE: 'not the right one' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong passphrase/);
  assert.ok(!fs.existsSync(path.join(b.vars.LORE_HOME!, 'keys')) || fs.readdirSync(path.join(b.vars.LORE_HOME!, 'keys')).length === 0);
  await ok(b.lore(['sync', '--global', 'setup'], { cwd: b.home, env: PASS }));
  const sb = await ok(b.lore(['sync', '--global'], { cwd: b.home }));
  assert.match(sb.stdout, /receive 4/);
  const listed = JSON.parse((await ok(b.lore(['sessions', '--all', '--json'], { cwd: b.home }))).stdout).sessions as Array<{ id: string; messageCount: number }>;
  assert.deepEqual(listed.map((s) => s.id).sort(), all);
  const ca = a.ctx(a.home);
  const cb = b.ctx(b.home);
  try {
    for (const id of all) assert.equal(cb.db.getSession(id)!.bundle_sha256, ca.db.getSession(id)!.bundle_sha256, `${id} identical on B`);
  } finally {
    ca.close();
    cb.close();
  }
  const counts = new Map(listed.map((s) => [s.id, s.messageCount]));

  // Restore on B into B's own clones, then check the agents' locations and a re-import.
  const cloneAlpha = b.initRepo(path.join(b.home, 'work', 'alpha'));
  const cloneBeta = b.initRepo(path.join(b.home, 'work', 'beta'));
  const rc = await ok(b.lore(['restore', claudeId.slice(0, 8), '--to', cloneAlpha], { cwd: b.home }));
  assert.match(rc.stdout, /restored 6 files/);
  assert.match(rc.stdout, new RegExp(`claude --resume ${claudeId}`));
  const projB = claudeProjectDir(b.claudeDir, cloneAlpha);
  const restoredMain = fs.readFileSync(path.join(projB, `${claudeId}.jsonl`), 'utf8');
  assert.equal(restoredMain, fs.readFileSync(path.join(projA, `${claudeId}.jsonl`), 'utf8').split(repos[0]!).join(cloneAlpha), 'byte-identical apart from the rewritten paths');
  assert.match(restoredMain, new RegExp(`"cwd":"${cloneAlpha}"`));
  for (const f of fs.readdirSync(path.join(projA, claudeId, 'subagents'))) {
    assert.equal(fs.readFileSync(path.join(projB, claudeId, 'subagents', f), 'utf8'), fs.readFileSync(path.join(projA, claudeId, 'subagents', f), 'utf8').split(repos[0]!).join(cloneAlpha));
  }
  await ok(b.lore(['restore', codexId, '--to', cloneBeta], { cwd: b.home }));
  const codexB = path.join(b.codexHome, 'sessions', '2025', '11', '22', CODEX_FIXTURE);
  assert.equal(fs.readFileSync(codexB, 'utf8'), fs.readFileSync(codexFile, 'utf8').split(repos[1]!).join(cloneBeta));
  // Refuses to overwrite a native file that differs, and says so.
  fs.appendFileSync(codexB, '{"timestamp":"2026-01-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count"}}\n');
  const refuse = await b.lore(['restore', codexId, '--to', cloneBeta], { cwd: b.home });
  assert.equal(refuse.code, 2);
  assert.match(refuse.stderr, /already exist.*nothing was written/s);
  await ok(b.lore(['restore', codexId, '--to', cloneBeta, '--force'], { cwd: b.home }));

  // Re-import on B from the restored native files alone (a fresh store): same ids, same counts.
  const fresh = { LORE_HOME: path.join(b.home, 'fresh-lore') };
  await ok(b.lore(['import'], { cwd: b.home, env: fresh }));
  const again = JSON.parse((await ok(b.lore(['sessions', '--all', '--json'], { cwd: b.home, env: fresh }))).stdout).sessions as Array<{ id: string; messageCount: number; repository: string }>;
  assert.deepEqual(again.map((s) => s.id).sort(), [claudeId, codexId].sort());
  for (const s of again) assert.equal(s.messageCount, counts.get(s.id), `${s.id} message count after restore`);
  assert.equal(again.find((s) => s.id === claudeId)!.repository, cloneAlpha);
  // And in B's own store, capture sees the restored files as what it already holds.
  const imp = await ok(b.lore(['import', '--json'], { cwd: b.home }));
  const summary = JSON.parse(imp.stdout);
  assert.equal(summary.sessionsNew, 0);
  const after = JSON.parse((await ok(b.lore(['sessions', '--all', '--json'], { cwd: b.home }))).stdout).sessions as Array<{ id: string; messageCount: number }>;
  for (const s of after) assert.equal(s.messageCount, counts.get(s.id), `${s.id} count unchanged in B's store`);
});
