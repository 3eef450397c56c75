import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoreError, toLoreError } from '../errors.js';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { openRepo, runSync, LORE_REF } from './sync/index.js';
import { Keyring } from '../store/keyring.js';
import { parseDescriptor } from '../format/descriptor.js';
import type { Git } from '../git/git.js';
import { runWithLimit } from '../process/spawn.js';
import { childEnv } from '../process/child-env.js';
import { getSetting } from './config.js';
import { hooksDisabled, shellRules, skipRequested } from './hook-rules.js';

/** The hooks git-lore installs. */
export const HOOK_NAMES = ['pre-push', 'post-merge', 'post-rewrite'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
/** The line that marks a file as our shim (any version: `# git-lore hook shim v<n>.`). */
export const SHIM_MARKER = '# git-lore hook shim v2.';
const ANY_SHIM_MARKER = /^# git-lore hook shim v\d+\./;
/** A foreign hook we chain is kept beside ours under this suffix. */
export const CHAINED_SUFFIX = '.lore-chained';
/** Where the generated rules go in the shim template. */
const RULES_PLACEHOLDER = '@LORE_RULES@';

/** The root of this git-lore installation (the folder with package.json and hooks/shim.sh). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'hooks', 'shim.sh')) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new LoreError('cannot find the hook shim (hooks/shim.sh) of this git-lore installation', { hint: 'Re-run ./install.sh in the git-lore checkout.' });
}

/** The shim template shipped with this installation (hooks/shim.sh). */
export function shimTemplate(): string {
  return fs.readFileSync(path.join(packageRoot(), 'hooks', 'shim.sh'), 'utf8');
}

/**
 * The text installed as every hook: one shim (it acts on the name it runs under) with the rules of
 * src/core/hook-rules.ts pasted in, so an installed hook is a self-contained file.
 */
export function shimText(): string {
  const template = shimTemplate();
  if (!template.includes(RULES_PLACEHOLDER)) throw new LoreError('the hook shim template (hooks/shim.sh) has no rules placeholder', { hint: 'Re-run ./install.sh in the git-lore checkout.' });
  return template.replace(RULES_PLACEHOLDER, shellRules());
}

export type HookState = 'absent' | 'installed' | 'chained' | 'foreign' | 'outdated';

export interface HooksStatus {
  dir: string;
  managedBy: string | null;
  enabled: boolean;
  hooks: Array<{ name: HookName; state: HookState }>;
}

function isShim(text: string): boolean {
  return text.split('\n', 3).some((l) => ANY_SHIM_MARKER.test(l));
}

async function hooksDir(ctx: LoreContext): Promise<{ dir: string; managedBy: string | null }> {
  const { git, info } = await openRepo(ctx);
  const dir = await git.gitPath('hooks');
  // A hooks folder inside the work tree that git tracks (husky's .husky/_, a committed hooks folder)
  // belongs to another tool: writing there would be clobbered, or committed by accident.
  let managedBy: string | null = null;
  if (dir.split(path.sep).includes('.husky')) managedBy = 'husky';
  else if (dir.startsWith(info.root + path.sep) && !dir.startsWith(info.gitDir) && !dir.startsWith(info.commonDir)) {
    const tracked = await git.lsFiles([path.relative(info.root, dir)]);
    if (tracked.length) managedBy = `a tracked folder (${path.relative(info.root, dir)})`;
  }
  return { dir, managedBy };
}

/** `git lore hooks status`. */
export async function hooksStatus(ctx: LoreContext): Promise<HooksStatus> {
  const { dir, managedBy } = await hooksDir(ctx);
  const shim = shimText();
  const hooks = HOOK_NAMES.map((name) => {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return { name, state: 'absent' as HookState };
    const text = fs.readFileSync(file, 'utf8');
    if (!isShim(text)) return { name, state: 'foreign' as HookState };
    if (text !== shim) return { name, state: 'outdated' as HookState };
    return { name, state: (fs.existsSync(file + CHAINED_SUFFIX) ? 'chained' : 'installed') as HookState };
  });
  const enabled = !(await hooksDisabled(ctx.env.vars, ctx.git()));
  return { dir, managedBy, enabled, hooks };
}

export interface InstallResult {
  dir: string;
  installed: HookName[];
  chained: HookName[];
  unchanged: HookName[];
}

/**
 * `git lore hooks install`: writes the shims into the effective hooks folder. A foreign hook is
 * kept and chained (moved to <name>.lore-chained; it runs first, with the same arguments and
 * stdin, and its exit status stays the hook's). Installing twice changes nothing. A folder managed
 * by another tool is left alone unless `force`.
 */
export async function installHooks(ctx: LoreContext, opts: { force?: boolean } = {}): Promise<InstallResult> {
  const { dir, managedBy } = await hooksDir(ctx);
  if (managedBy && !opts.force) {
    throw new LoreError(`the hooks folder ${dir} is managed by ${managedBy}; nothing was written`, {
      hint: `Add this line to that tool's hooks (pre-push, post-merge, post-rewrite): git-lore hook <hook-name> "$@" || true\n      or run \`git lore hooks install --force\` to write into ${dir} anyway.`,
    });
  }
  fs.mkdirSync(dir, { recursive: true });
  const shim = shimText();
  const result: InstallResult = { dir, installed: [], chained: [], unchanged: [] };
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8');
      if (text === shim) {
        result.unchanged.push(name);
        continue;
      }
      if (!isShim(text)) {
        if (fs.existsSync(file + CHAINED_SUFFIX)) {
          throw new LoreError(`${file + CHAINED_SUFFIX} already exists next to a hook that is not git-lore's`, { hint: `Look at both files, keep one, and run \`git lore hooks install\` again.` });
        }
        fs.renameSync(file, file + CHAINED_SUFFIX);
        result.chained.push(name);
      }
    }
    const tmp = `${file}.lore-tmp`;
    fs.writeFileSync(tmp, shim, { mode: 0o755 });
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, file);
    result.installed.push(name);
  }
  return result;
}

