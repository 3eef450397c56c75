import { LoreError, UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { currentRepo } from './sessions.js';
import type { RepoKey } from '../store/db.js';
import { sources } from './import.js';
import { indexedTexts, updateSearchIndex } from './search-index.js';
import { MATCH_END, MATCH_START, type SearchHit } from '../store/search-index.js';

/** Nothing matched: exit 1, like grep (the CLI has written the empty result already). */
export class NoMatch extends LoreError {}

/**
 * Turns what a person types into an FTS5 query that cannot fail: each bare word and each
 * "quoted phrase" becomes an FTS5 string (all must match; a phrase's words in order). FTS5's own
 * syntax (AND, OR, NOT, NEAR, column filters, parentheses, ^, +) is only ever read as words; a
 * word ending in `*` keeps it, as a prefix search. An unclosed quote runs to the end. Terms with
 * no letter or digit are dropped (they match nothing), control characters are spaces. Returns
 * null when no term is left.
 */
export function ftsQuery(input: string): string | null {
  const terms: string[] = [];
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const searchable = (t: string) => /[\p{L}\p{N}]/u.test(t);
  // A NUL ends FTS5's reading of the query ("unterminated string"): control characters are spaces.
  const text = input.replace(/[\u0000-\u001f\u007f]/g, ' ');
  for (const m of text.matchAll(/"([^"]*)"?|([^\s"]+)/g)) {
    if (m[1] !== undefined) {
      if (searchable(m[1])) terms.push(quote(m[1]));
      continue;
    }
    const word = m[2]!;
    const prefix = /[\p{L}\p{N}]\*+$/u.test(word);
    const bare = word.replace(/\*+$/, '');
    if (searchable(bare)) terms.push(quote(bare) + (prefix ? '*' : ''));
  }
  return terms.length ? terms.join(' ') : null;
}

/** `--since`: an ISO date or time, or a span back from now: `36h`, `7d`, `2w`. */
export function parseSince(text: string, now: Date): string {
  const rel = /^(\d+)\s*([hdw])$/.exec(text.trim());
  if (rel) {
    const hours = Number(rel[1]) * ({ h: 1, d: 24, w: 168 } as const)[rel[2] as 'h' | 'd' | 'w'];
    return new Date(now.getTime() - hours * 3600_000).toISOString();
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`invalid --since ${JSON.stringify(text)}`, { hint: 'Give a date (2026-01-31), a time (2026-01-31T14:00Z) or a span back from now (36h, 7d, 2w).' });
  return new Date(ms).toISOString();
}

export interface SearchOptions {
  query: string;
  /** Every repository's sessions (and those outside any), not only the current one's. */
  all?: boolean;
  /** Only sessions of this repository (main root); wins over `all` (the MCP server's scope). */
  /** Search this repository (default: the current folder's). */
  repo?: RepoKey;
  tool?: string;
  since?: string;
  /** A prefix of the machine id that captured the session, or `me` for this machine. */
  authorMachine?: string;
  limit?: number;
  /** Rank at most this many matching texts, the most recently indexed (default MAX_CANDIDATES). */
  maxCandidates?: number;
}

/** One hit, in the stable JSON shape of docs/json.md. */
export interface SearchResult {
  id: string;
  tool: string;
  ts: string | null;
  role: string;
  kind: string;
  toolName: string | null;
  /** Text around the match, on one line; matched words between MATCH_START and MATCH_END (see `markSnippet`). */
  snippet: string;
  title: string | null;
  origin: 'local' | 'sync';
  machine: string | null;
  score: number;
}

