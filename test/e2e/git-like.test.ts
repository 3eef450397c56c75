import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, ROOT } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine, uuid, writeSession } from '../helpers/repos.js';
import { inTerminal } from '../helpers/terminal.js';

const refs = (m: Machine, dir: string) => m.git(dir, 'for-each-ref', '--format=%(refname)', 'refs/lore');

test('sync setup --dry-run asks nothing and writes nothing; it says whether it would create or join', async () => {
  const a = new Machine('dryA');
  const b = new Machine('dryB');
  const bare = bareRemote(a);
  const repoA = cloneOn(a, bare);
  const configBefore = fs.readFileSync(path.join(repoA, '.git', 'config'), 'utf8');
  const create = await ok(a.lore(['sync', 'setup', '--dry-run'], { cwd: repoA }));
  assert.match(create.stdout, /would create a new lore store on origin .*nothing was changed/);
  assert.equal(refs(a, bare), '', 'nothing on the remote');
  assert.equal(refs(a, repoA), '', 'no local lore ref');
  assert.equal(fs.readFileSync(path.join(repoA, '.git', 'config'), 'utf8'), configBefore, 'no refspec added');
  assert.ok(!fs.existsSync(path.join(a.vars.LORE_HOME!, 'keys')), 'no key cached');
  const createJson = JSON.parse((await ok(a.lore(['sync', 'setup', '--dry-run', '--json'], { cwd: repoA }))).stdout);
  assert.deepEqual(createJson, { version: 1, action: 'created', dryRun: true, storeId: null, remote: 'origin', global: false });

  const real = JSON.parse((await ok(a.lore(['sync', 'setup', '--json'], { cwd: repoA, env: PASS }))).stdout);
  assert.equal(real.action, 'created');
  assert.match(real.storeId, /^[0-9a-f]{32}$/);
  const already = JSON.parse((await ok(a.lore(['sync', 'setup', '-n', '--json'], { cwd: repoA }))).stdout);
  assert.equal(already.action, 'already');

  const repoB = cloneOn(b, bare);
  const objectsBefore = m2objects(b, repoB);
  const join = await ok(b.lore(['sync', 'setup', '--dry-run'], { cwd: repoB }));
  assert.match(join.stdout, /would join the lore store (\w+ )?on origin \(asks for its passphrase\); dry run, nothing was changed/);
  assert.equal(refs(b, repoB), '');
  assert.equal(m2objects(b, repoB), objectsBefore, 'nothing fetched');
  assert.ok(!fs.existsSync(path.join(b.vars.LORE_HOME!, 'keys')));
});

function m2objects(m: Machine, repo: string): string {
  return m.git(repo, 'count-objects', '-v');
}

test('--json on sync, restore and config list; --version', async () => {
  const a = new Machine('jsonA');
  const bare = bareRemote(a);
  const repo = cloneOn(a, bare);
  await ok(a.lore(['sync', 'setup', '--no-hooks'], { cwd: repo, env: PASS }));
  const id = uuid(1, 'e');
  writeSession(a, repo, id, [userLine(id, repo, 'u1', 'hello', 1)]);
  const sync = JSON.parse((await ok(a.lore(['sync', '--json'], { cwd: repo }))).stdout);
  assert.equal(sync.version, 1);
  assert.deepEqual(sync.sent, [id]);
  assert.deepEqual(sync.received, []);
  assert.equal(sync.remote, 'origin');
  assert.equal(sync.dryRun, false);
  const restore = JSON.parse((await ok(a.lore(['restore', id, '--json'], { cwd: repo }))).stdout);
  assert.equal(restore.version, 1);
  assert.equal(restore.id, id);
  assert.ok(Array.isArray(restore.written) && Array.isArray(restore.unchanged));
  await ok(a.lore(['config', 'set', 'max_file_bytes', '1000'], { cwd: repo }));
  const list = JSON.parse((await ok(a.lore(['config', 'list', '--json'], { cwd: repo, env: { LORE_HOOK_TIMEOUT: '5' } }))).stdout);
  assert.deepEqual(list.settings.find((s: { name: string }) => s.name === 'max_file_bytes'), { name: 'max_file_bytes', value: '1000', from: 'config' });
  assert.equal(list.settings.find((s: { name: string }) => s.name === 'hook_timeout')?.variable, 'LORE_HOOK_TIMEOUT');

  const version = await ok(a.lore(['--version'], { cwd: repo }));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `git-lore version ${pkg.version}\n`);
});

