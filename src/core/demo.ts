import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoreError, UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { run } from '../process/spawn.js';
import { packageRoot } from './hooks.js';
import { SOURCES, sourceOf } from '../sources/registry.js';

/** One step of the demo: what a user would type, on which machine, and its real output. */
export interface DemoStep {
  machine: 'alice' | 'bob' | 'both';
  command: string;
  output: string;
}

export interface DemoResult {
  dir: string;
  kept: boolean;
  sessionId: string;
}

const PROGRAM = [
  '// stats.js: small statistics helpers',
  'function median(values) {',
  '  if (!Array.isArray(values) || values.length === 0) {',
  "    throw new TypeError('median needs a non-empty array of numbers');",
  '  }',
  '  const sorted = [...values].sort((a, b) => a - b);',
  '  const mid = Math.floor(sorted.length / 2);',
  '  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;',
  '}',
  '',
  'module.exports = { median };',
];
const BY_A_PERSON = '// Reviewed by Alice: keep this dependency-free.';

/**
 * `git lore demo`: two machines, one bare remote, one planted agent session (Claude Code unless
 * `agent` names another source that can plant one), all in a
 * temporary folder with its own HOME, LORE_HOME and agent folders; the user's own setup is never
 * read or written. Each step runs the real commands and reports them through `onStep`.
 */
export async function runDemo(ctx: LoreContext, opts: { keep: boolean; agent?: string; onStep: (s: DemoStep) => void }): Promise<DemoResult> {
  const agent = sourceOf(opts.agent ?? DEFAULT_DEMO_AGENT);
  if (!agent?.plantDemo) {
    throw new UsageError(`the demo cannot plant a session of ${JSON.stringify(opts.agent)}`, { hint: `Pick one of: ${demoAgents().join(', ')}` });
  }
  const plant = agent.plantDemo;
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'git-lore-demo-')));
  const bin = path.join(packageRoot(), 'bin');
  let sessionId = '';
  let ok = false;
  try {
    const remote = path.join(dir, 'remote.git');
    const passFile = path.join(dir, 'demo-passphrase');
    fs.writeFileSync(passFile, 'demo passphrase: not a secret\n', { mode: 0o600 });
    const machine = (name: 'alice' | 'bob') => {
      const home = path.join(dir, name);
      fs.mkdirSync(home, { recursive: true });
      const gitconfig = path.join(home, '.gitconfig');
      fs.writeFileSync(gitconfig, `[user]\n\tname = ${name[0]!.toUpperCase()}${name.slice(1)}\n\temail = ${name}@example.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n`);
      const env: Record<string, string> = {
        PATH: `${bin}:${ctx.env.vars.PATH ?? '/usr/bin:/bin'}`,
        HOME: home,
        LORE_HOME: path.join(home, '.lore'),
        ...Object.fromEntries(SOURCES.map((d) => [d.folder.env, path.join(home, d.folder.underHome)])),
        GIT_CONFIG_GLOBAL: gitconfig,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_TERMINAL_PROMPT: '0',
        NO_COLOR: '1',
        LANG: ctx.env.vars.LANG ?? 'C.UTF-8',
      };
      return { name, home, env };
    };
    const alice = machine('alice');
    const bob = machine('bob');
    const sh = async (m: { name: 'alice' | 'bob'; env: Record<string, string> }, cwd: string, shown: string, file: string, args: string[], extra: Record<string, string> = {}) => {
      const r = await run(file, args, { cwd, env: { ...m.env, ...extra } });
      const output = (r.stdout.toString('utf8') + r.stderr).replace(/\s+$/, '');
      opts.onStep({ machine: m.name, command: shown, output });
      if (r.exitCode !== 0) throw new LoreError(`demo step failed on ${m.name}'s machine: ${shown} (exit ${r.exitCode})`, { hint: `Run it again with --keep to look around in the demo folder; output above.` });
      return output;
    };

    // The team's remote, with a first commit.
    await sh(alice, dir, 'git init --bare remote.git', 'git', ['init', '-q', '--bare', remote]);
    const app = path.join(alice.home, 'app');
    await sh(alice, alice.home, `git clone ${remote} app`, 'git', ['clone', '-q', remote, app]);
    fs.writeFileSync(path.join(app, 'README.md'), '# app\n');
    await sh(alice, app, 'git add README.md && git commit -m "Start" && git push', 'sh', ['-c', 'git add README.md && git commit -q -m Start && git push -q origin main']);

    // Alice's agent writes stats.js (a session in the agent's own format, planted where it keeps them).
    const started = Date.now() - 10 * 60_000;
    const at = (s: number) => new Date(started + s * 1000).toISOString();
    const file = path.join(app, 'stats.js');
    const content = `${PROGRAM.join('\n')}\n`;
    const planted = plant(alice.env[agent.folder.env]!, app, file, content, at);
    sessionId = planted.sessionId;
    opts.onStep({ machine: 'alice', command: `# Alice asks ${agent.label} for a median() helper; it writes stats.js`, output: `(session ${sessionId} planted in ${path.relative(dir, planted.dir)})` });
    fs.writeFileSync(file, `${BY_A_PERSON}\n${content}`);
    await sh(alice, app, 'git add stats.js && git commit -m "Add median()"', 'sh', ['-c', 'git add stats.js && git commit -q -m "Add median()"']);

    // One-time setup on Alice's machine, then a plain push carries the session.
    await sh(alice, app, 'git lore sync setup', 'git', ['lore', 'sync', 'setup', '--no-hooks'], { LORE_PASSPHRASE_FILE: passFile });
    await sh(alice, app, 'git lore hooks install', 'git', ['lore', 'hooks', 'install']);
    await sh(alice, app, 'git push', 'git', ['push', 'origin', 'main']);

    // Bob clones through lore:: and sees the reasoning with the code.
    const bobApp = path.join(bob.home, 'app');
    await sh(bob, bob.home, `git clone lore::${remote} app`, 'git', ['clone', `lore::${remote}`, bobApp], { LORE_PASSPHRASE_FILE: passFile });
    await sh(bob, bobApp, 'git lore sessions', 'git', ['lore', 'sessions']);
    const blame = await sh(bob, bobApp, 'git lore blame stats.js', 'git', ['lore', 'blame', 'stats.js']);
    if (!blame.includes(sessionId.slice(0, 8))) throw new LoreError('demo: blame on Bob\'s machine did not attribute the lines to the session', { hint: 'Run `git lore demo --keep` and look at the folder it prints.' });
    await sh(bob, bobApp, 'git lore blame stats.js:9', 'git', ['lore', 'blame', 'stats.js:9']);
    ok = true;
    return { dir, kept: opts.keep, sessionId };
  } finally {
    if (!opts.keep && (ok || !ctx.env.vars.LORE_DEMO_KEEP_ON_FAILURE)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The agent whose session the demo plants by default. */
export const DEFAULT_DEMO_AGENT = SOURCES[0]!.tool;

/** The tools the demo can plant a session of. */
export function demoAgents(): string[] {
  return SOURCES.filter((d) => d.plantDemo).map((d) => d.tool);
}
