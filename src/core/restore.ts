import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LoreError, UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { currentRepo, resolveSession, storedFileList } from './sessions.js';
import { repoScope } from './repo-id.js';
import type { SourceFileRow } from '../store/db.js';
import type { PieceFiles, StoredFile } from '../store/pieces.js';
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
  /** What the agent's source did besides the files (e.g. listed the task in Cline's index). */
  notes: string[];
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
  const files = storedFileList(ctx, row.id);
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
  const rewrite = rootRewriter(roots, realRoot);
  const plan: Array<{ dest: string; file: StoredFile; sink: { to: RestoreSink; data: Buffer } | null }> = [];
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
    // It takes its rows whole (a session's rows, not a transcript of tens of MB), read once here.
    const sink = source.restoreSink?.(dest, row.id, { localCwd, localRoot: realRoot }) ?? null;
    plan.push({ dest, file: f, sink: sink ? { to: sink, data: Buffer.concat([...rewritten(ctx.db.pieces, f, rewrite)]) } : null });
  }
  // Files are streamed piece by piece (never whole in memory): an existing native file is
  // compared by digest with what restore would write, before anything is written.
  const bytesOf = (f: StoredFile) => rewritten(ctx.db.pieces, f, rewrite);
  const unchanged = new Set<string>();
  const conflicts: string[] = [];
  for (const p of plan) {
    if (p.sink) {
      if (p.sink.to.differs(p.sink.data)) conflicts.push(p.dest);
      continue;
    }
    const have = fileDigest(p.dest);
    if (!have) continue;
    const want = rewrite ? digestOf(bytesOf(p.file)) : { size: p.file.size, sha256: p.file.sha256 };
    if (have.size === want.size && have.sha256 === want.sha256) unchanged.add(p.dest);
    else conflicts.push(p.dest);
  }
  if (conflicts.length && !opts.force) {
    throw new UsageError(`${conflicts.length} native file${conflicts.length === 1 ? '' : 's'} already exist${conflicts.length === 1 ? 's' : ''} with other content: ${conflicts.join(', ')}; nothing was written`, {
      hint: 'Run `git lore import` first if the agent wrote to them since, or pass --force to overwrite.',
    });
  }
  const result: RestoreResult = { id: row.id, tool: row.tool, localRoot: realRoot, written: [], unchanged: [], resume: resumeLine(source.resumeCommand(row.id, localCwd)), notes: [] };
  const stamps: SourceFileRow[] = [];
  for (const p of plan) {
    if (p.sink) {
      (p.sink.to.write(p.sink.data) ? result.written : result.unchanged).push(p.dest);
      continue;
    }
    if (unchanged.has(p.dest)) {
      result.unchanged.push(p.dest);
    } else {
      fs.mkdirSync(path.dirname(p.dest), { recursive: true });
      writeStreamed(p.dest, bytesOf(p.file));
      result.written.push(p.dest);
    }
    const st = fs.statSync(p.dest);
    stamps.push({ path: p.dest, tool: row.tool, session_id: row.id, size: st.size, mtime_ms: Math.floor(st.mtimeMs) });
  }
  // The restored files hold what the store holds: capture need not read them again until they change.
  ctx.db.putSourceFiles(stamps);
  result.notes = source.afterRestore?.(row.id, [...result.written, ...result.unchanged], { localCwd, title: row.title, updatedAt: row.updated_at ?? row.started_at }) ?? [];
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

type Rewrite = ((lines: Buffer) => Buffer) | null;

/**
 * The rewrite of recorded repository roots to the local one, applied to whole lines (null when
 * there is nothing to rewrite). A root appears inside a JSON string, which holds no raw newline,
 * so rewriting line by line gives the same bytes as rewriting the whole file.
 */
function rootRewriter(roots: readonly string[], realRoot: string): Rewrite {
  if (!roots.length) return null;
  const to = jsonText(realRoot);
  // Only whole paths: the root not followed by more of a file name (so /a/app never matches /a/app2).
  const patterns = roots.map((r) => new RegExp(`${jsonText(r).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9._-])`, 'g'));
  return (lines) => {
    let text = lines.toString('utf8');
    for (const re of patterns) text = text.replace(re, () => to);
    return Buffer.from(text, 'utf8');
  };
}

/** A stored file's bytes as restore writes them, block by block (whole lines, roots rewritten). */
function* rewritten(pieces: PieceFiles, file: StoredFile, rewrite: Rewrite): Generator<Buffer> {
  if (!rewrite) {
    yield* pieces.read(file);
    return;
  }
  for (const block of pieces.lines(file)) yield rewrite(block);
}

function digestOf(blocks: Iterable<Buffer>): { size: number; sha256: string } {
  const h = crypto.createHash('sha256');
  let size = 0;
  for (const b of blocks) {
    h.update(b);
    size += b.length;
  }
  return { size, sha256: h.digest('hex') };
}

/** Size and SHA-256 of a file on disk, read in blocks; null when there is none. */
function fileDigest(file: string): { size: number; sha256: string } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    return digestOf((function* () {
      for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) yield buf.subarray(0, n);
    })());
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes blocks to a temporary file beside `dest` (0600), then renames it over `dest`. */
function writeStreamed(dest: string, blocks: Iterable<Buffer>): void {
  const tmp = `${dest}.lore-restore-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    for (const b of blocks) fs.writeSync(fd, b);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, dest);
}
