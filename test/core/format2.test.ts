import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, writeSession } from '../helpers/repos.js';
import { rng } from '../helpers/rng.js';

const REF = 'refs/lore/sessions';
const idxPath = (id: string) => `sessions/${id.slice(-2)}/${id}.idx`;

/** What a commit of the lore ref added or changed, by kind. */
function changes(m: Machine, bare: string, from: string, to: string): { chunks: string[]; other: string[] } {
  const out = m.git(bare, 'diff-tree', '-r', '--no-renames', '--name-only', '-z', from, to).split('\0').filter(Boolean);
  return { chunks: out.filter((p) => p.startsWith('chunks/')), other: out.filter((p) => !p.startsWith('chunks/')) };
}

/** Lines of realistic-looking size: about `bytes` of JSONL for one session. */
const WORDS = 'the a session chunk store merge index file line commit push fetch tree blob key sealed padded branch remote agent tool edit read write test build error value state'.split(' ');
function lines(id: string, cwd: string, from: number, bytes: number): string[] {
  const out: string[] = [];
  const random = rng(from + 1);
  let n = 0;
  let i = from;
  while (n < bytes) {
    const words = Array.from({ length: 100 + Math.floor(random() * 600) }, () => WORDS[Math.floor(random() * WORDS.length)]);
    const text = `message ${i}: ${words.join(' ')}`;
    const l = userLine(id, cwd, `${id.slice(0, 8)}-line-${i}`, text, i);
    out.push(l);
    n += l.length + 1;
    i += 1;
  }
  return out;
}

/** A repository writer without the passphrase: sets paths of the remote's lore tree to blobs and pushes. */
function attack(m: Machine, bare: string, edits: Record<string, Buffer | string | null>): void {
  const work = fs.mkdtempSync(path.join(m.home, 'attack-'));
  const env = { ...m.vars, GIT_INDEX_FILE: path.join(work, 'index'), GIT_DIR: bare };
  execFileSync('git', ['read-tree', REF], { env });
  for (const [p, data] of Object.entries(edits)) {
    if (data === null) {
      execFileSync('git', ['update-index', '--index-info'], { env, input: `0 0000000000000000000000000000000000000000\t${p}\n` });
      continue;
    }
    const oid = /^[0-9a-f]{40}$/.test(String(data)) ? String(data) : execFileSync('git', ['hash-object', '-w', '--stdin'], { env, input: data, maxBuffer: 1 << 30 }).toString().trim();
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `100644,${oid},${p}`], { env });
  }
  const tree = execFileSync('git', ['write-tree'], { env }).toString().trim();
  const commit = execFileSync('git', ['commit-tree', tree, '-p', REF, '-m', 'innocent'], { env }).toString().trim();
  execFileSync('git', ['update-ref', REF, commit], { env });
}

