import fs from 'node:fs';
import path from 'node:path';
import { LoreError, UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { currentRepo, resolveSession, storedFiles } from './sessions.js';
import { repoScope } from './repo-id.js';
import type { SourceFileRow } from '../store/db.js';
import { createSource } from '../sources/registry.js';
import { RestoreRefused, type RestoreSink } from '../sources/types.js';

export interface RestoreOptions {
  id: string;
  /** The local folder the session's repository root maps to (default: its repository here). */
  to?: string;
  force?: boolean;
}

export interface RestoreResult {
  id: string;
  tool: string;
  localRoot: string;
  written: string[];
  unchanged: string[];
  resume: string;
}

/** JSON-escaped form of a path, as it appears inside JSONL. */
const jsonText = (s: string) => JSON.stringify(s).slice(1, -1);

/**
 * `git lore restore <id>`: writes a session back to its agent's native location so the agent can
 * resume it here; where each file goes is its source's `restoreTarget`, which refuses any file
 * kind the agent's sessions do not have (nothing is written then). The target folder comes only
 * from the clone restored into: the recorded cwd contributes its place inside the recorded
 * repository root, and only when that stays inside the clone. The recorded repository root is
 * rewritten to the local one inside the files (cwd, file paths). A native file that exists and
 * differs is not overwritten without `force`.
 */
export async function restoreSession(ctx: LoreContext, opts: RestoreOptions): Promise<RestoreResult> {
  const row = resolveSession(ctx, opts.id);
  // Default: the clone this command runs in, when it is the session's repository (any clone of
  // it, moved or not); else where the session was placed on this machine.
  const here = opts.to ? null : await currentRepo(ctx);
  const localRoot = opts.to ? path.resolve(ctx.env.cwd, opts.to) : here && row.repo_id === here.id ? here.root : row.repo_root;
  if (!localRoot) {
    throw new UsageError(`session ${row.id} belongs to no repository on this machine`, { hint: `Say where it should live: git lore restore ${row.id.slice(0, 8)} --to <folder of your clone>` });
  }
  if (!fs.existsSync(localRoot)) throw new UsageError(`${localRoot} does not exist`, { hint: 'Clone the repository there first, or give --to <folder>.' });
  const realRoot = fs.realpathSync(localRoot);
  const files = storedFiles(ctx, row.id);
  if (opts.to) {
    // The session now belongs to that clone's repository: listed there, blamed there.
    const git = ctx.git(realRoot);
    const info = await git.repoInfo();
    if (info) ctx.db.attachSession(row.id, await repoScope(ctx, git, info));
  }
  const roots = (row.agent_root ? row.agent_root.split('\n') : []).filter((r) => r && r !== realRoot).sort((a, b) => b.length - a.length);
  const cwd = row.cwd ?? realRoot;
  const agentRoot = roots.find((r) => cwd === r || cwd.startsWith(`${r}/`));
  const inside = agentRoot ? path.join(realRoot, path.relative(agentRoot, cwd)) : realRoot;
  // A recorded cwd such as `<root>/../../other` must not move the session out of this clone.
  const localCwd = inside === realRoot || inside.startsWith(`${realRoot}${path.sep}`) ? inside : realRoot;
  const source = createSource(row.tool, ctx.env, { unreadable: () => undefined });
  const rewrite = (data: Buffer): Buffer => {
    if (!roots.length) return data;
    let text = data.toString('utf8');
    for (const r of roots) {
      // Only whole paths: the root not followed by more of a file name (so /a/app never matches /a/app2).
      const from = jsonText(r);
      const to = jsonText(realRoot);
      text = text.replace(new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9._-])`, 'g'), to);
    }
    return Buffer.from(text, 'utf8');
  };
  const plan: Array<{ dest: string; data: Buffer; sink: RestoreSink | null }> = [];
  for (const f of files) {
    const parts = f.path.split('/');
    if (parts.some((p) => p === '..' || p === '' || p === '.')) throw new LoreError(`session ${row.id}: refusing the unsafe path ${f.path}`);
    let dest: string;
    try {
      dest = source.restoreTarget(f.path, row.id, localCwd);
    } catch (err) {
      if (!(err instanceof RestoreRefused)) throw err;
      throw new LoreError(`session ${row.id}: refusing to restore ${err.message}; nothing was written`, {
        hint: 'The session was recorded with a file its agent never writes: ask who shared it. `git lore show` still shows it.',
      });
    }
    // A database format's file (rows) goes into the agent's database through the source's sink.
    plan.push({ dest, data: rewrite(f.data), sink: source.restoreSink?.(dest, row.id, { localCwd, localRoot: realRoot }) ?? null });
  }
  const conflicts = plan.filter((p) => (p.sink ? p.sink.differs(p.data) : fs.existsSync(p.dest) && !fs.readFileSync(p.dest).equals(p.data)));
  if (conflicts.length && !opts.force) {
    throw new UsageError(`${conflicts.length} native file${conflicts.length === 1 ? '' : 's'} already exist${conflicts.length === 1 ? 's' : ''} with other content: ${conflicts.map((c) => c.dest).join(', ')}; nothing was written`, {
      hint: 'Run `git lore import` first if the agent wrote to them since, or pass --force to overwrite.',
    });
  }
  const result: RestoreResult = { id: row.id, tool: row.tool, localRoot: realRoot, written: [], unchanged: [], resume: resumeLine(source.resumeCommand(row.id, localCwd)) };
  const stamps: SourceFileRow[] = [];
  for (const p of plan) {
    if (p.sink) {
      (p.sink.write(p.data) ? result.written : result.unchanged).push(p.dest);
      continue;
    }
    if (fs.existsSync(p.dest) && fs.readFileSync(p.dest).equals(p.data)) {
      result.unchanged.push(p.dest);
    } else {
      fs.mkdirSync(path.dirname(p.dest), { recursive: true });
      const tmp = `${p.dest}.lore-restore-${process.pid}`;
      fs.writeFileSync(tmp, p.data, { mode: 0o600 });
      fs.renameSync(tmp, p.dest);
      result.written.push(p.dest);
    }
    const st = fs.statSync(p.dest);
    stamps.push({ path: p.dest, tool: row.tool, session_id: row.id, size: st.size, mtime_ms: Math.floor(st.mtimeMs) });
  }
  // The restored files hold what the store holds: capture need not read them again until they change.
  ctx.db.putSourceFiles(stamps);
  return result;
}

/** A word as POSIX sh reads it back unchanged: bare when plainly safe, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The "resume it with:" line: every word quoted for the shell, so a recorded path cannot inject commands. */
function resumeLine(cmd: { cwd?: string; argv: string[] } | null): string {
  if (!cmd) return '(this agent cannot resume a session)';
  const run = cmd.argv.map(shellQuote).join(' ');
  return cmd.cwd ? `cd ${shellQuote(cmd.cwd)} && ${run}` : run;
}
