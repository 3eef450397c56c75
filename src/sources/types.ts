import { createHash } from 'node:crypto';
import type { Listing } from './listing.js';
import type { Reporter } from './discover.js';
import type { NativeFile } from '../store/bundle.js';

import type { EditOp, MessageKind, Role, ToolName } from '../model/session.js';

export type { EditOp, MessageKind, Role, ToolName } from '../model/session.js';

/** One normalized part of a conversation (a content block). */
export interface NormalizedMessage {
  /** Position in the session, 0-based, stable for the same native files. */
  seq: number;
  /** Index of the native message this part belongs to (what "message count" counts). */
  turn: number;
  role: Role;
  kind: MessageKind;
  toolName?: string;
  text: string;
  ts?: string;
  /** The agent's own id of the native message (Claude: uuid or message.id; Codex: call_id or a line key). */
  nativeId: string;
  /** Set on messages from a subagent transcript. */
  agentId?: string;
}

/** A file edit and the exact lines it added. */
export interface FileEdit {
  /** seq of the tool-call message that made the edit. */
  seq: number;
  /** As recorded by the agent (absolute, or relative to the session's cwd). */
  path: string;
  /** Set on moves (Codex `*** Move to:`): the new path. */
  movePath?: string;
  op: EditOp;
  toolName: string;
  ts?: string;
  added: string[];
}

/** A session in the shape every source produces: its summary, with messages and edits. */
export interface NormalizedSession extends SessionSummary {
  id: string;
  messages: NormalizedMessage[];
  edits: FileEdit[];
}

/** A session parser's saved state: JSON-safe, owned by the source, small (no message texts; long keys hashed). */
export type ParserState = unknown;

/** What capture keeps of a parsed session (no messages). */
export interface SessionSummary {
  tool: ToolName;
  toolVersion?: string;
  cwd?: string;
  gitBranch?: string;
  startedAt?: string;
  updatedAt?: string;
  title?: string;
  /** Number of native messages (turns); see docs/sessions-json.md for the exact rule. */
  messageCount: number;
  subagentCount: number;
  /** Lines skipped because they were not valid JSON (truncated, junk). */
  malformedLines: number;
  /** Valid JSON lines of a type the parser does not know (kept in the bundle, skipped here). */
  unknownLines: number;
}

/**
 * An incremental parse of one session: fed the bytes a file gained since the last import, it ends
 * with the same summary and edits as `parse` of the whole files (only `seq` may differ: see FileEdit
 * and takeEdits).
 */
export interface SessionParser {
  /**
   * Feeds whole lines of one native file (bundle path, e.g. `claude/<id>.jsonl`), in file order;
   * files may interleave between calls. `data` ends with '\n' except possibly for the file's last
   * line, which is read as `parse` reads it (capture should hold back a line that has no '\n' yet: fed
   * now and again once complete, it would count twice). Files that are not part of a session of this
   * source are ignored.
   */
  feed(path: string, data: Buffer): void;
  /**
   * Edits completed since this parser was created or resumed (their result was seen), in the order
   * their results were fed; each call returns only new ones. Their `seq` numbers the tool call by the
   * messages this parser had counted before it, across resumes: unique per tool call (a Codex patch
   * touching several files gives several edits of one seq, as in `parse`) and increasing in feed
   * order. It equals `parse`'s when files are fed whole in `parse`'s order, except, in Codex, after
   * an event that an item repeats only after the call; with other feed orders it may differ.
   * Take them before `save`: a resumed parser does not return them again.
   */
  takeEdits(): FileEdit[];
  /**
   * Edits whose result has not been fed yet, taken as applied for now (the full current set; a later
   * feed confirms them, through takeEdits, or drops them on an error result).
   */
  pendingEdits(): FileEdit[];
  summary(): SessionSummary;
  /**
   * The state to resume from later: `source.parser(id, JSON.parse(JSON.stringify(p.save())))`.
   * It holds counters, hashes of message keys, per-file first values and the tool calls still
   * waiting for a result (their edit's lines); no message text.
   */
  save(): ParserState;
}

export interface ParseOptions {
  /** Build message texts (default true). */
  text?: boolean;
}

