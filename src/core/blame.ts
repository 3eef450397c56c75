import fs from 'node:fs';
import path from 'node:path';
import { GitError, UsageError } from '../errors.js';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { gitReason, type BlameLine, type Git } from '../git/git.js';
import { normalizeLine, type SessionRow } from '../store/db.js';
import type { NormalizedMessage } from '../sources/types.js';
import { importSessions } from './import.js';
import { openRepo } from './sync/index.js';
import { repoScope } from './repo-id.js';
import type { RepoKey } from '../store/db.js';
import type { RepoInfo } from '../git/git.js';

/** The repository blame scopes sessions by (rows of before its identity are given it now). */
async function repoOf(ctx: LoreContext, git: Git, info: RepoInfo): Promise<RepoKey> {
  const repo = await repoScope(ctx, git, info);
  ctx.db.backfillRepoId(repo);
  return repo;
}
import { loadSession } from './sessions.js';
import { getSetting } from './config.js';

/** Default clock-skew tolerance: an edit up to 5 minutes after the commit's time may still claim its lines. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The session edit a line is attributed to. */
export interface LineSession {
  id: string;
  tool: string;
  /** ISO time of the edit. */
  time: string;
  /** The message (seq) that made the edit: `git lore show <id> --at <messageIndex>`. */
  messageIndex: number;
  title: string | null;
}

export interface BlamedLine {
  line: number;
  text: string;
  commit: string;
  author: string;
  /** Path of the file in the commit that introduced the line. */
  filename: string;
  committerTime: number;
  session: LineSession | null;
}

interface Candidate {
  editId: number;
  /** The message (seq) of the edit. */
  seq: number;
  sessionId: string;
  tool: string;
  title: string | null;
  branch: string | null;
  ms: number;
}

/**
 * Matches line texts against the lines session edits added, per repository-relative file. Loads
 * each file's edits once (one indexed query), then answers from memory.
 */
export class EditIndex {
  private readonly byFile = new Map<string, Map<string, Candidate[]>>();
  private readonly branchCache = new Map<string, Promise<Set<string>>>();

  constructor(private readonly ctx: LoreContext, private readonly git: Git, private readonly repo: RepoKey, private readonly toleranceMs: number) {}

  private load(file: string): Map<string, Candidate[]> {
    let idx = this.byFile.get(file);
    if (idx) return idx;
    idx = new Map();
    const rows = this.ctx.db.editsOfFileIn(file, this.repo);
    for (const row of rows) {
      const when = row.ts ?? row.started_at;
      const ms = when ? Date.parse(when) : NaN;
      if (!Number.isFinite(ms)) continue;
      const c: Candidate = { editId: row.id, seq: row.seq, sessionId: row.session_id, tool: row.tool, title: row.title, branch: row.branch, ms };
      const seen = new Set<string>();
      for (const line of JSON.parse(row.added_json) as string[]) {
        const norm = normalizeLine(line);
        if (!norm || seen.has(norm)) continue;
        seen.add(norm);
        const list = idx.get(norm);
        if (list) list.push(c);
        else idx.set(norm, [c]);
      }
    }
    this.byFile.set(file, idx);
    log.blame('indexed %d edits of %s', rows.length, file);
    return idx;
  }

  /** Loads a file's edits now (while git is still working), rather than at its first line. */
  prepare(file: string): void {
    this.load(file);
  }

  private branchesContaining(commit: string): Promise<Set<string>> {
    let p = this.branchCache.get(commit);
    if (!p) {
      p = this.git.branchesContaining(commit).then((names) => new Set(names));
      this.branchCache.set(commit, p);
    }
    return p;
  }

