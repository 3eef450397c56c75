import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, ROOT } from '../helpers/machine.js';

test('git lore --help lists the commands; exit codes 0 / 2; errors carry a hint', async () => {
  const m = new Machine('cli');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const help = await m.run('git-lore', ['--help'], { cwd: repo });
  assert.equal(help.code, 0);
  for (const c of ['import', 'sessions', 'show']) assert.match(help.stdout, new RegExp(`git lore ${c}`));
  const short = await m.lore(['sessions', '-h'], { cwd: repo });
  assert.equal(short.code, 0);
  assert.match(short.stdout, /--all/);
  const bad = await m.lore(['no-such-command'], { cwd: repo });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /git-lore: /);
  const missing = await m.lore(['show', 'ffffffff'], { cwd: repo });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no session matches ffffffff\nhint: /);
  const outside = await m.lore(['sessions'], { cwd: m.home });
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /--all/);
  const empty = await m.lore(['sessions', '--all'], { cwd: m.home });
  assert.equal(empty.code, 0);
});

test('LORE_HOME is created 0700 with a random machine id; what it holds is owner-only', async () => {
  const m = new Machine('perm');
  // A lore.db left readable by others (an older git-lore, a copy) is tightened on open.
  fs.mkdirSync(m.vars.LORE_HOME!, { mode: 0o700 });
  fs.writeFileSync(path.join(m.vars.LORE_HOME!, 'lore.db'), '', { mode: 0o644 });
  fs.chmodSync(path.join(m.vars.LORE_HOME!, 'lore.db'), 0o644);
  const r = await m.lore(['sessions', '--all'], { cwd: m.home });
  assert.equal(r.code, 0, r.stderr);
  const st = fs.statSync(m.vars.LORE_HOME!);
  assert.equal(st.mode & 0o777, 0o700);
  const id = fs.readFileSync(path.join(m.vars.LORE_HOME!, 'machine-id'), 'utf8').trim();
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(fs.statSync(path.join(m.vars.LORE_HOME!, 'machine-id')).mode & 0o777, 0o600);
  for (const f of ['lore.db', 'lore.db-wal', 'capture-listing']) {
    if (fs.existsSync(path.join(m.vars.LORE_HOME!, f))) assert.equal(fs.statSync(path.join(m.vars.LORE_HOME!, f)).mode & 0o777, 0o600, f);
  }
  // The capture state names the agents' folders: owner-only too.
  const since = path.join(m.vars.LORE_HOME!, 'capture-since');
  assert.equal(fs.statSync(since).mode & 0o777, 0o700);
  const states = fs.readdirSync(since);
  assert.ok(states.length >= 1, 'a complete capture left its state');
  for (const f of states) assert.equal(fs.statSync(path.join(since, f)).mode & 0o777, 0o600, f);
  assert.ok(fs.existsSync(path.join(m.vars.LORE_HOME!, 'lore.db')));
});

test('install.sh links both executables and a man page, so `git lore --help` works through git', async () => {
  const m = new Machine('inst');
  const prefix = path.join(m.home, 'prefix');
  const env = { PREFIX: prefix, LORE_INSTALL_LINK_ONLY: '1', PATH: `${prefix}/bin:/usr/local/bin:/usr/bin:/bin` };
  const r = await m.run(path.join(ROOT, 'install.sh'), [], { cwd: m.home, env });
  assert.equal(r.code, 0, r.stderr);
  for (const exe of ['git-lore', 'git-remote-lore']) assert.equal(fs.realpathSync(path.join(prefix, 'bin', exe)), path.join(ROOT, 'bin', exe));
  const again = await m.run(path.join(ROOT, 'install.sh'), [], { cwd: m.home, env });
  assert.equal(again.code, 0, 'idempotent');
  const help = await m.lore(['--help'], { cwd: m.home, env: { ...env, PATH: `${prefix}/bin:${process.env.PATH}`, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' } });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /git lore sessions/);
  const notOnPath = await m.run(path.join(ROOT, 'install.sh'), [], { cwd: m.home, env: { ...env, PATH: '/usr/local/bin:/usr/bin:/bin' } });
  assert.match(notOnPath.stdout, new RegExp(`export PATH="${prefix}/bin:`));
});

test('argument errors name the argument at fault (exit 2)', async () => {
  const m = new Machine('args');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const cases: Array<[string[], RegExp]> = [
    [['blame', 'nope.txt'], /^git-lore: <file> nope\.txt: not in HEAD\n/],
    [['blame', 'README', '-L', '5,9'], /^git-lore: -L 5,9: the file has only 1 line\n/],
    [['blame', 'README', '-L', 'abc'], /^git-lore: -L abc: not a range git blame understands\n/],
    [['blame', 'README:99'], /^git-lore: <file>:<line> README:99: the file has only 1 line\n/],
    [['blame', 'README', 'nosuchrev'], /^git-lore: <rev> nosuchrev: no such revision\n/],
    [['show'], /^git-lore: show: missing <id>\nhint: Usage: git lore show <id>/],
    [['config', 'get'], /^git-lore: config get: a required argument is missing\nhint: See `git lore config get --help`/],
    [['sessions', '--bogus'], /^git-lore: unknown option --bogus\nhint: See `git lore sessions --help`/],
    [['sessions', 'extra'], /^git-lore: unexpected argument extra\n/],
    [['show', '--at', 'x', 'abcd'], /^git-lore: --at: not a message number\n/],
  ];
  for (const [args, want] of cases) {
    const r = await m.lore(args, { cwd: repo });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
});