test('a closed pipe ends a command quietly (git lore blame f | head -1)', async () => {
  const m = new Machine('pipe');
  const repo = m.initRepo(path.join(m.home, 'r'));
  fs.writeFileSync(path.join(repo, 'big.txt'), Array.from({ length: 20000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n') + '\n');
  m.git(repo, 'add', '.');
  m.git(repo, 'commit', '-qm', 'big');
  for (const cmd of ['git lore blame big.txt | head -1', 'git-lore --help | head -1', 'git lore log --all 2>&1 | head -1 >/dev/null; git lore blame big.txt | true']) {
    const r = await m.run('bash', ['-o', 'pipefail', '-c', cmd], { cwd: repo });
    assert.equal(r.code, 0, `${cmd}: exit ${r.code}\n${r.stderr}`);
    assert.equal(r.stderr, '', `${cmd}: no stack trace`);
  }
});

test('blame names the author of lines people wrote; times are local with their offset, or relative', async () => {
  const m = new Machine('times');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const blame = await ok(m.lore(['blame', 'README'], { cwd: repo, env: { TZ: 'Asia/Kolkata' } }));
  assert.match(blame.stdout, /^[0-9a-f]{8} times {16}\d{4}-\d\d-\d\d 1\) hello\n$/, 'the author, as git blame shows');
  const id = uuid(2, 'd');
  writeSession(m, repo, id, [userLine(id, repo, 'u1', 'what time is it', 1)]);
  const list = await ok(m.lore(['sessions'], { cwd: repo, env: { TZ: 'Asia/Kolkata' } }));
  assert.match(list.stdout, /^dddddddd {2}2026-01-01 05:30 \+0530 /, 'the start in local time, with its offset');
  const show = await ok(m.lore(['show', id], { cwd: repo, env: { TZ: 'America/New_York' } }));
  assert.match(show.stdout, /started: {2}2025-12-31 19:00:01 -0500 \(\d+ (days|weeks|months) ago\)/);
  const json = JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo, env: { TZ: 'Asia/Kolkata' } }))).stdout);
  assert.equal(json.sessions[0].startedAt, '2026-01-01T00:00:01.000Z', 'JSON keeps ISO with its zone');
});

test('on a terminal: git\'s pager (GIT_PAGER, core.pager, LESS=FRX, --no-pager, never for --json); colours follow color.ui, NO_COLOR and --no-color', async () => {
  const m = new Machine('tty');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const id = uuid(3, 'c');
  writeSession(m, repo, id, [userLine(id, repo, 'u1', 'page me', 1)]);
  const pager = 'echo "LESS=$LESS"; sed "s/^/paged: /"';
  const paged = await inTerminal(m, ['sessions'], { cwd: repo, env: { GIT_PAGER: pager } });
  assert.equal(paged.code, 0, paged.screen);
  assert.match(paged.screen, /LESS=FRX\npaged: .*cccccccc/);
  const noPager = await inTerminal(m, ['--no-pager', 'sessions'], { cwd: repo, env: { GIT_PAGER: pager } });
  assert.doesNotMatch(noPager.screen, /paged:/);
  assert.match(noPager.screen, /cccccccc/);
  const json = await inTerminal(m, ['sessions', '--json'], { cwd: repo, env: { GIT_PAGER: pager } });
  assert.doesNotMatch(json.screen, /paged:/);
  m.git(repo, 'config', 'core.pager', 'sed "s/^/core: /"');
  const core = await inTerminal(m, ['sessions'], { cwd: repo, env: { LESS: '-X' } });
  assert.match(core.screen, /core: .*cccccccc/);
  m.git(repo, 'config', 'core.pager', 'cat');

  const coloured = await inTerminal(m, ['sessions'], { cwd: repo, env: { NO_COLOR: undefined } });
  assert.match(coloured.screen, /\x1b\[33mcccccccc/, 'colours on a terminal by default');
  for (const [args, env] of [[['sessions', '--no-color'], {}], [['sessions'], { NO_COLOR: '1' }]] as const) {
    const plain = await inTerminal(m, [...args], { cwd: repo, env: { NO_COLOR: undefined, ...env } });
    assert.doesNotMatch(plain.screen, /\x1b\[/, `${args.join(' ')} ${JSON.stringify(env)}`);
  }
  m.git(repo, 'config', 'color.ui', 'never');
  const never = await inTerminal(m, ['sessions'], { cwd: repo, env: { NO_COLOR: undefined } });
  assert.doesNotMatch(never.screen, /\x1b\[/, 'color.ui=never');
});

test('messages about the global store say "the global store", not its repository\'s origin', async () => {
  const m = new Machine('globalwords');
  const bare = path.join(m.home, 'private.git');
  m.git(m.home, 'init', '-q', '--bare', bare);
  await ok(m.lore(['config', 'set', 'sync_global_remote', bare], { cwd: m.home }));
  const dry = await ok(m.lore(['sync', '--global', 'setup', '--dry-run'], { cwd: m.home }));
  assert.match(dry.stdout, /would create a new lore store on the global store/);
  const setup = await ok(m.lore(['sync', '--global', 'setup'], { cwd: m.home, env: PASS }));
  assert.match(setup.stdout, /created a new lore store \w+ on the global store;/);
  assert.match(setup.stdout, /run `git lore sync --global`/);
  const sync = await ok(m.lore(['sync', '--global'], { cwd: m.home }));
  assert.match(sync.stdout, /^lore: up to date with the global store\n$/);
  const status = await ok(m.lore(['sync', '--global', 'status'], { cwd: m.home }));
  assert.match(status.stdout, /^remote: {4}the global store\n/);
  fs.renameSync(bare, `${bare}.gone`);
  const gone = await m.lore(['sync', '--global'], { cwd: m.home });
  assert.equal(gone.code, 1);
  assert.doesNotMatch(gone.stderr, /\borigin\b/, gone.stderr);
  assert.match(gone.stderr, /the global store/);
});
