import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../test/helpers/machine.js';
import { fmt, median, timed } from './util.js';

/**
 * Joining a store with an ssh key (issue 20): `git lore sync setup` on a machine whose
 * ~/.ssh/id_ed25519 a member added, against the same join with the passphrase (Argon2id) and
 * against process start-up (`git lore --help`) and a bare `git ls-remote` (the round trip every
 * join makes), all measured in this run. Each join starts from an empty LORE_HOME.
 */
export async function benchKeys(): Promise<string> {
  const RUNS = 7;
  const owner = new Machine('bench-keys-owner');
  const member = new Machine('bench-keys-member');
  const bare = path.join(owner.home, 'remote.git');
  owner.git(owner.home, 'init', '-q', '--bare', bare);
  const seed = owner.initRepo(path.join(owner.home, 'seed'));
  owner.git(seed, 'remote', 'add', 'origin', bare);
  owner.git(seed, 'push', '-q', 'origin', 'main');
  const pass = { LORE_PASSPHRASE: 'correct horse battery staple' };
  await timed('git', ['lore', 'sync', 'setup', '--no-hooks'], { cwd: seed, env: { ...owner.vars, ...pass } });
  const ssh = path.join(member.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(ssh, 'id_ed25519')]);
  await timed('git', ['lore', 'keys', 'add', 'member', '--ssh', path.join(ssh, 'id_ed25519.pub')], { cwd: seed, env: owner.vars });
  const repo = path.join(member.home, 'proj');
  member.git(member.home, 'clone', '-q', bare, repo);

  const fresh = () => fs.rmSync(member.vars.LORE_HOME!, { recursive: true, force: true });
  const measure = async (args: string[], env: Record<string, string>, cmd = 'git', keep = false) => {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if (!keep) fresh();
      xs.push((await timed(cmd, args, { cwd: repo, env: { ...member.vars, ...env } })).ms);
    }
    return median(xs);
  };
  const startup = await measure(['--help'], {}, 'git-lore');
  const lsRemote = await measure(['ls-remote', bare, 'refs/lore/sessions'], {});
  const bySsh = await measure(['sync', 'setup', '--no-hooks'], {}, 'git-lore');
  const byPass = await measure(['sync', 'setup', '--no-hooks'], { ...pass, HOME: owner.home }, 'git-lore');
  // The same command once joined (key cached): the git work of setup without any key work.
  await timed('git-lore', ['sync', 'setup', '--no-hooks'], { cwd: repo, env: member.vars });
  const already = await measure(['sync', 'setup', '--no-hooks'], {}, 'git-lore', true);
  const past = bySsh - startup;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return [
    '## Joining with an ssh key (issue 20)',
    '',
    `Command: \`npm run bench -- keys\`. A store with a passphrase slot and one ssh-ed25519 slot on a bare remote on disk; each join from an empty LORE_HOME, median of ${RUNS}.`,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| start-up baseline (\`git-lore --help\`) | ${fmt(startup)} (1.00x) | |`,
    `| the remote round trip alone (\`git ls-remote\`) | ${fmt(lsRemote)} | |`,
    `| \`git lore sync setup\` joining with ~/.ssh/id_ed25519 | ${fmt(bySsh)} (${x(bySsh, startup)} start-up) | |`,
    `| the same join with the passphrase (Argon2id, 64 MiB) | ${fmt(byPass)} (${x(byPass, startup)}) | |`,
    `| \`git lore sync setup\` once joined (key cached: no key work) | ${fmt(already)} (${x(already, startup)}) | |`,
    `| ssh join beyond start-up | **${fmt(past)}** | < 100 ms |`,
    `| ssh join beyond the already-joined setup (the key work alone) | ${fmt(bySsh - already)} | |`,
    `| passphrase join beyond the already-joined setup | ${fmt(byPass - already)} | |`,
    '',
  ].join('\n');
}
