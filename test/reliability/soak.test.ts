import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../helpers/machine.js';
import { PASS, ok, userLine } from '../helpers/repos.js';
import { PROFILE, summary } from './profile.js';

type Mode = 'sync' | 'hook' | 'helper';
const sid = (k: number, r: number) => `${String(k + 1).repeat(8)}-5000-4000-8000-${String(r).padStart(12, '0')}`;

async function pushCode(m: Machine, repo: string, tag: string): Promise<void> {
  fs.writeFileSync(path.join(repo, `${tag}.txt`), `${tag}\n`);
  m.git(repo, 'add', '.');
  m.git(repo, 'commit', '-qm', tag);
  // Several clones push code to one branch at once: a rejected push is pulled and retried, with a
  // growing random back-off, as a person would.
  let last = '';
  for (let attempt = 0; attempt < 60; attempt++) {
    const pull = await m.run('git', ['pull', '-q', '--rebase', 'origin', 'main'], { cwd: repo });
    if (pull.code === 0) {
      const push = await m.run('git', ['push', '-q', 'origin', 'main'], { cwd: repo });
      if (push.code === 0) return;
      last = push.stderr;
    } else last = pull.stderr;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, 100 * (attempt + 1))));
  }
  throw new Error(`${tag}: could not push code after 60 attempts: ${last}`);
}

