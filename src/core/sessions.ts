import { UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import type { EditRow, RepoKey, SessionRow } from '../store/db.js';
import { repoScope } from './repo-id.js';
import { StoreError } from '../errors.js';
import type { NativeFile } from '../store/bundle.js';
import type { StoredFile } from '../store/pieces.js';
import { sources } from './import.js';
import type { NormalizedMessage, NormalizedSession, Source } from '../sources/types.js';

/** The stable JSON shape of one session in listings (documented in docs/json.md). */
export interface SessionSummary {
  id: string;
  tool: string;
  toolVersion: string | null;
  branch: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  messageCount: number;
  subagentCount: number;
  editCount: number;
  title: string | null;
  repository: string | null;
  origin: 'local' | 'sync';
}

export function summarize(row: SessionRow, editCount: number): SessionSummary {
  return {
    id: row.id, tool: row.tool, toolVersion: row.tool_version, branch: row.branch, startedAt: row.started_at,
    updatedAt: row.updated_at, messageCount: row.message_count, subagentCount: row.subagent_count, editCount,
    title: row.title, repository: row.repo_root, origin: row.origin,
  };
}

/** The repository containing the current folder (identity and root), or null. */
export async function currentRepo(ctx: LoreContext): Promise<RepoKey | null> {
  const git = ctx.git();
  const info = await git.repoInfo();
  if (!info) return null;
  const repo = await repoScope(ctx, git, info);
  ctx.db.backfillRepoId(repo);
  return repo;
}

/** Sessions of the current repository, or of every repository (and none) with `all`. */
export async function listSessions(ctx: LoreContext, opts: { all: boolean }): Promise<{ repository: string | null; sessions: SessionSummary[] }> {
  const repo = opts.all ? null : await currentRepo(ctx);
  const repository = repo?.root ?? null;
  if (!opts.all && !repo) {
    throw new UsageError('not inside a git repository', { hint: 'Run it inside a repository, or use `git lore sessions --all`.' });
  }
  const rows = ctx.db.listSessions(repo ?? undefined);
  const counts = ctx.db.editCounts();
  return { repository, sessions: rows.map((r) => summarize(r, counts.get(r.id) ?? 0)) };
}

/** Finds one session by full id or unique prefix; a usage error names the candidates otherwise. */
export function resolveSession(ctx: LoreContext, idOrPrefix: string): SessionRow {
  const id = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,}$/.test(id)) {
    throw new UsageError(`not a session id: ${JSON.stringify(idOrPrefix)}`, { hint: 'Give at least 4 characters of an id from `git lore sessions`.' });
  }
  const exact = ctx.db.getSession(id);
  if (exact) return exact;
  const found = ctx.db.findByPrefix(id, 5);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new UsageError(`no session matches ${id}`, { hint: 'List them with `git lore sessions --all`.' });
  throw new UsageError(`${id} is ambiguous: ${found.map((f) => f.id).join(', ')}`, { hint: 'Give more characters of the id.' });
}

export interface SessionDetail {
  session: SessionSummary;
  messages: NormalizedMessage[];
  edits: Array<Omit<EditRow, 'added_json' | 'id' | 'session_id'> & { added: string[] }>;
}

/** A whole session: summary, messages (parsed from its bundle) and edits with their added lines. */
export async function showSession(ctx: LoreContext, idOrPrefix: string): Promise<SessionDetail> {
  const row = resolveSession(ctx, idOrPrefix);
  const head = sessionHead(ctx, row);
  return { session: head.session, messages: (await loadSession(ctx, row)).messages, edits: head.edits };
}

/** A session's summary and edits, from the store alone (nothing parsed). */
export function sessionHead(ctx: LoreContext, row: SessionRow): Omit<SessionDetail, 'messages'> {
  const edits = ctx.db.edits(row.id).map(({ added_json, id: _id, session_id: _sid, ...rest }) => ({ ...rest, added: JSON.parse(added_json) as string[] }));
  return { session: summarize(row, edits.length), edits };
}

/**
 * A stored session's messages, handed to `onMessage` in order as they are parsed: read piece by
 * piece from the store where the session's source can stream (Source.streamMessages), so a
 * session of any size is shown in bounded memory; parsed whole otherwise.
 */
export async function streamSessionMessages(ctx: LoreContext, row: SessionRow, onMessage: (m: NormalizedMessage) => void): Promise<void> {
  const source = sourceOf(ctx, row);
  if (!source.streamMessages) {
    for (const m of (await loadSession(ctx, row)).messages) onMessage(m);
    return;
  }
  const files = new Map(storedFileList(ctx, row.id).map((f) => [f.path, f]));
  source.streamMessages(row.id, [...files.keys()], (p, fn) => {
    const f = files.get(p);
    if (!f) return;
    const { tail } = ctx.db.pieces.lineBlocks(f, 0, (_offset, lines) => fn(lines));
    if (tail.length) fn(tail);
  }, onMessage);
}

/** Parses a stored session from its bundle (the lossless copy), with the parser of its tool. */
export async function loadSession(ctx: LoreContext, row: SessionRow): Promise<NormalizedSession> {
  const files = storedFiles(ctx, row.id);
  return sourceOf(ctx, row).parse(row.id, files);
}

/** The source that parses a stored session: its tool's. */
function sourceOf(ctx: LoreContext, row: SessionRow): Source {
  const source = sources(ctx, { unreadable: () => undefined }).find((s) => s.tool === row.tool);
  if (!source) throw new StoreError(`session ${row.id} comes from an unknown tool ${row.tool}`, { hint: 'Upgrade git-lore.' });
  return source;
}

/**
 * A stored session's native files, read whole from the piece store (show and restore need them
 * whole). Throws when the session has none (its content was lost: import or sync brings it back).
 */
export function storedFiles(ctx: LoreContext, id: string): NativeFile[] {
  return storedFileList(ctx, id).map((f) => ({ path: f.path, data: ctx.db.pieces.readAll(f), mtimeMs: 0 }));
}

/**
 * A stored session's native files as lists of pieces, nothing read yet (callers stream them with
 * `ctx.db.pieces`). Throws when the session has none, as storedFiles does.
 */
export function storedFileList(ctx: LoreContext, id: string): StoredFile[] {
  const files = ctx.db.sessionFiles(id);
  if (!files.length) throw new StoreError(`the stored copy of session ${id} is missing`, { hint: 'Run `git lore import` (or `git lore sync`) to capture it again.' });
  return files;
}