  /**
   * The edit that introduced a line: same text (whitespace-normalized) added to the same file, at
   * or before the commit's time plus the tolerance; the latest such edit, preferring sessions on a
   * branch that contains the commit. Null: written by a person. Answers without a promise unless
   * the eligible edits come from several branches (then git says which contain the commit).
   */
  attribute(files: string[], text: string, commit: string, commitSeconds: number, nowMs: number): Candidate | null | Promise<Candidate | null> {
    const norm = normalizeLine(text);
    if (!norm) return null;
    const uncommitted = /^0+$/.test(commit);
    const limit = uncommitted ? nowMs + this.toleranceMs : commitSeconds * 1000 + this.toleranceMs;
    const eligible: Candidate[] = [];
    for (let i = 0; i < files.length; i++) {
      if (files.indexOf(files[i]!) !== i) continue;
      for (const c of this.load(files[i]!).get(norm) ?? []) if (c.ms <= limit) eligible.push(c);
    }
    if (!eligible.length) return null;
    const latest = (pool: Candidate[]) => pool.reduce((best, c) => (c.ms > best.ms || (c.ms === best.ms && c.editId > best.editId) ? c : best));
    const branch = eligible[0]!.branch;
    if (uncommitted || eligible.every((c) => c.branch === branch)) return latest(eligible);
    return this.branchesContaining(commit).then((containing) => {
      const preferred = eligible.filter((c) => c.branch && containing.has(c.branch));
      return latest(preferred.length ? preferred : eligible);
    });
  }
}

function toLineSession(c: Candidate): LineSession {
  return { id: c.sessionId, tool: c.tool, time: new Date(c.ms).toISOString(), messageIndex: c.seq, title: c.title };
}

export async function toleranceMs(ctx: LoreContext, opt?: number): Promise<number> {
  const setting = await getSetting(ctx, 'blame_tolerance');
  const s = opt ?? (setting !== null ? Number(setting) : DEFAULT_TOLERANCE_SECONDS);
  if (!Number.isFinite(s) || s < 0) throw new UsageError(`invalid blame tolerance ${s}`, { hint: 'Give a number of seconds, e.g. LORE_BLAME_TOLERANCE=300.' });
  return s * 1000;
}

export interface BlameOptions {
  file: string;
  rev?: string;
  range?: string;
  /** -w, -M, -C as given */
  flags?: string[];
  toleranceSeconds?: number;
}

async function repoPath(ctx: LoreContext, root: string, file: string): Promise<string> {
  const abs = path.resolve(ctx.env.cwd, file);
  const rel = path.relative(root, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`${file} is outside the repository`, { hint: 'Give a path inside this repository.' });
  return rel.split(path.sep).join('/');
}

/** `git lore blame <file>`: git blame, with each line attributed to the session edit that wrote it. */
export async function blameFile(ctx: LoreContext, opts: BlameOptions & { line?: number }): Promise<{ file: string; rev: string | null; lines: BlamedLine[] }> {
  if (opts.rev?.startsWith('-')) throw new UsageError(`invalid revision ${opts.rev}`);
  // git blame runs (from the current folder, where the path is valid as given) while capture
  // and the repository lookup run here: on two cores its time then hides most of ours.
  const blamed = ctx
    .git()
    .blame(opts.file, { ...(opts.rev ? { rev: opts.rev } : {}), ...(opts.range ? { range: opts.range } : {}), flags: opts.flags ?? [] })
    .then((lines) => ({ lines }), (error: unknown) => ({ error }));
  const { git, info } = await openRepo(ctx);
  const file = await repoPath(ctx, info.root, opts.file);
  await importSessions(ctx);
  const index = new EditIndex(ctx, git, await repoOf(ctx, git, info), await toleranceMs(ctx, opts.toleranceSeconds));
  index.prepare(file);
  const result = await blamed;
  if ('error' in result) throw await blameUsageError(git, info.root, file, opts, result.error);
  const raw: BlameLine[] = result.lines;
  const now = ctx.env.now().getTime();
  const lines: BlamedLine[] = [];
  for (const b of raw) {
    let c = index.attribute([b.filename, file], b.text, b.commit, b.committerTime, now);
    if (c instanceof Promise) c = await c;
    lines.push({ line: b.line, text: b.text, commit: b.commit, author: b.author, filename: b.filename, committerTime: b.committerTime, session: c ? toLineSession(c) : null });
  }
  return { file, rev: opts.rev ?? null, lines };
}

/**
 * Why git blame failed, found by looking (the revision, the file in it, its line count), never
 * by reading git's wording; an error that names the argument at fault. Runs only after a failure.
 */