test('format 2: a grown transcript adds only its new chunks; a new machine rebuilds it byte for byte', async () => {
  const a = new Machine('f2a');
  const bare = bareRemote(a);
  const repo = cloneOn(a, bare);
  const id = 'f2f2f2f2-0000-4000-8000-000000000001';
  const file = writeSession(a, repo, id, lines(id, repo, 0, 1_200_000));
  await ok(a.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  const first = a.git(bare, 'rev-parse', REF).trim();
  const desc = JSON.parse(a.git(bare, 'cat-file', 'blob', `${REF}:lore.json`));
  assert.equal(desc.version, 2, 'new stores are format 2');
  const all = changes(a, bare, `${first}^`, first);
  assert.ok(all.chunks.length >= 8, `a 1.2 MB transcript is cut into many chunks (${all.chunks.length})`);
  assert.ok(all.other.includes(idxPath(id)));

  writeSession(a, repo, id, lines(id, repo, 10_000, 300), true);
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  const second = a.git(bare, 'rev-parse', REF).trim();
  const grown = changes(a, bare, first, second);
  assert.ok(grown.chunks.length <= 2, `one appended line adds at most 2 chunks, not ${grown.chunks.length}`);
  assert.deepEqual(grown.other.sort(), [idxPath(id), idxPath(id).replace(/\.idx$/, '.meta')].sort());

  // Another machine: joins, receives, and holds the same bytes.
  const b = new Machine('f2b');
  const repoB = path.join(b.home, 'proj');
  b.git(b.home, 'clone', '-q', bare, repoB);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  const restored = await ok(b.lore(['restore', id, '--to', repoB], { cwd: repoB }));
  assert.match(restored.stdout + restored.stderr, /claude --resume/);
  const onB = fs.readFileSync(path.join(claudeProjectDir(b.claudeDir, repoB), `${id}.jsonl`), 'utf8');
  assert.equal(onB, fs.readFileSync(file, 'utf8').split(repo).join(repoB), 'byte for byte, with the repository path rewritten');

  // B continues the session and both converge. (The restored file's recorded paths were rewritten
  // to B's clone, so B's copy diverges from the stored one on every line that names the path: a
  // merge, not an append; repository-relative paths would avoid that.)
  fs.appendFileSync(path.join(claudeProjectDir(b.claudeDir, repoB), `${id}.jsonl`), `${lines(id, repoB, 20_000, 200).join('\n')}\n`);
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  // A session that B writes and grows: its growth on the ref is new chunks only, here too.
  const idB = 'f2f2f2f2-0000-4000-8000-00000000000b';
  writeSession(b, repoB, idB, lines(idB, repoB, 0, 600_000));
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  const third = a.git(bare, 'rev-parse', REF).trim();
  writeSession(b, repoB, idB, lines(idB, repoB, 30_000, 300), true);
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  assert.ok(changes(a, bare, third, a.git(bare, 'rev-parse', REF).trim()).chunks.length <= 2, 'B\'s append: at most 2 new chunks');
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  const count = async (m: Machine, cwd: string) => JSON.parse((await ok(m.lore(['show', '--json', id], { cwd }))).stdout).session.messageCount as number;
  assert.equal(await count(a, repo), await count(b, repoB));
});

test('format 2 on a hostile ref: huge, missing, foreign and moved objects fail their session by id, in bounded time; the others sync', async () => {
  const a = new Machine('f2h');
  const bare = bareRemote(a);
  const repo = cloneOn(a, bare);
  const ids = ['11111111', '22222222', '33333333', '44444444', '55555555'].map((p) => `${p}-0000-4000-8000-00000000f2f2`.replace(/f2f2$/, p.slice(0, 4)));
  for (const id of ids) writeSession(a, repo, id, lines(id, repo, 0, 40_000));
  await ok(a.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  // Which chunk belongs to which session is hidden from an attacker: attack some chunk paths and
  // one session's index, and check that each session either arrives whole or is reported by id.
  const chunks = a.git(bare, 'ls-tree', '-r', '--name-only', REF, '--', 'chunks').split('\n').filter(Boolean);
  assert.ok(chunks.length >= ids.length);

  // A store of someone else's, with the same files: its chunks are sealed under another key.
  const o = new Machine('f2o');
  const bareO = bareRemote(o);
  const repoO = cloneOn(o, bareO);
  for (const id of ids) writeSession(o, repoO, id, lines(id, repoO, 0, 40_000));
  await ok(o.lore(['sync', 'setup'], { cwd: repoO, env: { LORE_PASSPHRASE: 'another team passphrase' } }));
  await ok(o.lore(['sync', '-q'], { cwd: repoO }));
  const foreign = o.git(bareO, 'ls-tree', '-r', REF, '--', 'chunks').split('\n').filter(Boolean)[0]!.split(/\s+/);
  execFileSync('git', ['fetch', '-q', bareO, `${REF}:refs/foreign`], { cwd: bare, env: a.vars });

  const huge = Buffer.alloc(64 * 1024 * 1024);
  attack(a, bare, {
    [chunks[0]!]: huge, // a 64 MiB blob where a chunk should be: not read
    [chunks[1]!]: null, // a missing chunk
    [chunks[2]!]: foreign[2]!, // another store's chunk
    [idxPath(ids[3]!)]: a.git(bare, 'rev-parse', `${REF}:${idxPath(ids[4]!)}`).trim(), // another session's index
  });
  const b = new Machine('f2hb');
  const repoB = path.join(b.home, 'proj');
  b.git(b.home, 'clone', '-q', bare, repoB);
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  const started = Date.now();
  const r = await b.lore(['sync'], { cwd: repoB });
  const elapsed = Date.now() - started;
  assert.equal(r.code, 1, r.stderr);
  assert.ok(elapsed < 60_000, `bounded time (${elapsed} ms)`);
  assert.match(r.stderr, new RegExp(`session ${ids[3]}: .*authentication failed`), 'a moved index fails its session');
  assert.match(r.stderr, /over the limit|missing from the lore ref|authentication failed/);
  // The summary says whose fault it is: a moved index fails authentication, a missing or huge chunk is malformed.
  assert.match(r.stderr, /\d+ sessions? failed authentication, \d+ sessions? (is|are) malformed;/);
  assert.doesNotMatch(r.stderr, /bug in git-lore/);
  const failed = ids.filter((id) => new RegExp(`session ${id}:`).test(r.stderr));
  const listed = JSON.parse((await ok(b.lore(['sessions', '--json'], { cwd: repoB }))).stdout) as { sessions: Array<{ id: string }> };
  const got = new Set(listed.sessions.map((s) => s.id));
  for (const id of ids) assert.ok(got.has(id) !== failed.includes(id), `${id}: either received or reported (${failed.join(', ')})`);
  assert.ok(got.size >= 1, 'the sessions untouched by the attack arrive');

  // The holder still has everything and writes the damaged sessions back.
  const ra = await a.lore(['sync'], { cwd: repo });
  assert.equal(ra.code, 1, 'the holder sees the damage too');
  const rb = await b.lore(['sync'], { cwd: repoB });
  assert.equal(rb.code, 0, `after the holder's sync, the newcomer receives everything: ${rb.stderr}`);
  const after = JSON.parse((await ok(b.lore(['sessions', '--json'], { cwd: repoB }))).stdout) as { sessions: Array<{ id: string }> };
  assert.deepEqual(after.sessions.map((s) => s.id).sort(), [...ids].sort());
});

test('format 2: a descriptor blob over the size limit is refused without being read', async () => {
  const a = new Machine('f2d');
  const bare = bareRemote(a);
  const repo = cloneOn(a, bare);
  writeSession(a, repo, 'dddddddd-0000-4000-8000-000000000001', [userLine('dddddddd-0000-4000-8000-000000000001', repo, 'u1', 'hello', 1)]);
  await ok(a.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(a.lore(['sync', '-q'], { cwd: repo }));
  attack(a, bare, { 'lore.json': Buffer.alloc(32 * 1024 * 1024, 0x20) });
  const started = Date.now();
  const r = await a.lore(['sync'], { cwd: repo });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /lore\.json\) is \d+ bytes, over the \d+-byte limit/);
  assert.ok(Date.now() - started < 30_000);
});
