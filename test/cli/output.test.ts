import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { PASS, bareRemote, cloneOn, ok, userLine } from '../helpers/repos.js';
import { freePort, httpBackend } from '../helpers/servers.js';
import { humanSink, jsonText, sanitize } from '../../src/cli/output.js';
import { redactCredentials } from '../../src/redact.js';
import { memorySink } from '../../src/env.js';
import { LoreError, GitError } from '../../src/errors.js';

/** Clear screen, an OSC 52 clipboard write, BEL, CR, a C1 CSI and an OSC 8 link. */
const HOSTILE = 'clear\x1b[2J clip\x1b]52;c;cHduZWQ=\x07 bell\x07 cr\rover c1\x9b31m link\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ end';
/** Any control character but newline and tab. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

test('sanitize removes sequences and control characters, keeps the words, newlines and tabs', () => {
  assert.equal(sanitize(HOSTILE), 'clear clip bell crover c1 linkhere end');
  assert.equal(sanitize('a\tb\nc\x00d\x7fe'), 'a\tb\ncde');
  const tty = memorySink(true);
  humanSink(tty).write(`\x1b[33mid\x1b[0m ${HOSTILE} \x1b[8mhidden\x1b[0m\r`);
  assert.equal(tty.text(), '\x1b[33mid\x1b[0m clear clip bell crover c1 linkhere end hidden\x1b[0m\r', 'a terminal keeps our colours and a progress CR only');
  const pipe = memorySink(false);
  humanSink(pipe).write('\x1b[33mid\x1b[0m\r\n');
  assert.equal(pipe.text(), 'id\n', 'no ESC byte at all when not a terminal');
  assert.equal(JSON.parse(jsonText({ t: 'x\x9by\x1b' })).t, 'x\x9by\x1b');
  assert.ok(!CONTROL.test(jsonText({ t: HOSTILE })), 'JSON escapes them instead');
});

test('credentials in addresses are redacted in errors, hints and text', () => {
  assert.equal(redactCredentials('see https://user:t0k3n@host/x.git and http://ghp_abc@github.com/a'), 'see https://user:***@host/x.git and http://***@github.com/a');
  assert.equal(redactCredentials('lore::https://a:p@ss@h/r'), 'lore::https://a:***@h/r');
  assert.equal(redactCredentials('ssh://git@host/r and git@host:r'), 'ssh://git@host/r and git@host:r');
  const e = new LoreError('fetch from https://u:t0k3n@h/r failed', { hint: 'Check the address https://u:t0k3n@h/r.' });
  assert.ok(!`${e.message} ${e.hint}`.includes('t0k3n'));
  assert.ok(!new GitError(['fetch', 'https://u:t0k3n@h/r'], 128, "fatal: unable to access 'https://u:t0k3n@h/r'").message.includes('t0k3n'));
});

test('sessions, show, blame and log print no control character from a session, a file or a commit', async () => {
  const m = new Machine('hostile');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const id = 'e5c00000-0000-4000-8000-000000000001';
  const proj = claudeProjectDir(m.claudeDir, repo);
  fs.mkdirSync(proj, { recursive: true });
  const when = new Date();
  const file = path.join(repo, 'app.js');
  const content = `const a = 1; // ${HOSTILE}\n`;
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), [
    JSON.stringify({ type: 'custom-title', sessionId: id, customTitle: `title ${HOSTILE}` }),
    userLine(id, repo, 'u1', `prompt ${HOSTILE}`, 0).replace(/"timestamp":"[^"]*"/, `"timestamp":"${new Date(when.getTime() - 60000).toISOString()}"`),
    JSON.stringify({ type: 'assistant', sessionId: id, cwd: repo, uuid: 'a1', timestamp: new Date(when.getTime() - 30000).toISOString(), message: { id: 'm-a1', role: 'assistant', content: [{ type: 'text', text: `reply ${HOSTILE}` }, { type: 'tool_use', id: 't-a1', name: 'Write', input: { file_path: file, content } }] } }),
  ].join('\n') + '\n');
  fs.writeFileSync(file, content);
  m.git(repo, 'add', '.');
  execFileSync('git', ['commit', '-qm', `subject ${HOSTILE}`], { cwd: repo, env: m.vars });

  const outputs: Array<[string, string[]]> = [
    ['sessions', ['sessions']],
    ['show', ['show', id.slice(0, 8)]],
    ['blame', ['blame', 'app.js']],
    ['blame line', ['blame', 'app.js:1']],
    ['log', ['log', 'HEAD']],
  ];
  for (const [what, args] of outputs) {
    // A terminal would get our colours, never theirs; through a pipe not even ours.
    const r = await ok(m.lore(args, { cwd: repo, env: { NO_COLOR: undefined } }));
    const all = r.stdout + r.stderr;
    assert.ok(!CONTROL.test(all), `${what} printed a control character: ${JSON.stringify(all.match(new RegExp(CONTROL.source, 'g')))}`);
    assert.match(all, /bell/, `${what} still shows the words`);
  }
  const show = await ok(m.lore(['show', id.slice(0, 8)], { cwd: repo }));
  assert.match(show.stdout, /prompt clear clip bell crover c1 linkhere end/);
  const json = JSON.parse((await ok(m.lore(['show', '--json', id.slice(0, 8)], { cwd: repo }))).stdout);
  assert.ok(JSON.stringify(json).includes('\\u001b[2J'), 'JSON keeps the data, escaped');
});

const TOKEN = 's3cr3tT0ken';

test('a token in a remote address shows nowhere: failed sync, failed helper, DEBUG=lore:* of a working one', async () => {
  const m = new Machine('cred');
  const bare = bareRemote(m);
  const repo = cloneOn(m, bare);
  await ok(m.lore(['sync', 'setup'], { cwd: repo, env: PASS }));
  const closed = await freePort();
  const dead = `http://user:${TOKEN}@127.0.0.1:${closed}/team.git`;
  const leaks = (what: string, text: string) => assert.ok(!text.includes(TOKEN), `${what} shows the token:\n${text}`);

  m.git(repo, 'remote', 'set-url', 'origin', dead);
  const sync = await m.lore(['sync'], { cwd: repo, env: { DEBUG: 'lore:*' } });
  assert.notEqual(sync.code, 0);
  leaks('a failed sync', sync.stdout + sync.stderr);
  m.git(repo, 'remote', 'set-url', 'origin', `lore::${dead}`);
  const fetch = await m.run('git', ['fetch', 'origin'], { cwd: repo, env: { DEBUG: 'lore:*' } });
  assert.notEqual(fetch.code, 0);
  leaks('a failed helper fetch', fetch.stdout + fetch.stderr);
  const clone = await m.run('git', ['clone', `lore::${dead}`, 'x'], { cwd: m.home, env: { DEBUG: 'lore:*' } });
  assert.notEqual(clone.code, 0);
  assert.match(clone.stderr, /hint: Check the address http:\/\/user:\*\*\*@127\.0\.0\.1/);
  leaks('a failed helper clone', clone.stdout + clone.stderr);

  // Over smart HTTP that answers, with every debug namespace on: argv and addresses are logged, redacted.
  const server = await httpBackend('/', { ...m.vars });
  try {
    const url = server.url(bare.slice(1)).replace('http://', `http://user:${TOKEN}@`);
    const cl = await m.run('git', ['clone', `lore::${url}`, 'y'], { cwd: m.home, env: { DEBUG: 'lore:*' } });
    assert.equal(cl.code, 0, cl.stderr);
    assert.match(cl.stderr, /lore:remote start remote=origin address=http:\/\/user:\*\*\*@127/);
    leaks('a working clone with DEBUG=lore:*', cl.stdout + cl.stderr);
    const y = path.join(m.home, 'y');
    const st = await m.lore(['sync'], { cwd: y, env: { DEBUG: 'lore:*', ...PASS } });
    leaks('a sync through lore:: with DEBUG=lore:*', st.stdout + st.stderr);
    assert.match(st.stderr, /lore:git/);
  } finally {
    await server.stop();
  }
});

test('times: local with offset, and relative as git says it', async () => {
  const { localTime, relativeTime } = await import('../../src/cli/output.js');
  assert.match(localTime('2026-01-01T00:00:01Z'), /^\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}$/);
  assert.match(localTime('2026-01-01T00:00:01Z', { seconds: true }), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
  assert.equal(localTime(null), '');
  const now = new Date('2026-06-01T12:00:00Z');
  const ago = (s: number) => relativeTime(new Date(now.getTime() - s * 1000), now);
  assert.equal(ago(5), '5 seconds ago');
  assert.equal(ago(60), '60 seconds ago');
  assert.equal(ago(120), '2 minutes ago');
  assert.equal(ago(7200), '2 hours ago');
  assert.equal(ago(3 * 86400), '3 days ago');
  assert.equal(ago(21 * 86400), '3 weeks ago');
  assert.equal(ago(120 * 86400), '4 months ago');
  assert.equal(ago(400 * 86400), '1 year, 1 month ago');
  assert.equal(ago(-10), 'in the future');
});