async function blameUsageError(git: Git, root: string, file: string, opts: BlameOptions & { line?: number }, cause: unknown): Promise<UsageError> {
  const rev = opts.rev ?? 'HEAD';
  const reason = cause instanceof GitError ? gitReason(cause.stderr, { stripPrefix: true }) : String(cause);
  if (opts.rev && !(await git.resolve(`${opts.rev}^{commit}`))) return new UsageError(`<rev> ${opts.rev}: no such revision`, { cause, hint: 'Give a commit, branch or tag (`git log --oneline` lists commits).' });
  // Without a revision git blames the work tree's file, which must be in HEAD.
  const blob = await git.readBlob(rev, file);
  if (!blob) return new UsageError(`<file> ${opts.file}: not in ${rev}`, { cause, hint: `Give a file that exists in ${rev} (\`git ls-files\` lists them).` });
  let data: Buffer = blob;
  if (!opts.rev) {
    try {
      data = fs.readFileSync(path.join(root, file));
    } catch {
      /* gone from the work tree: git said why */
    }
  }
  const count = data.length === 0 ? 0 : data.toString('latin1').split('\n').length - (data[data.length - 1] === 10 ? 1 : 0);
  const only = `the file has only ${count} line${count === 1 ? '' : 's'}`;
  if (opts.line !== undefined && opts.line > count) return new UsageError(`<file>:<line> ${opts.file}:${opts.line}: ${only}${opts.rev ? ` in ${opts.rev}` : ''}`, { cause });
  const start = opts.range ? /^(\d+)(?:,[+-]?\d*)?$/.exec(opts.range) : null;
  if (opts.range && (!start || Number(start[1]) > count)) {
    return new UsageError(`-L ${opts.range}: ${start ? only : 'not a range git blame understands'}`, { cause, hint: 'Give -L <start>,<end> (e.g. -L 10,20), as for git blame.' });
  }
  return new UsageError(`git blame failed: ${reason}`, { cause, hint: 'Check the file name, the revision and the -L range.' });
}

export interface LineReasoning {
  line: BlamedLine;
  session: SessionRow | null;
  prompt: NormalizedMessage | null;
  /** Assistant text and thinking before the edit (since the prompt) and right after it. */
  before: NormalizedMessage[];
  edit: NormalizedMessage | null;
  after: NormalizedMessage[];
  showCommand: string | null;
}

/** `git lore blame <file>:<line>`: the reasoning behind one line. */
export async function explainLine(ctx: LoreContext, opts: BlameOptions & { line: number }): Promise<LineReasoning> {
  const r = await blameFile(ctx, { ...opts, range: `${opts.line},${opts.line}` });
  const line = r.lines[0];
  if (!line) throw new UsageError(`${opts.file} has no line ${opts.line}`);
  if (!line.session) return { line, session: null, prompt: null, before: [], edit: null, after: [], showCommand: null };
  const row = ctx.db.getSession(line.session.id)!;
  const messages = (await loadSession(ctx, row)).messages;
  const at = line.session.messageIndex;
  return { line, session: row, ...reasoningAt(messages, at), showCommand: `git lore show ${row.id.slice(0, 8)} --at ${at}` };
}

/**
 * The reasoning around message `at` (an edit) of a session: the prompt it answers (the last one
 * before it, in the same agent or subagent), up to 4 assistant texts or thinking between the two,
 * and up to 2 after it, before the next prompt.
 */
export function reasoningAt(messages: NormalizedMessage[], at: number): Pick<LineReasoning, 'prompt' | 'before' | 'edit' | 'after'> {
  const edit = messages[at] ?? null;
  const scope = edit?.agentId;
  const isPrompt = (m: NormalizedMessage) => m.role === 'user' && m.kind === 'text' && m.agentId === scope && !/^\s*<(command-|local-command|system-reminder)/.test(m.text);
  let p = at - 1;
  while (p >= 0 && !isPrompt(messages[p]!)) p--;
  const prompt = p >= 0 ? messages[p]! : null;
  const talk = (m: NormalizedMessage) => m.role === 'assistant' && (m.kind === 'text' || m.kind === 'thinking') && m.text.trim() !== '' && m.agentId === scope;
  const before = messages.slice(p + 1, at).filter(talk).slice(-4);
  const after: NormalizedMessage[] = [];
  for (let i = at + 1; i < messages.length && after.length < 2; i++) {
    if (isPrompt(messages[i]!)) break;
    if (talk(messages[i]!)) after.push(messages[i]!);
  }
  return { prompt, before, edit, after };
}

