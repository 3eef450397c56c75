import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gitChildEnv } from '../../src/git/runner.js';

test('gitChildEnv: LC_ALL=C whatever the user or an extra says; secrets and inherited git context scrubbed', () => {
  const env = gitChildEnv(
    { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8', LC_MESSAGES: 'de_DE.UTF-8', LANGUAGE: 'de', LORE_PASSPHRASE: 'secret', GIT_DIR: '/elsewhere', PATH: '/bin' },
    { LC_ALL: 'fr_FR.UTF-8', GIT_TERMINAL_PROMPT: '0' },
  );
  assert.equal(env.LC_ALL, 'C');
  assert.equal(env.GIT_TERMINAL_PROMPT, '0');
  assert.equal(env.PATH, '/bin');
  assert.equal(env.LORE_PASSPHRASE, undefined);
  assert.equal(env.GIT_DIR, undefined);
});
