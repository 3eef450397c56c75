import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { isListingFindArgs, listingFindArgs } from '../../src/sources/find-args.js';
import { captureStateFile, startEarlyListing } from '../../src/core/early-listing.js';
import { importSessions } from '../../src/core/import.js';

test('a saved find command is run only when it is exactly a listing command', () => {
  const args = listingFindArgs(['/home/u/.claude/projects', '/home/u/.codex/sessions'], 4, '1796211458.784000000');
  assert.ok(isListingFindArgs(args));
  assert.ok(isListingFindArgs(listingFindArgs(['/a b/c'], 4)), 'a full listing, a root with a space');
  const bad: unknown[] = [
    [...args, '-exec', 'touch', '/tmp/x', ';'],
    [...args.slice(0, -1), '-delete', ')'],
    args.map((a) => (a === '-printf' ? '-fprintf' : a)),
    listingFindArgs(['relative/root'], 4),
    listingFindArgs(['/r'], 0),
    listingFindArgs(['/r'], 4, 'yesterday'),
    ['-H', '/r'],
    'find -H /r',
    null,
  ];
  for (const b of bad) assert.equal(isListingFindArgs(b), false, JSON.stringify(b));
});

// `git lore sync` starts the find its last capture recorded before the CLI loads, and uses it;
// a state whose command was altered is never run (the sync lists by itself).
test('the launcher starts the recorded listing early, and never runs an altered one', async () => {
  const m = new Machine('early');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  const [a, b, c] = [1, 2, 3].map((n) => uuid(n, 'f'));
  writeSession(m, repo, a!, [userLine(a!, repo, 'a1', 'first', 1)]);
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  await ok(m.lore(['sync'], { cwd: repo }));
  const debug = { DEBUG: 'lore:import' };
  const stateFile = captureStateFile(m.vars.LORE_HOME!);
  assert.ok(fs.existsSync(stateFile), 'a complete capture recorded the next listing');

  writeSession(m, repo, b!, [userLine(b!, repo, 'b1', 'second', 1)]);
  const early = await ok(m.lore(['sync', '--json'], { cwd: repo, env: debug }));
  assert.match(early.stderr, /find started early by the launcher/);
  assert.deepEqual(JSON.parse(early.stdout).sent, [b]);
  // Commands that do not capture first leave it alone.
  assert.doesNotMatch((await ok(m.lore(['sync', 'setup', '--dry-run'], { cwd: repo, env: { ...debug, ...PASS } }))).stderr, /started early/);

  const marker = path.join(m.home, 'ran');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { find: string[] };
  fs.writeFileSync(stateFile, JSON.stringify({ ...state, find: [...state.find, '-exec', 'touch', marker, ';'] }));
  writeSession(m, repo, c!, [userLine(c!, repo, 'c1', 'third', 1)]);
  const altered = await ok(m.lore(['sync', '--json'], { cwd: repo, env: debug }));
  assert.doesNotMatch(altered.stderr, /started early/);
  assert.equal(fs.existsSync(marker), false, 'the altered command did not run');
  assert.deepEqual(JSON.parse(altered.stdout).sent, [c], 'the sync listed by itself');
});

test('only the commands that capture first start the recorded listing', async () => {
  const m = new Machine('early-cmds');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(9, 'f');
  writeSession(m, repo, id, [userLine(id, repo, 'x', 'one', 1)]);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
  } finally {
    ctx.close();
  }
  const recorded = (JSON.parse(fs.readFileSync(captureStateFile(m.vars.LORE_HOME!), 'utf8')) as { find: string[] }).find;
  const starts = (argv: string[]) => startEarlyListing(argv, m.vars, repo);
  for (const argv of [['sync', 'setup'], ['sync', '--dry-run'], ['hook', 'pre-push', 'origin', 'x'], ['hook-worker', 'post-rewrite', 'amend'], ['sessions'], ['--version']]) {
    assert.equal(starts(argv), undefined, argv.join(' '));
  }
  for (const argv of [['sync'], ['sync', '-q', '--json'], ['hook-worker', 'pre-push', 'origin', 'x'], ['hook-worker', 'post-merge', '0'], ['hook-worker', 'post-rewrite', 'rebase']]) {
    const early = starts(argv);
    assert.ok(early, argv.join(' '));
    assert.equal(early.take(['-H', '/elsewhere']), null, 'another command gets nothing');
    const r = await early.take(recorded);
    assert.ok(r && r.exitCode === 0, 'the recorded find ran');
    assert.equal(early.take(recorded), null, 'taken once');
  }
});
