import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfigZ } from '../../src/git/config.js';
import { oddRepo } from './odd-names.js';

test('config: values with newlines, tabs, quotes and leading dashes; remote names with dots; -z parsing', async () => {
  const { m, dir, git } = oddRepo('config');
  const odd = ['line one\nline two', 'ta\tb', 'qu"ote \\ back', '-starts-with-dash', ' spaced ', 'ünï', ''];
  await git.configSet('lore.single', odd[0]!);
  assert.equal(await git.configGet('lore.single'), odd[0]);
  for (const v of odd) await git.configAdd('lore.multi', v);
  assert.deepEqual(await git.configGetAll('lore.multi'), odd.filter((v) => v !== ''));
  assert.equal(await git.configGet('lore.absent'), null);
  m.git(dir, 'remote', 'add', 'my.dotted.remote', '/srv/a b/repo.git');
  m.git(dir, 'config', 'remote.my.dotted.remote.vcs', 'lore');
  const pairs = await git.configGetRegexp('^(lore\\.single|remote\\..*\\.(url|vcs))$');
  assert.deepEqual(pairs, [['lore.single', odd[0]], ['remote.my.dotted.remote.url', '/srv/a b/repo.git'], ['remote.my.dotted.remote.vcs', 'lore']]);
  assert.deepEqual(await git.configGetRegexp('^nothing\\.'), []);
  await git.configUnsetValue('lore.multi', '-starts-with-dash');
  assert.ok(!(await git.configGetAll('lore.multi')).includes('-starts-with-dash'));
  await git.configUnset('lore.multi');
  await git.configUnset('lore.multi');
  assert.deepEqual(await git.configGetAll('lore.multi'), []);

  const file = path.join(m.home, 'other.config');
  fs.writeFileSync(file, '[x]\n\tflag\n\tval = "a\\nb"\n');
  assert.deepEqual(await git.configList(file), [['x.flag', ''], ['x.val', 'a\nb']]);
  assert.deepEqual(parseConfigZ(Buffer.from('k.a\nv\n1\0k.flag\0')), [['k.a', 'v\n1'], ['k.flag', '']]);
});
