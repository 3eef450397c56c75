import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, writeSession } from '../helpers/repos.js';

const texts = async (m: Machine, cwd: string, id: string) =>
  (JSON.parse((await ok(m.lore(['show', '--json', id], { cwd }))).stdout).messages as Array<{ text: string }>).map((x) => x.text);

test('a teammate with the key cannot rewrite a line this machine wrote: the forged version is kept beside it and reported', async () => {
  const a = new Machine('sa');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const id = 'abababab-0000-4000-8000-000000000001';
  writeSession(a, repoA, id, [userLine(id, repoA, 'u1', 'deploy only after review', 1), userLine(id, repoA, 'u2', 'second', 2)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));

  // B, who holds the key, restores the session, rewrites A's first line and syncs it.
  const b = new Machine('sb');
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  await ok(b.lore(['restore', id, '--to', repoB], { cwd: repoB }));
  const file = path.join(claudeProjectDir(b.claudeDir, repoB), `${id}.jsonl`);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('deploy only after review', 'zzz deploy without review'));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  assert.ok((await texts(b, repoB, id)).includes('zzz deploy without review'), 'B pushed its version');

  const r = await ok(a.lore(['sync'], { cwd: repoA }));
  assert.match(r.stderr, new RegExp(`session ${id}: 1 line from origin conflict(s)? with this machine's; both versions are kept`));
  const onA = await texts(a, repoA, id);
  assert.ok(onA.includes('deploy only after review'), 'A keeps its own line');
  assert.ok(onA.includes('zzz deploy without review'), 'the other version is kept beside it');
  // The machines converge on the file that holds both.
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  assert.deepEqual((await texts(b, repoB, id)).sort(), onA.sort());
});

test('store pinning: a lore ref swapped for another store whose key this machine holds is refused, never adopted; accepting it takes the passphrase', async () => {
  const v = new Machine('pinv');
  // The victim's two repositories, each with its own store; the victim holds both keys.
  const bare1 = bareRemote(v);
  const repo1 = cloneOn(v, bare1, 'one');
  const other = path.join(v.home, 'other.git');
  v.git(v.home, 'init', '-q', '--bare', other);
  const repo2 = v.initRepo(path.join(v.home, 'two'));
  v.git(repo2, 'remote', 'add', 'origin', other);
  v.git(repo2, 'push', '-q', 'origin', 'main');
  const secret = 'cccccccc-0000-4000-8000-000000000001';
  writeSession(v, repo1, secret, [userLine(secret, repo1, 'u1', 'the secret reasoning of repository one', 1)]);
  await ok(v.lore(['sync', 'setup'], { cwd: repo1, env: PASS }));
  await ok(v.lore(['sync', '-q'], { cwd: repo1 }));
  await ok(v.lore(['sync', 'setup'], { cwd: repo2, env: { LORE_PASSPHRASE: 'the other team passphrase' } }));
  await ok(v.lore(['sync', '-q'], { cwd: repo2 }));

  // An attacker with push access to repository one (no passphrase) puts store two's ref there.
  v.git(bare1, 'fetch', '-q', other, '+refs/lore/sessions:refs/lore/sessions');
  const swapped = v.git(bare1, 'rev-parse', 'refs/lore/sessions').trim();

  // The existing clone refuses, says what happened, and sends nothing.
  writeSession(v, repo1, secret, [userLine(secret, repo1, 'u2', 'more secret reasoning', 2)], true);
  const r = await v.lore(['sync'], { cwd: repo1 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the lore store on origin changed: this clone joined store [0-9a-f]{32}, the remote now holds store [0-9a-f]{32}/);
  assert.match(r.stderr, /git lore sync setup/);
  assert.equal(v.git(bare1, 'rev-parse', 'refs/lore/sessions').trim(), swapped, 'nothing pushed');

  // A fresh `git clone lore::` does not adopt it silently, and its syncs refuse too.
  const fresh = path.join(v.home, 'fresh');
  const cloned = await v.run('git', ['clone', '-q', `lore::${bare1}`, fresh], { cwd: v.home });
  assert.equal(cloned.code, 0, cloned.stderr);
  const s = await v.lore(['sync'], { cwd: fresh });
  assert.equal(s.code, 1);
  assert.match(s.stderr, /has not joined the lore store on origin/);
  const list = JSON.parse((await ok(v.lore(['sessions', '--json'], { cwd: fresh }))).stdout) as { sessions: Array<{ id: string }> };
  assert.ok(!list.sessions.some((x) => x.id !== secret && x.id.startsWith('cccc')), 'no foreign session filed here');
  assert.equal(v.git(bare1, 'rev-parse', 'refs/lore/sessions').trim(), swapped, 'nothing pushed');
  const setupNoPass = await v.lore(['sync', 'setup'], { cwd: repo1 });
  assert.notEqual(setupNoPass.code, 0, 'accepting the other store needs its passphrase');

  // Accepting it on purpose takes that store's passphrase; the old ref is kept aside.
  await ok(v.lore(['sync', 'setup'], { cwd: repo1, env: { LORE_PASSPHRASE: 'the other team passphrase' } }));
  await ok(v.lore(['sync', '-q'], { cwd: repo1 }));
  assert.ok(v.git(repo1, 'for-each-ref', '--format=%(refname)', 'refs/lore/replaced/').trim().length > 0);
});

test('git lore repair: after a writer without the key deletes lore.json, adds junk entries and damages a chunk, one commit on top makes every sync work again', async () => {
  const a = new Machine('ra');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const ids = ['d1d1d1d1', 'd2d2d2d2', 'd3d3d3d3'].map((p) => `${p}-0000-4000-8000-000000000001`);
  for (const id of ids) writeSession(a, repoA, id, [userLine(id, repoA, `${id}-1`, `work of ${id}`, 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));
  const b = new Machine('rb');
  const repoB = cloneOn(b, bare);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));

  // The attack, as a plain git user with push access.
  const work = fs.mkdtempSync(path.join(a.home, 'attack-'));
  const env = { ...a.vars, GIT_INDEX_FILE: path.join(work, 'index'), GIT_DIR: bare };
  const { execFileSync } = await import('node:child_process');
  execFileSync('git', ['read-tree', 'refs/lore/sessions'], { env });
  const junk = execFileSync('git', ['hash-object', '-w', '--stdin'], { env, input: 'junk\n' }).toString().trim();
  const lines = [`0 0000000000000000000000000000000000000000\tlore.json`];
  for (let i = 0; i < 500; i++) lines.push(`100644 ${junk}\tsessions/${String(i % 100).padStart(2, '0')}/junk${String(i).padStart(6, '0')}-${String(i % 100).padStart(2, '0')}.meta`);
  const chunk = a.git(bare, 'ls-tree', '-r', '--name-only', 'refs/lore/sessions', '--', 'chunks').split('\n').filter(Boolean)[0]!;
  lines.push(`100644 ${junk}\t${chunk}`);
  execFileSync('git', ['update-index', '--index-info'], { env, input: `${lines.join('\n')}\n` });
  const tree = execFileSync('git', ['write-tree'], { env }).toString().trim();
  const attacked = execFileSync('git', ['commit-tree', tree, '-p', 'refs/lore/sessions', '-m', 'innocent'], { env }).toString().trim();
  execFileSync('git', ['update-ref', 'refs/lore/sessions', attacked], { env });

  const broken = await b.lore(['sync'], { cwd: repoB });
  assert.equal(broken.code, 1, 'a store without lore.json stops syncs');
  assert.match(broken.stderr, /lore\.json/);

  const dry = await ok(a.lore(['repair', '--dry-run', '--json'], { cwd: repoA }));
  const plan = JSON.parse(dry.stdout) as { kept: string[]; rewritten: string[]; removedEntries: number; descriptorRestored: boolean; commit: string | null };
  assert.equal(plan.descriptorRestored, true);
  assert.ok(plan.removedEntries >= 500, `junk dropped (${plan.removedEntries})`);
  assert.equal(plan.commit, null);
  assert.equal(a.git(bare, 'rev-parse', 'refs/lore/sessions').trim(), attacked, 'a dry run writes nothing');

  const fixed = await ok(a.lore(['repair'], { cwd: repoA }));
  assert.match(fixed.stdout, /pushed the repaired store/);
  const tip = a.git(bare, 'rev-parse', 'refs/lore/sessions').trim();
  assert.equal(a.git(bare, 'rev-parse', `${tip}^`).trim(), attacked, 'one commit on top: nothing forced, history kept');
  const paths = a.git(bare, 'ls-tree', '-r', '--name-only', tip).split('\n').filter(Boolean);
  assert.ok(paths.includes('lore.json'));
  assert.ok(!paths.some((p) => p.includes('junk')), 'junk entries gone');
  for (const id of ids) assert.ok(paths.includes(`sessions/${id.slice(-2)}/${id}.idx`));

  // B's syncs work again, and B has every session.
  const rb = await b.lore(['sync'], { cwd: repoB });
  assert.equal(rb.code, 0, rb.stderr);
  const list = JSON.parse((await ok(b.lore(['sessions', '--json'], { cwd: repoB }))).stdout) as { sessions: Array<{ id: string }> };
  assert.deepEqual(list.sessions.map((s) => s.id).sort(), [...ids].sort());
  assert.match((await ok(a.lore(['repair'], { cwd: repoA }))).stdout, /nothing to repair/);
});