/** `git lore hooks uninstall`: removes our shims and puts chained hooks back exactly as they were. */
export async function uninstallHooks(ctx: LoreContext): Promise<{ dir: string; removed: HookName[]; restored: HookName[]; left: HookName[] }> {
  const { dir } = await hooksDir(ctx);
  const out = { dir, removed: [] as HookName[], restored: [] as HookName[], left: [] as HookName[] };
  for (const name of HOOK_NAMES) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) continue;
    if (!isShim(fs.readFileSync(file, 'utf8'))) {
      out.left.push(name);
      continue;
    }
    fs.rmSync(file);
    out.removed.push(name);
    if (fs.existsSync(file + CHAINED_SUFFIX)) {
      fs.renameSync(file + CHAINED_SUFFIX, file);
      out.restored.push(name);
    }
  }
  return out;
}

/** The hook time limit in ms: `LORE_HOOK_TIMEOUT` / `hooks.timeout` seconds, default 60. */
export async function hookLimitMs(ctx: LoreContext): Promise<number> {
  const seconds = Number(await getSetting(ctx, 'hook_timeout'));
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000;
}

/**
 * `git-lore hook <name> <args>`: runs the hook's work in a worker (`git-lore hook-worker`, the
 * leader of its own process group) and kills that group with SIGKILL at the time limit, so the
 * hook ends within the limit whatever the remote does, and no git it started lives on. The store
 * stays consistent: a kill is a crash, which sync survives (objects first, ref last;
 * docs/RELIABILITY.md). Returns the one line to print on stderr, or null. Never throws.
 */