export interface CommitAttribution {
  commit: string;
  subject: string;
  time: number;
  added: number;
  sessions: Array<{ id: string; tool: string; title: string | null; lines: number; share: number }>;
  people: { lines: number; share: number };
}

/** One added line of a commit: its file and line number at that commit, and the session edit that wrote it (null: a person). */
export interface AddedLine {
  file: string;
  line: number;
  text: string;
  session: LineSession | null;
}

/** A commit and its added non-blank lines, each attributed. */
export interface CommitLines {
  commit: string;
  subject: string;
  time: number;
  lines: AddedLine[];
}

export interface LogOptions {
  range?: string;
  toleranceSeconds?: number;
  maxCount?: number;
}

/**
 * The commits of a range (default: those not on the upstream yet, else the last 20), newest
 * first, with each added non-blank line attributed as blame does: what `git lore log` counts and
 * the Agent Trace export lists.
 */
export async function attributedCommits(ctx: LoreContext, opts: LogOptions = {}): Promise<CommitLines[]> {
  await importSessions(ctx);
  const { git, info } = await openRepo(ctx);
  let range = opts.range;
  if (range?.startsWith('-')) throw new UsageError(`invalid revision range ${range}`);
  if (!range) {
    const ahead = (await git.resolve('@{upstream}')) ? await git.countCommits('@{upstream}..HEAD') : 0;
    range = ahead ? '@{upstream}..HEAD' : 'HEAD';
  }
  const max = opts.maxCount ?? (opts.range ? 0 : 20);
  const commits = await git.logPatches(range, max ? { max } : {}).catch((err: unknown) => {
    // git refused the range (a parse failure of its output stays a GitError: not the user's fault).
    if (!(err instanceof GitError) || err.gitExitCode === 0) throw err;
    throw new UsageError(`git log failed: ${gitReason(err.stderr)}`, { hint: 'Give a revision range such as main..feature.', cause: err });
  });
  const index = new EditIndex(ctx, git, await repoOf(ctx, git, info), await toleranceMs(ctx, opts.toleranceSeconds));
  const out: CommitLines[] = [];
  for (const k of commits) {
    const lines: AddedLine[] = [];
    for (const f of k.files) {
      for (const l of f.added) {
        if (!normalizeLine(l.text)) continue;
        let c = index.attribute([f.path], l.text, k.commit, k.time, ctx.env.now().getTime());
        if (c instanceof Promise) c = await c;
        lines.push({ file: f.path, line: l.line, text: l.text, session: c ? toLineSession(c) : null });
      }
    }
    out.push({ commit: k.commit, subject: k.subject, time: k.time, lines });
  }
  return out;
}

/**
 * `git lore log [<range>]`: per commit, the sessions whose edits wrote its added lines and their
 * shares, and the share written by people. Blank lines are not counted.
 */
export async function loreLog(ctx: LoreContext, opts: LogOptions = {}): Promise<CommitAttribution[]> {
  return (await attributedCommits(ctx, opts)).map((k) => {
    const counts = new Map<string, { id: string; tool: string; title: string | null; lines: number }>();
    let people = 0;
    for (const l of k.lines) {
      if (!l.session) people += 1;
      else {
        const e = counts.get(l.session.id) ?? { id: l.session.id, tool: l.session.tool, title: l.session.title, lines: 0 };
        e.lines += 1;
        counts.set(l.session.id, e);
      }
    }
    const added = k.lines.length;
    const share = (n: number) => (added ? Math.round((n / added) * 1000) / 1000 : 0);
    return {
      commit: k.commit, subject: k.subject, time: k.time, added,
      sessions: [...counts.values()].sort((a, b) => b.lines - a.lines).map((x) => ({ ...x, share: share(x.lines) })),
      people: { lines: people, share: share(people) },
    };
  });
}