test('what the host learns: a machine has a different id in each store, and metadata times are rounded to the minute', async () => {
  const m = new Machine('ids');
  const metas: Array<{ originMachine: string; startedAt: string; updatedAt: string }> = [];
  for (const name of ['one', 'two']) {
    const bare = path.join(m.home, `${name}.git`);
    m.git(m.home, 'init', '-q', '--bare', bare);
    const repo = m.initRepo(path.join(m.home, name));
    m.git(repo, 'remote', 'add', 'origin', bare);
    m.git(repo, 'push', '-q', 'origin', 'main');
    const id = `${name === 'one' ? '1a1a1a1a' : '2b2b2b2b'}-0000-4000-8000-000000000001`;
    writeSession(m, repo, id, [userLine(id, repo, 'u1', 'hello', 17), userLine(id, repo, 'u2', 'later', 43)]);
    await ok(m.lore(['sync', 'setup'], { cwd: repo, env: { LORE_PASSPHRASE: `passphrase of store ${name}` } }));
    await ok(m.lore(['sync', '-q'], { cwd: repo }));
    metas.push(JSON.parse(m.git(bare, 'cat-file', 'blob', `refs/lore/sessions:sessions/${id.slice(-2)}/${id}.meta`)));
  }
  const own = fs.readFileSync(path.join(m.vars.LORE_HOME!, 'machine-id'), 'utf8').trim();
  assert.notEqual(metas[0]!.originMachine, metas[1]!.originMachine, 'not linkable across stores');
  for (const meta of metas) {
    assert.match(meta.originMachine, /^[0-9a-f]{32}$/);
    assert.notEqual(meta.originMachine, own);
    assert.match(meta.startedAt, /:00\.000Z$/);
    assert.match(meta.updatedAt, /:00\.000Z$/);
  }
});
