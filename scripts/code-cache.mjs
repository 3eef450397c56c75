// Writes the V8 code caches beside the bundles (dist/bundle/<name>.cache), which the launcher
// (src/cli/launch.ts) hands to V8 when it compiles a bundle. Called by scripts/bundle.mjs.
//
// Why a workload and not one `--help`: V8 compiles a function when it first runs, and a code
// cache holds only the functions compiled before it was written. A cache written after `--help`
// held yargs and the command table but none of capture, seal, fast-import or push, so every sync
// compiled those from source: 25-60 ms of an incremental sync on this machine (bench/RESULTS.md,
// "Issue 14's last row met"). Each step below runs the real executable in a throwaway sandbox (its own HOME,
// LORE_HOME, agent folders and git config; nothing of the user's is read) with the cache of the
// step before, and writes the cache again on exit: the last one holds what all the steps ran.
// A step that fails fails the build: it is the product failing on a fresh machine.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The commands each cache was written after, in order (read by test/build/bundle.test.ts). */
export const MAIN_STEPS = ['--help', 'sync setup', 'sync', 'sync (one new session)', 'sync (a session grown)', 'sessions', 'log', 'blame', 'show', 'search'];

export async function writeCodeCaches(root, outdir) {
  const bin = path.join(root, 'bin');
  const { SOURCES } = await import(pathToFileURL(path.join(root, 'dist/src/sources/registry.js')).href);
  const claude = SOURCES.find((s) => s.tool === 'claude-code');
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'git-lore-code-cache-')));
  try {
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    const gitconfig = path.join(home, '.gitconfig');
    fs.writeFileSync(gitconfig, '[user]\n\tname = Build\n\temail = build@example.invalid\n[init]\n\tdefaultBranch = main\n');
    const passFile = path.join(dir, 'passphrase');
    fs.writeFileSync(passFile, 'code cache workload: not a secret\n', { mode: 0o600 });
    const env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      LORE_HOME: path.join(home, '.lore'),
      ...Object.fromEntries(SOURCES.map((s) => [s.folder.env, path.join(home, s.folder.underHome)])),
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      NO_COLOR: '1',
      LANG: 'C',
    };
    const git = (cwd, ...args) => execFileSync('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const remote = path.join(dir, 'remote.git');
    const app = path.join(home, 'app');
    git(dir, 'init', '-q', '--bare', remote);
    git(dir, 'init', '-q', app);
    git(app, 'remote', 'add', 'origin', remote);
    const file = path.join(app, 'stats.js');
    const content = 'export function median(xs) {\n  const s = [...xs].sort((a, b) => a - b);\n  return s[Math.floor(s.length / 2)];\n}\n';
    fs.writeFileSync(file, content);
    git(app, 'add', 'stats.js');
    git(app, 'commit', '-q', '-m', 'Add median()');
    git(app, 'push', '-q', 'origin', 'main');
    const at = (s) => new Date(Date.now() - 600_000 + s * 1000).toISOString();
    const plant = () => claude.plantDemo(env[claude.folder.env], app, file, content, at);
    const first = plant();

    const main = path.join(outdir, 'main.cache');
    const lore = (args, extra = {}) => {
      try {
        return execFileSync(process.execPath, [path.join(bin, 'git-lore'), ...args], { cwd: app, env: { ...env, ...extra, LORE_WRITE_CODE_CACHE: main }, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
      } catch (err) {
        throw new Error(`code cache workload: \`git lore ${args.join(' ')}\` failed: ${err.stderr?.toString() || err.message}`);
      }
    };
    const steps = {
      '--help': () => lore(['--help']),
      'sync setup': () => lore(['sync', 'setup', '--no-hooks'], { LORE_PASSPHRASE_FILE: passFile }),
      sync: () => lore(['sync', '-q']),
      'sync (one new session)': () => {
        plant();
        lore(['sync', '-q']);
      },
      'sync (a session grown)': () => {
        const transcript = path.join(first.dir, `${first.sessionId}.jsonl`);
        const last = fs.readFileSync(transcript, 'utf8').trimEnd().split('\n').pop();
        fs.appendFileSync(transcript, `${last}\n`);
        lore(['sync', '-q']);
      },
      sessions: () => lore(['sessions']),
      log: () => lore(['log']),
      blame: () => lore(['blame', 'stats.js']),
      show: () => lore(['show', first.sessionId]),
      search: () => lore(['search', 'median']),
    };
    for (const step of MAIN_STEPS) steps[step]();
    fs.writeFileSync(path.join(outdir, 'main.cache.json'), `${JSON.stringify({ steps: MAIN_STEPS }, null, 2)}\n`);

    // The remote helper: a clone through lore:: (it exits with an error on the git side only if
    // the helper failed, which fails the build too).
    const helper = path.join(outdir, 'remote-helper.cache');
    execFileSync('git', ['clone', '-q', `lore::${remote}`, path.join(home, 'clone')], { cwd: home, env: { ...env, LORE_PASSPHRASE_FILE: passFile, LORE_WRITE_CODE_CACHE: helper }, stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
