import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { userLine, uuid, writeSession } from '../helpers/repos.js';
import { importSessions, sources } from '../../src/core/import.js';
import { listRoots, records } from '../../src/sources/listing.js';
import { FULL_EVERY_MS, startListing } from '../../src/core/capture-state.js';
import { ROOT_DEPTH } from '../../src/sources/types.js';
import type { LoreContext } from '../../src/core/context.js';

const HAVE_GNU_FIND = (() => {
  try {
    execFileSync('find', ['.', '-maxdepth', '0', '-printf', '%y'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

async function capture(ctx: LoreContext) {
  const s = await importSessions(ctx);
  return { changed: s.sessionsNew + s.sessionsUpdated, seen: s.filesSeen, unreadable: s.unreadableFiles };
}

test('capture from the find listing: the same files as the Node walk, and every kind of change seen', { skip: HAVE_GNU_FIND ? false : 'GNU find is absent (capture then walks with Node)' }, async () => {
  const m = new Machine('ls');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const ids = [1, 2, 3].map((n) => uuid(n, 'd'));
  const files = ids.map((id, i) => writeSession(m, repo, id, [userLine(id, repo, `u${i}`, `prompt ${i}`, i)]));
  // A subagent file, a codex rollout, a name with a space, a symlinked session, and a folder the sources skip.
  const sub = path.join(path.dirname(files[0]!), ids[0]!, 'subagents', 'agent-x.jsonl');
  fs.mkdirSync(path.dirname(sub), { recursive: true });
  fs.writeFileSync(sub, `${userLine(ids[0]!, repo, 'sx', 'subagent prompt', 9)}\n`);
  const day = path.join(m.codexHome, 'sessions', '2026', '01', '02');
  fs.mkdirSync(day, { recursive: true });
  fs.writeFileSync(path.join(day, `rollout-2026-01-02T00-00-00-${uuid(4, 'e')}.jsonl`), `${JSON.stringify({ timestamp: '2026-01-02T00:00:00Z', type: 'session_meta', payload: { id: uuid(4, 'e'), cwd: repo } })}\n`);
  fs.writeFileSync(path.join(path.dirname(files[0]!), 'notes with space.txt'), 'x');

  const ctx = m.ctx(repo);
  try {
    const sameAsWalk = async () => {
      const listing = await listRoots(sources(ctx, { unreadable: () => undefined }).flatMap((s) => s.roots), ROOT_DEPTH + 1, ctx.env.vars);
      assert.ok(listing, 'GNU find lists the roots');
      const norm = (xs: Array<{ absPath: string; size: number; mtimeMs: number; sessionId: string | null }>) =>
        xs.map((f) => `${f.absPath} ${f.size} ${f.mtimeMs} ${f.sessionId}`).sort();
      for (const s of sources(ctx, { unreadable: () => undefined })) {
        assert.deepEqual(norm(s.discover(listing)), norm(s.discover()), `${s.tool}: the listing finds what the walk finds`);
      }
      return listing;
    };
    assert.ok((await sameAsWalk()).digest, 'no symbolic link: the listing has a digest');

    const first = await capture(ctx);
    assert.equal(first.changed, 4);
    assert.deepEqual(await capture(ctx), { changed: 0, seen: first.seen, unreadable: [] }, 'unchanged: nothing read');

    // Appended, with the old mtime put back: the size differs.
    const st = fs.statSync(files[1]!);
    fs.appendFileSync(files[1]!, `${userLine(ids[1]!, repo, 'u9', 'more', 9)}\n`);
    fs.utimesSync(files[1]!, st.atime, st.mtime);
    assert.equal((await capture(ctx)).changed, 1, 'an append under an unchanged mtime');

    // Same size, new content, new mtime.
    const text = fs.readFileSync(files[2]!, 'utf8');
    fs.writeFileSync(files[2]!, text.replace('prompt 2', 'prompt Z'));
    fs.utimesSync(files[2]!, new Date(), new Date(Date.now() + 5000));
    assert.equal((await capture(ctx)).changed, 1, 'a rewrite of the same size');

    // A new session file whose mtime is in the past (copied with cp -p): a "newer than" check would miss it.
    const old = uuid(6, 'd');
    const copied = writeSession(m, repo, old, [userLine(old, repo, 'o1', 'copied from another machine', 1)]);
    fs.utimesSync(copied, new Date(2020, 0, 1), new Date(2020, 0, 1));
    assert.equal((await capture(ctx)).changed, 1, 'a new file with an old mtime');

    // A symlinked session file: found like the walk finds it; its target can change while the
    // link stays the same, so a listing with links has no digest and every capture compares stats.
    const linked = uuid(5, 'd');
    const target = path.join(m.home, 'elsewhere.jsonl');
    fs.writeFileSync(target, `${userLine(linked, repo, 'l1', 'linked', 1)}\n`);
    fs.symlinkSync(target, path.join(path.dirname(files[0]!), `${linked}.jsonl`));
    assert.equal((await sameAsWalk()).digest, null);
    assert.equal((await capture(ctx)).changed, 1, 'the symlinked session');
    assert.equal((await capture(ctx)).changed, 0);
    fs.appendFileSync(target, `${userLine(linked, repo, 'l2', 'linked, more', 2)}\n`);
    assert.equal((await capture(ctx)).changed, 1, 'a symlinked file whose target grew');
  } finally {
    ctx.close();
  }
});

test('without GNU find (or when it fails), capture walks with Node and loses nothing', async () => {
  const m = new Machine('nofind');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  // A PATH whose `find` is a BSD-like one that rejects -printf; git stays reachable.
  const bin = path.join(m.home, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'find'), '#!/bin/sh\necho "find: -printf: unknown primary or operator" >&2\nexit 1\n', { mode: 0o755 });
  const git = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
  fs.symlinkSync(git, path.join(bin, 'git'));
  const id = uuid(7, 'f');
  const file = writeSession(m, repo, id, [userLine(id, repo, 'n1', 'no find here', 1)]);
  const ctx = m.ctx(repo, { PATH: bin });
  try {
    assert.equal((await capture(ctx)).changed, 1);
    assert.equal((await capture(ctx)).changed, 0);
    fs.appendFileSync(file, `${userLine(id, repo, 'n2', 'more', 2)}\n`);
    assert.equal((await capture(ctx)).changed, 1);
  } finally {
    ctx.close();
  }
});

test('a session skipped as too large is imported once the limit is raised, its file unchanged', async () => {
  const m = new Machine('limit');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(8, 'f');
  writeSession(m, repo, id, [userLine(id, repo, 'x1', 'y'.repeat(500), 1)]);
  const small = m.ctx(repo, { LORE_MAX_FILE_BYTES: '100' });
  try {
    const s = await importSessions(small);
    assert.equal(s.tooLargeFiles.length, 1);
    assert.equal(s.sessionsNew, 0);
  } finally {
    small.close();
  }
  const ctx = m.ctx(repo);
  try {
    assert.equal((await capture(ctx)).changed, 1);
    assert.equal((await capture(ctx)).changed, 0);
  } finally {
    ctx.close();
  }
});

test('after a complete capture, the next lists only what changed, and misses neither a folder moved in nor a renamed one', { skip: HAVE_GNU_FIND ? false : 'GNU find is absent (capture then walks with Node)' }, async () => {
  const m = new Machine('since');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const ids = [1, 2, 3, 4].map((n) => uuid(n, 'a'));
  for (const [i, id] of ids.entries()) writeSession(m, repo, id, [userLine(id, repo, `u${i}`, `prompt ${i}`, i)]);
  // Written elsewhere before the capture below: moved in later, a folder whose file keeps its old ctime.
  const outside = path.join(m.home, 'other-machine');
  const movedId = uuid(5, 'a');
  const movedRepo = m.initRepo(path.join(m.home, 'proj2'));
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, `${movedId}.jsonl`), `${userLine(movedId, movedRepo, 'm1', 'moved in', 1)}\n`);
  const ctx = m.ctx(repo);
  const roots = () => sources(ctx, { unreadable: () => undefined }).flatMap((s) => s.roots);
  const listed = async (nowMs?: number) => {
    const started = startListing(ctx.paths.loreHome, roots(), ROOT_DEPTH + 1, ctx.env.vars, nowMs);
    const listing = (await started.listing)!;
    return { changesOnly: listing.changesOnly, paths: records(listing.text).map((r) => path.basename(r.slice(r.lastIndexOf(' ') + 1))).sort() };
  };
  // The state's reference moved to now, as if every file had been written long before the last
  // capture (a test cannot age a ctime): only what changes from here on has a later one.
  const stateDir = path.join(ctx.paths.loreHome, 'capture-since');
  const ageFiles = () => {
    const sec = Math.floor(Date.now() / 1000) + 1;
    for (const f of fs.readdirSync(stateDir)) {
      const st = JSON.parse(fs.readFileSync(path.join(stateDir, f), 'utf8'));
      fs.writeFileSync(path.join(stateDir, f), JSON.stringify({ ...st, ref: `${sec}.000000000` }));
    }
    return new Promise((res) => setTimeout(res, Math.max(0, sec * 1000 - Date.now() + 20)));
  };
  try {
    assert.equal((await listed()).changesOnly, false, 'no state yet: every file is listed');
    assert.equal((await capture(ctx)).changed, 4);
    await ageFiles();
    assert.deepEqual(await listed(), { changesOnly: true, paths: [] }, 'nothing changed since: nothing listed');

    const target = claudeProjectDir(m.claudeDir, movedRepo);
    fs.renameSync(outside, target);
    assert.deepEqual((await listed()).paths, [`${movedId}.jsonl`], 'the files of a folder new to the listing are listed');
    assert.equal((await capture(ctx)).changed, 1, 'the moved-in session is captured');
    await ageFiles();
    assert.equal((await capture(ctx)).changed, 0);

    // The same folder renamed within the roots: a new path, listed whole again (its session unchanged).
    fs.renameSync(target, `${target}-renamed`);
    assert.deepEqual((await listed()).paths, [`${movedId}.jsonl`], 'a renamed folder is listed whole');
    assert.equal((await importSessions(ctx)).unreadableFiles.length, 0);
    await ageFiles();

    // An append to one of several files: only it is listed; its session is captured.
    const grown = writeSession(m, repo, ids[2]!, [userLine(ids[2]!, repo, 'u9', 'more', 9)], true);
    assert.deepEqual((await listed()).paths, [path.basename(grown)]);
    assert.equal((await capture(ctx)).changed, 1, 'the append is captured');

    // The last full listing is old, or the clock went back before the reference: every file again.
    assert.equal((await listed(Date.now() + FULL_EVERY_MS + 1000)).changesOnly, false);
    assert.equal((await listed(Date.now() - 3_600_000)).changesOnly, false);
    assert.equal((await listed()).changesOnly, true);
  } finally {
    ctx.close();
  }
});

test('the capture state is rewritten when a capture listed many changes, and left alone for a few', { skip: HAVE_GNU_FIND ? false : 'GNU find is absent (capture then walks with Node)' }, async () => {
  const m = new Machine('relist');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const ctx = m.ctx(repo);
  const stateFile = path.join(ctx.paths.loreHome, 'capture-since', 'state');
  const ref = () => (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { ref: string }).ref;
  try {
    writeSession(m, repo, uuid(1, 'c'), [userLine(uuid(1, 'c'), repo, 'x1', 'one', 1)]);
    assert.equal((await capture(ctx)).changed, 1);
    const first = ref();
    // A few changes within the minute: listed again next time, the state is not rewritten.
    writeSession(m, repo, uuid(2, 'c'), [userLine(uuid(2, 'c'), repo, 'x2', 'two', 1)]);
    assert.equal((await capture(ctx)).changed, 1);
    assert.equal(ref(), first, 'a few changes: the state is kept');
    // A burst (a restore, a first run): more than 64 files, so the reference moves on.
    for (let n = 10; n < 90; n++) writeSession(m, repo, uuid(n, 'c'), [userLine(uuid(n, 'c'), repo, `y${n}`, `burst ${n}`, 1)]);
    assert.equal((await capture(ctx)).changed, 80);
    assert.notEqual(ref(), first, 'after a burst the state is written again');
  } finally {
    ctx.close();
  }
});