export interface SearchOutput {
  query: string;
  repository: string | null;
  results: SearchResult[];
  /** More texts matched than were ranked: the results are the best of the most recently indexed MAX_CANDIDATES. */
  truncated: boolean;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/**
 * A query matching more texts than this ranks only the most recently indexed this many (and says
 * so): bm25 is computed for each match ranked, and each is joined to its session; a query of words
 * found in 46,000 texts of 10,000 sessions took 200 ms ranking them all, 100-135 ms ranking
 * 10,000 and 26-38 ms ranking 2,000 (under a load average of 12; docs/search.md).
 */
export const MAX_CANDIDATES = 5_000;

/**
 * Full-text search over the messages of this repository's sessions (or all with `all`), best
 * first (bm25, then the most recent). Indexes first what captures left pending.
 * Usage errors (exit 2) for an empty query or bad options; an empty result is not an error here.
 */
export async function searchSessions(ctx: LoreContext, opts: SearchOptions, run: SearchRun = {}): Promise<SearchOutput> {
  const match = ftsQuery(opts.query);
  if (!match) throw new UsageError(`nothing to search for in ${JSON.stringify(opts.query)}`, { hint: 'Give words or a "quoted phrase", e.g. git lore search "retry backoff".' });
  const limit = opts.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`invalid -n ${opts.limit}`, { hint: `Give a number of results from 1 to ${MAX_LIMIT}.` });
  if (opts.tool !== undefined && !['claude-code', 'codex'].includes(opts.tool)) {
    throw new UsageError(`unknown tool ${JSON.stringify(opts.tool)}`, { hint: 'Give --tool claude-code or --tool codex.' });
  }
  let machine = opts.authorMachine?.trim().toLowerCase();
  if (machine === 'me') machine = ctx.machineId;
  if (machine !== undefined && !/^[0-9a-f]{1,32}$/.test(machine)) {
    throw new UsageError(`invalid --author-machine ${JSON.stringify(opts.authorMachine)}`, { hint: 'Give the start of a machine id (hex, as in `git lore search --json` results) or `me`.' });
  }
  const since = opts.since !== undefined ? parseSince(opts.since, ctx.env.now()) : undefined;
  let repo: RepoKey | null = opts.repo ?? null;
  if (repo === null && !opts.all) {
    repo = await currentRepo(ctx);
    if (!repo) throw new UsageError('not inside a git repository', { hint: 'Run it inside a repository, or use `git lore search --all <query>`.' });
  }
  const maxCandidates = opts.maxCandidates ?? MAX_CANDIDATES;
  if (!Number.isInteger(maxCandidates) || maxCandidates < 1) throw new UsageError(`invalid maxCandidates ${maxCandidates}`, { hint: 'Give a positive whole number.' });
  const all = sources(ctx, { unreadable: () => undefined });
  const answer = (): SearchOutput => {
    const { hits, truncated } = ctx.db.search.query(match, {
      limit,
      maxCandidates,
      ...(repo !== null ? { repo } : {}),
      ...(opts.tool !== undefined ? { tool: opts.tool } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(machine !== undefined ? { machinePrefix: machine } : {}),
    });
    // The index keeps no text: the shown results' texts are parsed again from the piece store.
    const texts = indexedTexts(ctx, all, hits);
    const snippets = ctx.db.search.snippets(match, texts);
    const text = new Map(texts.map((t) => [t.id, t.text]));
    return {
      query: opts.query, repository: repo?.root ?? null, truncated,
      results: hits.map((h) => toResult(h, snippets.get(h.id) ?? text.get(h.id)?.slice(0, SNIPPET_FALLBACK) ?? '')),
    };
  };
  if (run.capture) {
    // While the capture's file listing runs (a child process), answer from the index as it is;
    // that answer stands when the capture changed no session.
    const early = ctx.db.search.upToDate() ? answer() : null;
    const changed = await run.capture;
    if (early && !changed) return early;
  }
  await updateSearchIndex(ctx, all, run.progress);
  return answer();
}

/** How a search runs beside the rest of a command. */
export interface SearchRun {
  /** Called as pending files are indexed. */
  progress?: (done: number, total: number) => void;
  /**
   * A capture started just before: resolves to whether it wrote any session. The search waits
   * for it, and answers from the index as it was when it wrote none.
   */
  capture?: Promise<boolean>;
}

/** Characters of a text shown when FTS5 gives no snippet for it (its block changed since it was indexed). */
const SNIPPET_FALLBACK = 200;

function toResult(h: SearchHit, snippet: string): SearchResult {
  return {
    id: h.session_id, tool: h.tool, ts: h.ts, role: h.role, kind: h.kind, toolName: h.tool_name,
    snippet: oneLine(snippet),
    title: h.title, origin: h.origin, machine: h.origin_machine, score: Math.round(h.score * 1000) / 1000,
  };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * A snippet with its matched words marked for output: `mark` gets each piece of text and whether
 * it matched (JSON and MCP use **word**; a terminal, bold). Pieces are not sanitized here.
 */
export function markSnippet(snippet: string, mark: (text: string, matched: boolean) => string): string {
  return snippet.split(MATCH_START).map((part, i) => {
    if (i === 0) return mark(part, false);
    const end = part.indexOf(MATCH_END);
    return end < 0 ? mark(part, true) : mark(part.slice(0, end), true) + mark(part.slice(end + 1), false);
  }).join('');
}

/** The JSON form of results: snippets with **matched** words. */
export function jsonResults(results: SearchResult[]): SearchResult[] {
  return results.map((r) => ({ ...r, snippet: markSnippet(r.snippet, (t, m) => (m ? `**${t}**` : t)) }));
}
