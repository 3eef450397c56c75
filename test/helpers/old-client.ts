import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, ROOT, type Machine } from './machine.js';

/** The last commit of this repository whose git-lore writes on-ref format 1. */
export const FORMAT1_COMMIT = '303e67e4848d622572d3ba416a43717a4edd45f5';

/** What an old build needs from its commit: the sources, the launchers, the hook shims, the build setup. */
const BUILD_PATHS = ['src', 'bin', 'hooks', 'package.json', 'tsconfig.json'];

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Why `commit` cannot be built here (to pass as a test's `skip`), or false when it can: the tests
 * run from a checkout whose history must hold the commit (a shallow clone may not).
 */
export function oldClientSkip(commit = FORMAT1_COMMIT): string | false {
  try {
    git(['cat-file', '-e', `${commit}^{commit}`]);
    return false;
  } catch {
    let shallow = '';
    try {
      shallow = git(['rev-parse', '--is-shallow-repository']).trim() === 'true' ? ' (a shallow clone: fetch with --unshallow)' : '';
    } catch {
      return `${ROOT} is not a git repository, so the format-1 git-lore (${commit.slice(0, 7)}) cannot be built`;
    }
    return `commit ${commit.slice(0, 7)} (the format-1 git-lore) is not in ${ROOT}${shallow}`;
  }
}

/** The node_modules of the running checkout, shared by old builds (their dependencies are the same). */
function currentNodeModules(): string {
  return fs.realpathSync(path.join(ROOT, 'node_modules'));
}

/** Points `dir`/node_modules at the current checkout's, atomically (a cached build may outlive the checkout that made it). */
function linkNodeModules(dir: string): void {
  const link = path.join(dir, 'node_modules');
  const target = currentNodeModules();
  let now: string | undefined;
  try {
    now = fs.readlinkSync(link);
  } catch {
    now = undefined;
  }
  if (now === target) return;
  const tmp = `${link}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.symlinkSync(target, tmp, 'dir');
  fs.renameSync(tmp, link);
}

function finished(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'dist', 'bundle', 'main.cjs')) && fs.existsSync(path.join(dir, 'dist', 'bundle', 'remote-helper.cjs')) && fs.existsSync(path.join(dir, 'bin', 'git-lore'));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds the git-lore of `commit` into `staging`: its tracked build inputs (git archive), this
 * checkout's node_modules, then that commit's own `npm run build` (tsc + esbuild bundle + code cache).
 */
function buildInto(staging: string, commit: string): void {
  fs.mkdirSync(staging, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', commit, '--', ...BUILD_PATHS], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('tar', ['-x', '-C', staging], { input: tar, stdio: ['pipe', 'ignore', 'pipe'] });
  linkNodeModules(staging);
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: staging, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building git-lore ${commit.slice(0, 7)} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** How long the last oldClient() call spent building (0 when it reused a finished build). */
export let lastBuildMs = 0;

const inProcess = new Map<string, Promise<{ bin: string }>>();

/**
 * The git-lore of `commit`, built once per machine and cached in os.tmpdir()/git-lore-build-<commit>.
 * Returns its bin/ folder (bin/git-lore and bin/git-remote-lore): run it with that folder first on
 * PATH (see onClient), since git finds `git lore` and the remote helper there.
 *
 * Concurrency: a build happens in a private staging folder and is renamed into place when complete,
 * so a half-built folder is never used; a lock file (holding the builder's pid) makes a second
 * process wait for the first build instead of repeating it, and is taken over when its holder died.
 * Call oldClientSkip() first: a commit missing from this checkout throws here.
 */
export function oldClient(commit = FORMAT1_COMMIT): Promise<{ bin: string }> {
  let p = inProcess.get(commit);
  if (!p) {
    p = build(commit);
    inProcess.set(commit, p);
    p.catch(() => inProcess.delete(commit));
  }
  return p;
}

async function build(commit: string): Promise<{ bin: string }> {
  const full = git(['rev-parse', '--verify', `${commit}^{commit}`]).trim();
  const dir = path.join(os.tmpdir(), `git-lore-build-${full}`);
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 5 * 60_000;
  lastBuildMs = 0;
  for (;;) {
    if (finished(dir)) {
      linkNodeModules(dir);
      return { bin: path.join(dir, 'bin') };
    }
    let fd: number | undefined;
    try {
      fd = fs.openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (fd === undefined) {
      // Someone else builds: wait for them, or take over when they are gone.
      let text: string;
      let mtimeMs: number;
      try {
        text = fs.readFileSync(lock, 'utf8');
        mtimeMs = fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      const holder = Number.parseInt(text, 10);
      // A dead holder, or a lock left empty (its pid never written) for long, is stale.
      if (Number.isFinite(holder) ? !pidAlive(holder) : Date.now() - mtimeMs > 10_000) fs.rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another process building ${dir} (lock ${lock})`);
      await sleep(200);
      continue;
    }
    try {
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      if (finished(dir)) continue; // built while we took the lock
      const started = Date.now();
      const staging = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        buildInto(staging, full);
        // Never replace a finished build (another process may be running it); clear anything else.
        if (!finished(dir)) {
          fs.rmSync(dir, { recursive: true, force: true });
          fs.renameSync(staging, dir);
        }
      } finally {
        fs.rmSync(staging, { recursive: true, force: true });
      }
      lastBuildMs = Date.now() - started;
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

/**
 * `m` as seen through the git-lore in `bin`: the same HOME, LORE_HOME, agent folders and git
 * config (the same machine), with `bin` instead of this checkout's bin/ first on PATH. Use it to
 * run an old client on a machine (`onClient(m, old.bin).lore([...])`), or the current one again
 * with onClient(m, BIN). Every Machine method works on the view.
 */
export function onClient(m: Machine, bin: string): Machine {
  const rest = (m.vars.PATH ?? '').split(path.delimiter).filter((d) => d !== BIN && d !== bin);
  const vars = { ...m.vars, PATH: [bin, ...rest].join(path.delimiter) };
  const view = Object.create(m) as Machine;
  Object.defineProperty(view, 'vars', { value: vars, enumerable: true });
  return view;
}