test(`concurrency soak: ${PROFILE.clones} clones x ${PROFILE.rounds} rounds through sync, the pre-push hook and lore:: pushes`, async () => {
  const host = new Machine('soakhost');
  const bare = path.join(host.home, 'team.git');
  host.git(host.home, 'init', '-q', '--bare', bare);
  host.git(bare, 'config', 'core.logAllRefUpdates', 'always');
  const seed = host.initRepo(path.join(host.home, 'seed'));
  host.git(seed, 'push', '-q', bare, 'main');

  const clones: Array<{ m: Machine; repo: string; mode: Mode }> = [];
  for (let k = 0; k < PROFILE.clones; k++) {
    const m = new Machine(`soak${k}`);
    const mode: Mode = (['sync', 'hook', 'helper'] as const)[k % 3]!;
    const repo = path.join(m.home, 'team');
    await ok(m.run('git', ['clone', '-q', mode === 'helper' ? `lore::${bare}` : bare, repo], { cwd: m.home }));
    await ok(m.lore(['sync', 'setup', '--no-hooks'], { cwd: repo, env: PASS }));
    if (mode === 'hook') await ok(m.lore(['hooks', 'install'], { cwd: repo }));
    clones.push({ m, repo, mode });
  }

  const expected = new Map<string, Set<string>>();
  const canaries: string[] = [];
  const add = (id: string, uuid: string) => expected.set(id, (expected.get(id) ?? new Set()).add(uuid));
  let operations = 0;
  await Promise.all(
    clones.map(async ({ m, repo, mode }, k) => {
      for (let r = 0; r < PROFILE.rounds; r++) {
        const id = sid(k, r);
        const proj = path.join(m.claudeDir, 'projects', repo.replace(/[^A-Za-z0-9]/g, '-'));
        fs.mkdirSync(proj, { recursive: true });
        const canary = `SOAKCANARY-${k}-${r}`;
        canaries.push(canary);
        fs.writeFileSync(path.join(proj, `${id}.jsonl`), `${userLine(id, repo, `u-${k}-${r}-0`, `${canary} start`, r * 10)}\n`);
        add(id, `u-${k}-${r}-0`);
        if (r > 0) {
          // Continue the previous session: the transcript grows.
          const prev = sid(k, r - 1);
          fs.appendFileSync(path.join(proj, `${prev}.jsonl`), `${userLine(prev, repo, `u-${k}-${r - 1}-${r}`, `continued in round ${r}`, r * 10 + 1)}\n`);
          add(prev, `u-${k}-${r - 1}-${r}`);
        }
        if (mode === 'sync') await ok(m.lore(['sync', '-q'], { cwd: repo }));
        else await pushCode(m, repo, `c${k}r${r}`);
        operations += 1;
      }
    }),
  );
  // One final sync each (twice round the table, so the first ones also get the last ones' work).
  for (let pass = 0; pass < 2; pass++) for (const { m, repo } of clones) await ok(m.lore(['sync', '-q'], { cwd: repo }));

  let lost = 0;
  let messages = 0;
  const verifier = new Machine('soakcheck');
  const vrepo = path.join(verifier.home, 'team');
  verifier.git(verifier.home, 'clone', '-q', bare, vrepo);
  await ok(verifier.lore(['sync', 'setup'], { cwd: vrepo, env: PASS }));
  await ok(verifier.lore(['sync', '-q'], { cwd: vrepo }));
  for (const { m, repo } of [...clones, { m: verifier, repo: vrepo }]) {
    for (const [id, uuids] of expected) {
      const r = await m.lore(['show', '--json', id], { cwd: repo });
      const have = r.code === 0 ? new Set((JSON.parse(r.stdout).messages as Array<{ nativeId: string }>).map((x) => x.nativeId)) : new Set<string>();
      for (const u of uuids) {
        messages += 1;
        if (!have.has(u)) lost += 1;
      }
    }
  }
  const reflog = fs.readFileSync(path.join(bare, 'logs', 'refs', 'lore', 'sessions'), 'utf8').trim().split('\n');
  let forced = 0;
  for (const line of reflog) {
    const [o, n] = line.split(' ');
    if (/^0+$/.test(o!)) continue;
    try {
      execFileSync('git', ['merge-base', '--is-ancestor', o!, n!], { cwd: bare });
    } catch {
      forced += 1;
    }
  }
  summary('soak', { clones: PROFILE.clones, rounds: PROFILE.rounds, operations, sessions: expected.size, 'messages checked': messages, 'ref updates': reflog.length, forced, lost });
  assert.equal(forced, 0, 'no push was forced');
  assert.equal(lost, 0, 'every message of every session is in every clone and on the remote');

  // Leak scan: no content canary, no local path, no hostname in any object on the remote.
  const objects = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: bare, maxBuffer: 1 << 30 });
  // The text the host can read: commits, metadata and the descriptor. A needle as short as a
  // hostname like "vm" turns up by chance in binary data (any 2 bytes do every 64 KiB): in the
  // encrypted indexes and chunks (*.idx, chunks/) and in trees, which hold raw object ids. Short needles are looked
  // for in the text only.
  const listed = execFileSync('git', ['rev-list', '--objects', '--all'], { cwd: bare, maxBuffer: 1 << 30 }).toString().split('\n').filter(Boolean);
  const types = new Map(execFileSync('git', ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)'], { cwd: bare }).toString().trim().split('\n').map((l) => l.split(' ') as [string, string]));
  const plainIds = listed.filter((l) => !l.endsWith('.lore') && !l.endsWith('.idx') && !l.includes(' chunks/') && types.get(l.split(' ')[0]!) !== 'tree').map((l) => l.split(' ')[0]).join('\n');
  const plaintext = execFileSync('git', ['cat-file', '--batch'], { cwd: bare, input: `${plainIds}\n`, maxBuffer: 1 << 30 });
  const needles = [...canaries, 'continued in round', os.hostname(), ...clones.map((c) => c.m.home), PASS.LORE_PASSPHRASE];
  // A short needle is looked for as a JSON string value, the form a hostname would take in the
  // metadata or the descriptor: base64 fields there (salts, wrapped keys) hold any two letters.
  const leaks = needles.filter((n) => (n.length >= 8 ? objects.includes(Buffer.from(n)) : plaintext.includes(Buffer.from(JSON.stringify(n)))));
  assert.ok(plaintext.includes(Buffer.from('"originMachine"')) && plaintext.includes(Buffer.from('lore: ')), 'the text part holds the metadata and the commits');
  summary('leak scan', { objects: execFileSync('git', ['count-objects', '-v'], { cwd: bare }).toString().match(/count: (\d+)/)?.[1] ?? '?', needles: needles.length, leaks: leaks.length });
  assert.deepEqual(leaks, []);
});
