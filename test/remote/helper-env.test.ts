import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';

/**
 * What the remote helper's inner git gets, seen by a real git through `lore::ssh://…` with an ssh
 * that prints the locale and the prompt setting it was given, then fails: the code transfer
 * stands in for the user's own command, so the user's GIT_TERMINAL_PROMPT passes through
 * unchanged (git may ask on the terminal as it would without lore), and the locale is C.
 */
function spyMachine(extra: Record<string, string>): Machine {
  const m = new Machine('helper-env', { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8', ...extra });
  const spy = path.join(m.home, 'fake-ssh');
  fs.writeFileSync(spy, '#!/bin/sh\necho "seen: LC_ALL=$LC_ALL PROMPT=${GIT_TERMINAL_PROMPT-unset}" >&2\nexit 1\n', { mode: 0o755 });
  m.vars.GIT_SSH_COMMAND = spy;
  return m;
}

test('remote helper: the inner transfer keeps the user\'s prompt setting and runs with LC_ALL=C', async () => {
  for (const [extra, want] of [[{}, 'PROMPT=unset'], [{ GIT_TERMINAL_PROMPT: '0' }, 'PROMPT=0'], [{ GIT_TERMINAL_PROMPT: '1' }, 'PROMPT=1']] as const) {
    const m = spyMachine(extra);
    const repo = m.initRepo(path.join(m.home, 'repo'));
    const r = await m.run('git', ['ls-remote', 'lore::ssh://example.invalid/repo.git'], { cwd: repo });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`seen: LC_ALL=C ${want}\\b`), `${JSON.stringify(extra)}: ${r.stderr}`);
  }
});