/** A native file found on disk and the session it belongs to. */
export interface DiscoveredFile {
  tool: ToolName;
  absPath: string;
  /** Path inside the bundle, e.g. `claude/<id>.jsonl`, `claude/<id>/subagents/agent-x.jsonl`, `codex/sessions/2025/11/22/rollout-….jsonl`. */
  bundlePath: string;
  size: number;
  mtimeMs: number;
  /** Known from the name; null when the file must be read to know it (legacy agent files). */
  sessionId: string | null;
  /**
   * The session's working folder when the agent records it outside the session's files (Gemini
   * CLI's project registry); used when the parse finds no cwd.
   */
  cwd?: string;
}

/**
 * One agent source: finds its native files and turns a session's files into a normalized session.
 * Every source passes the same conformance tests (test/sources/conformance.test.ts).
 */
export interface Source {
  readonly tool: ToolName;
  /** The folders discover walks (at most ROOT_DEPTH levels below each). */
  readonly roots: readonly string[];
  /**
   * Lists native files with stat data; reads nothing but directory entries and stats, or only
   * the listing when one is given (it covers `roots`).
   */
  discover(listing?: Listing | null): DiscoveredFile[];
  /** Reads the session id from a file whose name does not say it. Returns null if none found. */
  sessionIdOf(file: DiscoveredFile): string | null;
  /**
   * Parses a session's files (as stored in its bundle). Never throws on bad lines. With
   * `{ text: false }` message texts are left empty (capture only needs counts, metadata and
   * edits, and building texts was half of its parse time).
   */
  parse(sessionId: string, files: NativeFile[], opts?: ParseOptions): NormalizedSession;
  /**
   * An incremental parser of a session, new or resumed from the state a parser of this source saved.
   * Throws when `state` is not such a state (another version): start again with a fresh parser fed
   * whole files.
   */
  parser(sessionId: string, state?: ParserState | null): SessionParser;
  /**
   * Optional: the session's messages as `parse` gives them, handed to `onMessage` one by one as the
   * files are read: `read(path, fn)` calls `fn` with one file's bytes in blocks of whole lines (the
   * last line possibly without its newline), and may be called again for a second pass. `show`
   * streams a session through it (never the whole transcript in memory); without it, `show` parses
   * the files whole.
   */
  streamMessages?(sessionId: string, paths: readonly string[], read: (path: string, fn: (block: Buffer) => void) => void, onMessage: (m: NormalizedMessage) => void): void;
  /**
   * Optional: true for a native file the agent rewrites whole (a JSON document, not appended
   * lines). The search index parses such a file whole each time it changes, where it reads other
   * transcripts by their new whole lines (a document on one line without a newline has none).
   */
  wholeDocument?(bundlePath: string): boolean;
  /**
   * Where `restore` writes a session's native file (bundle path) on this machine, for a session
   * resumed in `localCwd` (a folder of the clone restored into). The allow-list: only the file
   * kinds this agent's sessions really have, named after this session; throws RestoreRefused for
   * anything else (a teammate's bundle must not reach the agent's config).
   */
  restoreTarget(bundlePath: string, sessionId: string, localCwd: string): string;
  /**
   * Optional, for agents that keep sessions in a database (OpenCode): the sink that takes a
   * restored native file whose `restoreTarget` is not a file to write as is (the database its
   * rows go into); null (or no method) for a plain file. `localRoot` is the clone restored into.
   */
  restoreSink?(dest: string, sessionId: string, where: { localCwd: string; localRoot: string }): RestoreSink | null;
  /**
   * Optional: after restore put this session's files in place (`files`: their paths here), updates
   * what else the agent needs to offer the session (Cline lists tasks from its own index). Returns
   * lines for the user. Touches only that agent file; a failure is a line, not an error.
   */
  afterRestore?(sessionId: string, files: readonly string[], info: { localCwd: string; title: string | null; updatedAt: string | null }): string[];
  /** The command that resumes a restored session, as argv run in `cwd`; null when the agent cannot resume. */
  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } | null;
}

/**
 * Where restore writes a native file that is not a plain file (Source.restoreSink). Both methods
 * throw a LoreError, writing nothing, when the target cannot take the data (missing, another schema).
 */
export interface RestoreSink {
  /** True when the target holds another version of something `data` would write (a conflict without --force). */
  differs(data: Buffer): boolean;
  /** Writes `data` (all or nothing); false when the target held it all already. */
  write(data: Buffer): boolean;
}

/** Thrown by `restoreTarget` for a bundle path outside the agent's allow-list. */
export class RestoreRefused extends Error {
  constructor(readonly bundlePath: string, why: string) {
    super(`${JSON.stringify(bundlePath)} is not a file this agent's sessions have (${why})`);
  }
}

