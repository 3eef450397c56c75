import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { BIN, Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine } from '../helpers/repos.js';
import { LORE_REF, cachedKey } from '../../src/core/sync/index.js';
import { readRefState } from '../../src/format/ref-store.js';
import { chunkPath, parseMeta } from '../../src/format/session-entry.js';
import { openIndex } from '../../src/format/session-index.js';
import { PROFILE, rng, summary } from './profile.js';

const POINTS = ['during-import', 'after-capture', 'during-pull', 'during-encrypt', 'after-objects', 'after-update-ref', 'after-push'];

/** Runs `git-lore sync`, killing it with SIGKILL at a named point or after a delay. */
function killedSync(m: Machine, repo: string, how: { point?: string; afterMs?: number }): Promise<string> {
  return new Promise((resolve) => {
    const env: Record<string, string> = { ...m.vars, ...(how.point ? { LORE_TEST_CRASH: how.point } : {}) };
    const child = spawn(process.execPath, [path.join(BIN, 'git-lore'), 'sync', '-q'], { cwd: repo, env, stdio: 'ignore' });
    const timer = how.afterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), how.afterMs) : undefined;
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve(signal ?? `exit ${code}`);
    });
  });
}

/** The local store and the lore ref are whole: integrity_check passes and every tree entry parses. */
async function checkIntact(m: Machine, repo: string): Promise<void> {
  const db = new Database(path.join(m.vars.LORE_HOME!, 'lore.db'), { readonly: true, fileMustExist: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
  const ctx = m.ctx(repo);
  try {
    const git = ctx.git(repo);
    const tip = await git.resolve(LORE_REF);
    if (!tip) return;
    const cat = git.catFile();
    try {
      const state = await readRefState(git, cat, tip);
      const key = cachedKey(ctx, state);
      for (const s of state.sessions.values()) {
        assert.ok(s.metaOid && s.indexOid, `${s.id} has both files`);
        const meta = (await cat.get(s.metaOid!))!.data;
        parseMeta(meta, s.id);
        // Objects first, ref last: every chunk the index names is in the tree the ref points at.
        const index = openIndex(key, state.descriptor.storeId, s.id, meta, (await cat.get(s.indexOid!))!.data);
        for (const f of index.files) for (const [cid] of f.chunks) assert.ok(await cat.info(`${tip}:${chunkPath(cid)}`), `${s.id}: chunk ${cid} present`);
      }
    } finally {
      await cat.close();
    }
  } finally {
    ctx.close();
  }
}

// Every named point is hit at least once, even in the quick profile: with 8 attempts alternating
// with timed kills, the last three points (after-objects, after-update-ref, after-push) used to be
// reached only by `npm run soak`, and a point that was never reached passed silently.
const ATTEMPTS = Math.max(PROFILE.kills, 2 * POINTS.length);

test(`crash injection: ${ATTEMPTS} SIGKILL attempts during capture, pull, encrypt, object writing, ref update and push`, async () => {
  const random = rng(PROFILE.seed);
  const a = new Machine('crasha');
  const b = new Machine('crashb');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare, 'team');
  const repoB = cloneOn(b, bare, 'team');
  await ok(a.lore(['sync', 'setup'], { cwd: repoA, env: PASS }));
  await ok(b.lore(['sync', 'setup'], { cwd: repoB, env: PASS }));
  const write = (m: Machine, repo: string, id: string, line: string) => {
    const proj = path.join(m.claudeDir, 'projects', repo.replace(/[^A-Za-z0-9]/g, '-'));
    fs.mkdirSync(proj, { recursive: true });
    fs.appendFileSync(path.join(proj, `${id}.jsonl`), `${line}\n`);
  };
  let kills = 0;
  let crashes = 0;
  const points = new Set<string>();
  const outcomes = new Map<string, number>();
  for (let i = 0; i < ATTEMPTS; i++) {
    // New work on both machines: a new session on A, a grown one on A, and B's work to pull.
    const idA = `aaaaaaaa-6000-4000-8000-${String(i).padStart(12, '0')}`;
    write(a, repoA, idA, userLine(idA, repoA, `a${i}`, `A work ${i}`, i));
    if (i > 0) {
      const prev = `aaaaaaaa-6000-4000-8000-${String(i - 1).padStart(12, '0')}`;
      write(a, repoA, prev, userLine(prev, repoA, `a${i - 1}+`, `A grows ${i - 1}`, i));
    }
    const idB = `bbbbbbbb-6000-4000-8000-${String(i).padStart(12, '0')}`;
    write(b, repoB, idB, userLine(idB, repoB, `b${i}`, `B work ${i}`, i));
    await ok(b.lore(['sync', '-q'], { cwd: repoB }));

    const how = i % 2 === 0 ? { point: POINTS[(i / 2) % POINTS.length]! } : { afterMs: Math.floor(20 + random() * 450) };
    const outcome = await killedSync(a, repoA, how);
    // A named point must be reached (each iteration brings work to capture, pull, seal and push);
    // a timed kill may land after the sync ended, which is counted, not failed.
    if (how.point) assert.equal(outcome, 'SIGKILL', `the sync reached the crash point ${how.point}`);
    if (how.point) points.add(how.point);
    if (outcome === 'SIGKILL') kills += 1;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    try {
      await checkIntact(a, repoA);
    } catch (err) {
      crashes += 1;
      throw err;
    }
    await ok(a.lore(['sync', '-q'], { cwd: repoA }));
    await checkIntact(a, repoA);
  }
  await ok(b.lore(['sync', '-q'], { cwd: repoB }));
  await ok(a.lore(['sync', '-q'], { cwd: repoA }));
  // The final state equals an uninterrupted run's: both machines hold the same sessions with the
  // same content, and nothing is pending.
  const ca = a.ctx(repoA);
  const cb = b.ctx(repoB);
  let lost = 0;
  try {
    const sa = new Map(ca.db.listSessions().map((r) => [r.id, r.bundle_sha256]));
    const sb = new Map(cb.db.listSessions().map((r) => [r.id, r.bundle_sha256]));
    assert.equal(sa.size, ATTEMPTS * 2);
    for (const [id, sha] of sa) if (sb.get(id) !== sha) lost += 1;
    for (const id of sb.keys()) if (!sa.has(id)) lost += 1;
    for (let i = 0; i < ATTEMPTS; i++) {
      const s = ca.db.getSession(`aaaaaaaa-6000-4000-8000-${String(i).padStart(12, '0')}`)!;
      assert.equal(s.message_count, i < ATTEMPTS - 1 ? 2 : 1);
    }
  } finally {
    ca.close();
    cb.close();
  }
  const status = JSON.parse((await ok(a.lore(['sync', 'status', '--json'], { cwd: repoA }))).stdout);
  assert.deepEqual([...points].sort(), [...POINTS].sort(), 'every crash point was tried');
  summary('crash injection', { attempts: ATTEMPTS, kills, outcomes: [...outcomes].map(([k, v]) => `${k} x${v}`).join(' / '), sessions: ATTEMPTS * 2, lost, crashes });
  assert.equal(lost, 0);
  assert.equal(status.pending, 0);
  assert.equal(status.relation, 'in-sync');
});
