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
  const RUNS = 9;
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
  const run = async (cmd: string, args: string[], env: Record<string, string> = {}) => (await timed(cmd, args, { cwd: repo, env: { ...member.vars, ...env } })).ms;
  // Interleaved: each round runs every measure once, so a change in the machine's load (shared by
  // other work) falls on all of them alike instead of on whichever block ran then.
  const xs = { startup: [] as number[], lsRemote: [] as number[], bySsh: [] as number[], byPass: [] as number[], already: [] as number[], baseStartup: [] as number[], baseSsh: [] as number[] };
  // LORE_BENCH_BASELINE: another built checkout (e.g. main) whose start-up and ssh join are measured
  // in the same rounds, for a before/after ratio under the same load.
  const base = process.env.LORE_BENCH_BASELINE ? path.resolve(process.env.LORE_BENCH_BASELINE, 'bin', 'git-lore') : null;
  for (let i = 0; i < RUNS; i++) {
    xs.startup.push(await run('git-lore', ['--help']));
    xs.lsRemote.push(await run('git', ['ls-remote', bare, 'refs/lore/sessions']));
    fresh();
    xs.bySsh.push(await run('git-lore', ['sync', 'setup', '--no-hooks']));
    fresh();
    xs.byPass.push(await run('git-lore', ['sync', 'setup', '--no-hooks'], { ...pass, HOME: owner.home }));
    // The same command once joined (the key the passphrase join just cached): setup's git work without key work.
    xs.already.push(await run('git-lore', ['sync', 'setup', '--no-hooks']));
    if (base) {
      xs.baseStartup.push(await run(base, ['--help']));
      fresh();
      xs.baseSsh.push(await run(base, ['sync', 'setup', '--no-hooks']));
    }
  }
  const [startup, lsRemote, bySsh, byPass, already] = [xs.startup, xs.lsRemote, xs.bySsh, xs.byPass, xs.already].map(median) as [number, number, number, number, number];
  const past = bySsh - startup;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return [
    '## Joining with an ssh key (issue 20)',
    '',
    `Command: \`npm run bench -- keys\`. A store with a passphrase slot and one ssh-ed25519 slot on a bare remote on disk; each join from an empty LORE_HOME; ${RUNS} interleaved rounds, medians.`,
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
    ...(base
      ? [
          `| baseline (${process.env.LORE_BENCH_BASELINE}): start-up | ${fmt(median(xs.baseStartup))} | |`,
          `| baseline: ssh join | ${fmt(median(xs.baseSsh))} (${x(median(xs.baseSsh), median(xs.baseStartup))} its start-up) | |`,
          `| baseline: ssh join beyond start-up | ${fmt(median(xs.baseSsh) - median(xs.baseStartup))} | |`,
          `| this build's ssh join / the baseline's | ${x(bySsh, median(xs.baseSsh))} | |`,
        ]
      : []),
    `| passphrase join beyond the already-joined setup | ${fmt(byPass - already)} | |`,
    '',
  ].join('\n');
}