export async function runHookWithLimit(ctx: LoreContext, name: string, args: string[], stdin: string): Promise<string | null> {
  let limitMs = 60000;
  try {
    limitMs = await hookLimitMs(ctx);
  } catch (err) {
    log.hooks('cannot read the hook timeout: %O', err);
  }
  const [file, ...pre] = ctx.env.self ?? ['git-lore'];
  let said = '';
  const r = await runWithLimit(file!, [...pre, 'hook-worker', name, ...args], {
    cwd: ctx.env.cwd,
    env: childEnv(ctx.env.vars),
    input: stdin,
    limitMs,
    onStderr: (t) => (said += t),
  });
  log.hooks('%s worker: exit %s, timed out %s', name, r.exitCode, r.timedOut);
  if (r.timedOut) return `lore: the ${name} hook gave up after ${limitMs / 1000} s (LORE_HOOK_TIMEOUT) and stopped its sync; git goes on; run \`git lore sync\` later to sync sessions`;
  if (r.startError) return `lore: sessions not synced by the ${name} hook (cannot start git-lore: ${r.startError}); run \`git lore sync\` to retry`;
  return said.trim() ? said.trim() : null;
}

/**
 * The work of a hook (`git-lore hook-worker <name> <args>`), best-effort: returns null, or the one
 * line to print (a warning, or `lore: sent 3 sessions to origin` when a push sent some). Never throws, never prompts (the hook's Env has no prompt).
 */
export async function runHook(ctx: LoreContext, name: string, args: string[], stdin: string): Promise<string | null> {
  try {
    if (skipRequested(ctx.env.vars)) return null;
    const { git } = await openRepo(ctx);
    if (await hooksDisabled(ctx.env.vars, git)) return null;
    const tip = await git.resolve(LORE_REF);
    if (!tip) return null;
    if (name === 'pre-push') {
      const [remote, url] = args;
      if (!remote || !(await git.remotes()).includes(remote)) return null; // a push to a bare URL: no tracking ref to sync against
      if (url?.startsWith('lore::') || (await git.configGet(`remote.${remote}.vcs`)) === 'lore') return null;
      const refs = stdin.split('\n').filter(Boolean).map((l) => l.split(' ')[2] ?? '');
      if (refs.length && refs.every((r) => r.startsWith('refs/lore/'))) return null;
      if (!(await hasCachedKey(ctx, git, tip))) return null;
      const r = await runSync(ctx, { remote });
      // One line when sessions went out, like git's own summary; nothing when there was nothing to send.
      return r.pushed.length ? `lore: sent ${r.pushed.length} session${r.pushed.length === 1 ? '' : 's'} to ${remote}` : null;
    }
    if (name === 'post-merge' || (name === 'post-rewrite' && args[0] === 'rebase')) {
      if (!(await hasCachedKey(ctx, git, tip))) return null;
      const branch = await git.currentBranch();
      const upstream = branch ? await git.configGet(`branch.${branch}.remote`) : null;
      if (!upstream || upstream === '.') return null;
      const r = await runSync(ctx, { remote: upstream, push: false });
      return r.pulled.length ? `lore: received ${r.pulled.length} session${r.pulled.length === 1 ? '' : 's'} from ${upstream}` : null;
    }
    return null;
  } catch (err) {
    const e = toLoreError(err);
    log.hooks('%s failed: %O', name, err);
    return `lore: sessions not synced by the ${name} hook (${e.message.split('\n')[0]}); run \`git lore sync\` to retry`;
  }
}

/** Whether this machine holds the key of the store at `tip`; throws when the cached key file is unusable. */
async function hasCachedKey(ctx: LoreContext, git: Git, tip: string): Promise<boolean> {
  const desc = await git.readBlob(tip, 'lore.json');
  if (!desc) return false;
  let storeId: string;
  try {
    storeId = parseDescriptor(desc).storeId;
  } catch {
    return false; // not a store this version reads: the hook stays silent, `git lore sync` explains
  }
  const { key, problem } = new Keyring(ctx.paths.loreHome).get(storeId);
  if (problem) throw new LoreError(problem);
  return Boolean(key);
}
