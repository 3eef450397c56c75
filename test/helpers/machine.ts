import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { makeEnv, memorySink, type Env } from '../../src/env.js';
import { LoreContext } from '../../src/core/context.js';

/** The project root (tests run from dist/test/...). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(ROOT, 'bin');
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures');
export const HAVE_FIXTURES = fs.existsSync(path.join(FIXTURES, 'SOURCES.md'));
/** Passed as `skip` to tests that need ../shared/fixtures, so a fresh clone says why they did not run. */
export const SKIP_NO_FIXTURES = HAVE_FIXTURES ? false : `../shared/fixtures is absent (${FIXTURES})`;

const cleanups: Array<() => void> = [];
process.on('exit', () => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      /* best effort */
    }
  }
});

/** A temporary folder removed when the test process exits. */
export function tmpdir(prefix = 'lore-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  // LORE_TEST_KEEP=1 leaves the folders behind for a post-mortem (benchmarks' stores, failed tests).
  if (process.env.LORE_TEST_KEEP === '1') process.stderr.write(`kept: ${dir}\n`);
  else cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A separate machine: its own HOME, LORE_HOME, agent folders and global git config, with bin/ on
 * PATH. Nothing of the real user's setup is read.
 */
export class Machine {
  readonly home: string;
  readonly vars: Record<string, string>;
  constructor(readonly name: string, extra: Record<string, string> = {}) {
    this.home = tmpdir(`lore-${name}-`);
    const gitconfig = path.join(this.home, '.gitconfig');
    fs.writeFileSync(gitconfig, `[user]\n\tname = ${name}\n\temail = ${name}@example.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n[protocol "file"]\n\tallow = always\n`);
    this.vars = {
      PATH: `${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: this.home,
      LORE_HOME: path.join(this.home, '.lore'),
      CLAUDE_CONFIG_DIR: path.join(this.home, '.claude'),
      CODEX_HOME: path.join(this.home, '.codex'),
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_CONFIG_NOSYSTEM: '1',
      LANG: 'C',
      NO_COLOR: '1',
      ...extra,
    };
  }

  get claudeDir(): string {
    return this.vars.CLAUDE_CONFIG_DIR!;
  }
  get codexHome(): string {
    return this.vars.CODEX_HOME!;
  }

  /** An Env for calling core functions directly. */
  env(cwd: string, extra: Record<string, string> = {}): Env & { out: () => string; err: () => string } {
    const stdout = memorySink();
    const stderr = memorySink();
    const env = makeEnv({ cwd, vars: { ...this.vars, ...extra }, stdout, stderr });
    return Object.assign(env, { out: () => stdout.text(), err: () => stderr.text() });
  }

  ctx(cwd: string, extra: Record<string, string> = {}): LoreContext {
    return new LoreContext(this.env(cwd, extra));
  }

  /** Runs a command the way a user does; never throws on a non-zero exit. */
  run(cmd: string, args: string[], opts: { cwd: string; input?: string; env?: Record<string, string | undefined> }): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...this.vars, ...(opts.env ?? {}) })) if (v !== undefined) env[k] = v;
      const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      // A command that exits without reading its input (a hook that has nothing to do) closes the
      // pipe: EPIPE on our side is expected, not a failure of the command.
      child.stdin.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') reject(err);
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Runs `git lore …` through git, as a user types it. */
  lore(args: string[], opts: { cwd: string; input?: string; env?: Record<string, string | undefined> }) {
    return this.run('git', ['lore', ...args], opts);
  }

  /** Runs git synchronously and returns stdout; throws on failure. */
  git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, { cwd, env: this.vars, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A new repository with one commit. */
  initRepo(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    this.git(dir, 'init', '-q');
    fs.writeFileSync(path.join(dir, 'README'), 'hello\n');
    this.git(dir, 'add', '.');
    // Its own first commit: repositories made alike in the same second would otherwise share their
    // root commit, and git-lore would rightly take them for one repository (docs/repository-identity.md).
    this.git(dir, 'commit', '-qm', 'init', '-m', `repository ${randomBytes(8).toString('hex')}`);
    return dir;
  }
}

/** Claude Code's folder name for a cwd: every character outside [A-Za-z0-9] becomes '-'. */
export function claudeProjectDir(claudeDir: string, cwd: string): string {
  return path.join(claudeDir, 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'));
}

/** Copies a text file, replacing `from` with `to` everywhere (how a test moves a session's cwd). */
export function copyRewritten(src: string, dst: string, replacements: Array<[string, string]>): void {
  let text = fs.readFileSync(src, 'utf8');
  for (const [from, to] of replacements) text = text.split(from).join(to);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.writeFileSync(dst, text);
}

export const FIXTURE_CWDS: Record<string, string> = {
  '0ccf1a04-1b4c-43b6-8aa5-79e41db43a68': '/Users/pete/tmp/claude-code-sessions',
  '4b2030ed-5563-49ea-b703-6a002f2d3cc8': '/Users/pete/git/moredip/session-share',
  '1656b075-7af5-4b06-a123-1330c620f60c': '/Users/pete/git/moredip/session-share/e2e-tests',
  '1af7fc5e-8455-4414-9ccd-011d40f70b2a': '/path/to/Demo',
  '5c0375b4-57a5-4f26-b12d-d022ee4e51b7': '/path/to/Demo',
};
export const CODEX_FIXTURE = 'rollout-2025-11-22T21-45-35-019aad50-a7e6-7422-b7a8-0b384290624f.jsonl';
export const CODEX_CWD = '/Users/pinouchon/code/rtchess';

/**
 * Places every Claude Code and Codex fixture at its native location on `m`, as if the agents had
 * run in `repo` (cwd and absolute paths rewritten). Returns the ids placed.
 */
export function placeFixtures(m: Machine, repo: string): { claude: string[]; codex: string } {
  const srcDir = path.join(FIXTURES, 'claude-code');
  const claude: string[] = [];
  for (const [id, cwd] of Object.entries(FIXTURE_CWDS)) {
    const proj = claudeProjectDir(m.claudeDir, repo);
    const rep: Array<[string, string]> = [[cwd, repo]];
    copyRewritten(path.join(srcDir, `${id}.jsonl`), path.join(proj, `${id}.jsonl`), rep);
    const sub = path.join(srcDir, id, 'subagents');
    if (fs.existsSync(sub)) for (const f of fs.readdirSync(sub)) copyRewritten(path.join(sub, f), path.join(proj, id, 'subagents', f), rep);
    claude.push(id);
  }
  copyRewritten(path.join(FIXTURES, 'codex', CODEX_FIXTURE), path.join(m.codexHome, 'sessions', '2025', '11', '22', CODEX_FIXTURE), [[CODEX_CWD, repo]]);
  return { claude, codex: '019aad50-a7e6-7422-b7a8-0b384290624f' };
}