/** How deep below its roots a source looks for files (levels of folders). */
export const ROOT_DEPTH = 3;

/** Lines that a text splits into, without the trailing empty line a final newline makes. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** The added lines of a replacement: lines of `next` not accounted for by lines of `prev`. */
export function addedLines(prev: string, next: string): string[] {
  const pool = new Map<string, number>();
  for (const l of splitLines(prev)) pool.set(l, (pool.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of splitLines(next)) {
    const n = pool.get(l) ?? 0;
    if (n > 0) pool.set(l, n - 1);
    else out.push(l);
  }
  return out;
}

/** Cuts long text for the index (the bundle keeps everything). */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} more characters in the bundle]` : text;
}

/** Calls `fn` with each JSON object line of a buffer, counting lines that are not JSON objects. */
export function forEachJsonLine(data: Buffer, counters: { malformed: number }, fn: (o: Record<string, unknown>) => void): void {
  const text = data.toString('utf8');
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let i = start;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9 || text.charCodeAt(i) === 13)) i++;
    if (i < end) {
      if (text.charCodeAt(i) !== 123 /* { */) counters.malformed += 1;
      else {
        let v: unknown;
        try {
          v = JSON.parse(text.slice(i, end));
        } catch {
          v = undefined;
        }
        if (v && typeof v === 'object' && !Array.isArray(v)) fn(v as Record<string, unknown>);
        else counters.malformed += 1;
      }
    }
    start = end + 1;
  }
}

/** The JSON object lines of a buffer (see forEachJsonLine). */
export function jsonLines(data: Buffer, counters: { malformed: number }): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  forEachJsonLine(data, counters, (o) => out.push(o));
  return out;
}

/**
 * A short stand-in for a key or text kept in a parser's state (72 bits of SHA-1: collisions are
 * not a concern at the size of a session).
 */
export function stateKey(text: string): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, 12);
}

/** A session title from a prompt or summary: its first non-blank line, trimmed, at most 100 characters ('' when all blank). */
export function titleLine(text: string): string {
  return text.split('\n').find((l) => l.trim())?.trim().slice(0, 100) ?? '';
}

/** The earlier of two ISO timestamps (compared as strings, as the parsers always did). */
export function earlier(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined || (b !== undefined && b < a) ? b : a;
}

/** The later of two ISO timestamps. */
export function later(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined || (b !== undefined && b > a) ? b : a;
}

/** The error a source's `parser` throws on a state it cannot resume from. */
export function badState(tool: ToolName): Error {
  return new Error(`${tool} parser: the saved state is not one this version wrote; parse the session again from the start`);
}

/** The folder an agent keeps its data in: the variable that moves it, and its default under HOME ('' for HOME itself). */
export interface AgentFolder {
  env: string;
  underHome: string;
}

/** What the registry knows of a source before it is created for an environment. */
export interface SourceDefinition {
  readonly tool: ToolName;
  /** People's name of the agent, for messages and docs. */
  readonly label: string;
  /**
   * First segment of its native files' bundle paths (`<prefix>/<path>`): unique, `[a-z0-9-]+`,
   * listed in docs/FORMAT.md. A stored path under another prefix is refused.
   */
  readonly prefix: string;
  readonly folder: AgentFolder;
  /**
   * Files the agent keeps in the repository's work tree (Aider's histories), with the variable
   * that moves each: the hook shims, which run at the top of the work tree, watch them too.
   */
  readonly workTreeFiles?: ReadonlyArray<{ env: string; file: string }>;
  /** True for the bundle paths its parser reads (a session needs at least one); others are only kept. */
  isTranscript(bundlePath: string): boolean;
  /**
   * For `git lore demo`: writes a small realistic session of this agent, run in `cwd`, that wrote
   * `file` with `content`, under the agent folder `dir`; returns its id and the folder it went to.
   */
  plantDemo?(dir: string, cwd: string, file: string, content: string, at: (seconds: number) => string): { sessionId: string; dir: string };
  /**
   * The source for the agent folder `dir` (resolved from `folder`), in an environment whose
   * current folder is `cwd` (given by capture and restore; absent where only the folder shape is
   * wanted, as for the hook shims): for agents that keep their files in the work tree (Aider).
   */
  create(dir: string, report: Reporter, vars: Readonly<Record<string, string | undefined>>, cwd?: string): Source;
}
