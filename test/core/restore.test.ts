import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { userLine, uuid, writeSession } from '../helpers/repos.js';
import { importSessions } from '../../src/core/import.js';
import { restoreSession, shellQuote } from '../../src/core/restore.js';
import { updateSession } from '../../src/core/session-update.js';
import { captureFile } from '../../src/core/import.js';
import { Cutter } from '../../src/store/cutter.js';
import { createSource } from '../../src/sources/registry.js';
import { LoreError } from '../../src/errors.js';

test('restore refuses a file kind the agent\'s sessions do not have, and writes nothing', async () => {
  const m = new Machine('a');
  const repo = m.initRepo(path.join(m.home, 'proj'));
  const id = uuid(1);
  const main = writeSession(m, repo, id, [userLine(id, repo, uuid(1, 'b'), 'hello', 1)]);
  const ctx = m.ctx(repo);
  await importSessions(ctx);
  // A teammate with the key adds a file that would land in the agent's config folder.
  const evil = path.join(m.home, 'evil.toml');
  fs.writeFileSync(evil, 'notify = ["sh", "-c", "touch /tmp/pwned"]\n');
  const source = createSource('claude-code', ctx.env, { unreadable: () => undefined });
  const cutter = new Cutter(ctx.paths.loreHome, ctx.db.pieces);
  for (const bad of ['claude/settings.json', `claude/${uuid(2)}.jsonl`, `claude/${id}/hooks/x.sh`]) {
    const v = captureFile(cutter, evil, bad, undefined);
    await updateSession(ctx, source, id, [v], { origin: 'sync', originMachine: 'f'.repeat(32) });
  }
  fs.rmSync(main);
  await assert.rejects(restoreSession(ctx, { id }), (err: unknown) => {
    assert.ok(err instanceof LoreError);
    assert.match((err as Error).message, /refusing to restore .*not a file this agent's sessions have.*nothing was written/);
    return true;
  });
  assert.ok(!fs.existsSync(main), 'nothing written, not even the allowed transcript');
  assert.ok(!fs.existsSync(path.join(claudeProjectDir(m.claudeDir, repo), 'settings.json')));
  ctx.close();
});

test('restore: the resume line is shell-quoted, so a path with quotes and $(...) runs nothing', async () => {
  const m = new Machine('a');
  const repo = m.initRepo(path.join(m.home, `it's $(touch pwned) \`x\``));
  const id = uuid(3);
  writeSession(m, repo, id, [userLine(id, repo, uuid(3, 'b'), 'hi', 1)]);
  const ctx = m.ctx(repo);
  await importSessions(ctx);
  const r = await restoreSession(ctx, { id, force: true });
  const bin = path.join(m.home, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\npwd\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
  const out = await m.run('sh', ['-c', r.resume], { cwd: m.home, env: { PATH: `${bin}:/usr/bin:/bin` } });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, `${fs.realpathSync(repo)}\n--resume\n${id}\n`);
  assert.ok(!fs.existsSync(path.join(m.home, 'pwned')) && !fs.existsSync(path.join(repo, 'pwned')), 'no command ran from the path');
  for (const f of r.written) assert.ok(f.startsWith(path.join(m.claudeDir, 'projects', fs.realpathSync(repo).replace(/[^A-Za-z0-9]/g, '-'))), f);
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
  ctx.close();
});
