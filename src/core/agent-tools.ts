import type { RepoKey } from '../store/db.js';
import { UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { blameFile, loreLog, reasoningAt } from './blame.js';
import { jsonResults, searchSessions, type SearchResult } from './search.js';
import { listSessions, loadSession, resolveSession, summarize, type SessionSummary } from './sessions.js';
import type { NormalizedMessage } from '../sources/types.js';

/**
 * What `git lore mcp` answers, as plain functions over one repository: each takes the scope (the
 * repository's main root, fixed when the server starts) and typed arguments, reads only, and
 * returns values sized for a model's context (pages, limits, texts cut with a note). The MCP
 * wiring is in cli/mcp.ts; these are tested through it.
 */

/** Texts longer than this are cut (the transcript keeps them: `show_session` pages, `git lore show`). */
export const MAX_TEXT = 2000;
const PAGE_MAX = 100;

function cut(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} more characters]` : text;
}

function page(offset: unknown, limit: unknown, def: number, max = PAGE_MAX): { offset: number; limit: number } {
  const o = offset === undefined ? 0 : Number(offset);
  const l = limit === undefined ? def : Number(limit);
  if (!Number.isInteger(o) || o < 0) throw new UsageError(`invalid offset ${String(offset)}`, { hint: 'Give a whole number from 0.' });
  if (!Number.isInteger(l) || l < 1 || l > max) throw new UsageError(`invalid limit ${String(limit)}`, { hint: `Give a whole number from 1 to ${max}.` });
  return { offset: o, limit: l };
}

function inScope(ctx: LoreContext, scope: RepoKey, id: string) {
  const row = resolveSession(ctx, id);
  if (!(row.repo_id === scope.id || (row.repo_id === null && row.repo_root === scope.root))) throw new UsageError(`session ${row.id} does not belong to this repository`, { hint: 'Use an id from list_sessions or search_sessions.' });
  return row;
}

interface MessageOut {
  seq: number;
  role: string;
  kind: string;
  toolName?: string;
  ts?: string;
  text: string;
}

function messageOut(m: NormalizedMessage, max = MAX_TEXT): MessageOut {
  return { seq: m.seq, role: m.role, kind: m.kind, ...(m.toolName ? { toolName: m.toolName } : {}), ...(m.ts ? { ts: m.ts } : {}), text: cut(m.text, max) };
}

export async function toolSearch(ctx: LoreContext, scope: RepoKey, a: { query: string; limit?: number; tool?: string; since?: string }): Promise<{ query: string; truncated: boolean; results: SearchResult[] }> {
  const r = await searchSessions(ctx, {
    query: String(a.query ?? ''), repo: scope, limit: page(0, a.limit, 10, 50).limit,
    ...(a.tool !== undefined ? { tool: a.tool } : {}), ...(a.since !== undefined ? { since: a.since } : {}),
  });
  // truncated: more messages matched than are ranked (the most recent ones were): the agent should narrow the query.
  return { query: r.query, truncated: r.truncated, results: jsonResults(r.results) };
}

export async function toolListSessions(ctx: LoreContext, scope: RepoKey, a: { offset?: number; limit?: number }): Promise<{ total: number; offset: number; nextOffset: number | null; sessions: SessionSummary[] }> {
  const { offset, limit } = page(a.offset, a.limit, 20);
  const mine = new Set(ctx.db.listSessions(scope).map((r) => r.id));
  const all = (await listSessions(ctx, { all: true })).sessions.filter((s) => mine.has(s.id)).reverse();
  const sessions = all.slice(offset, offset + limit);
  return { total: all.length, offset, nextOffset: offset + sessions.length < all.length ? offset + sessions.length : null, sessions };
}

export async function toolShowSession(ctx: LoreContext, scope: RepoKey, a: { id: string; offset?: number; limit?: number }): Promise<{ session: SessionSummary; total: number; offset: number; nextOffset: number | null; messages: MessageOut[] }> {
  const row = inScope(ctx, scope, String(a.id ?? ''));
  const { offset, limit } = page(a.offset, a.limit, 40);
  const messages = (await loadSession(ctx, row)).messages;
  const slice = messages.slice(offset, offset + limit);
  return {
    session: summarize(row, ctx.db.edits(row.id).length), total: messages.length, offset,
    nextOffset: offset + slice.length < messages.length ? offset + slice.length : null, messages: slice.map((m) => messageOut(m)),
  };
}

export interface BlameSession {
  id: string;
  tool: string;
  title: string | null;
  /** The edit (message seq) and the lines of the range it wrote. */
  messageIndex: number;
  lines: number[];
  prompt: MessageOut | null;
  reasoning: MessageOut[];
}

/** Lines of a file (at most 200) -> the sessions that wrote them, with the prompt and the reasoning before and after each edit. */
export async function toolBlame(ctx: LoreContext, a: { file: string; startLine: number; endLine?: number }): Promise<{ file: string; lines: Array<{ line: number; text: string; commit: string; author: string; session: string | null }>; sessions: BlameSession[] }> {
  const start = Number(a.startLine);
  const end = a.endLine === undefined ? start : Number(a.endLine);
  if (!Number.isInteger(start) || start < 1 || !Number.isInteger(end) || end < start || end - start >= 200) {
    throw new UsageError(`invalid line range ${String(a.startLine)}-${String(a.endLine)}`, { hint: 'Give start_line >= 1 and end_line >= start_line, at most 200 lines.' });
  }
  const file = String(a.file ?? '');
  if (!file || file.startsWith('-')) throw new UsageError(`invalid file ${JSON.stringify(file)}`, { hint: 'Give a path relative to the repository root.' });
  const r = await blameFile(ctx, { file, range: `${start},${end}` });
  const byEdit = new Map<string, BlameSession>();
  for (const l of r.lines) {
    if (!l.session) continue;
    const key = `${l.session.id}:${l.session.messageIndex}`;
    let s = byEdit.get(key);
    if (!s) {
      const row = ctx.db.getSession(l.session.id)!;
      const why = reasoningAt((await loadSession(ctx, row)).messages, l.session.messageIndex);
      s = {
        id: l.session.id, tool: l.session.tool, title: l.session.title, messageIndex: l.session.messageIndex, lines: [],
        prompt: why.prompt ? messageOut(why.prompt) : null, reasoning: [...why.before, ...why.after].map((m) => messageOut(m, 1000)),
      };
      byEdit.set(key, s);
    }
    s.lines.push(l.line);
  }
  return {
    file: r.file,
    lines: r.lines.map((l) => ({ line: l.line, text: cut(l.text, 300), commit: l.commit, author: l.author, session: l.session?.id ?? null })),
    sessions: [...byEdit.values()],
  };
}

export async function toolSessionsForCommit(ctx: LoreContext, a: { commit: string }) {
  const commit = String(a.commit ?? '').trim();
  if (!/^[0-9A-Za-z][0-9A-Za-z._/~^@{}-]*$/.test(commit)) throw new UsageError(`invalid commit ${JSON.stringify(commit)}`, { hint: 'Give a commit id or a ref name, e.g. HEAD~2.' });
  const [c] = await loreLog(ctx, { range: commit, maxCount: 1 });
  if (!c) throw new UsageError(`no commit ${commit}`);
  return c;
}
