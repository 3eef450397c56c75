import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { NativeFile } from '../store/bundle.js';
import { readHead, walk, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import type { SourceDefinition } from './types.js';
import {
  ROOT_DEPTH, addedLines, badState, clip, earlier, forEachJsonLine, later, splitLines, stateKey, titleLine, RestoreRefused,
  type DiscoveredFile, type FileEdit, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type SessionSummary, type Source,
} from './types.js';

/**
 * Gemini CLI (docs/agents/gemini-cli.md): `<home>/.gemini/tmp/<project>/chats/session-<time>-<id8>.json`
 * (up to 0.38: one JSON object, rewritten whole) and `….jsonl` (0.39+: a metadata line, one line
 * per message, a repeated message id replaces it, `$set`, `$rewindTo`); subagents in
 * `chats/<parentId>/<id>.jsonl`. `<project>` is `sha256(root)` before 0.29, a slug with
 * `.project_root` after; the same chat can sit in both (and as `.json` and `.jsonl`): listed once.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHAT = /^session-[0-9T:-]+-[0-9a-z]{1,16}\.jsonl?$/i;
const SESSION_ID_IN_HEAD = /"sessionId"\s*:\s*"([0-9a-fA-F-]{36})"/;
const TEXT_MAX = 64 * 1024;
/** A legacy `.json` chat bigger than this is kept in the bundle but not parsed. */
const JSON_MAX = 64 * 1024 * 1024;
/** `.project_root` and `projects.json` are read up to these sizes. */
const ROOT_FILE_MAX = 4096;
const REGISTRY_MAX = 1024 * 1024;

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** Gemini CLI in the registry: bundle prefix `gemini`; `GEMINI_CLI_HOME` replaces the home that holds `.gemini`. */
export const geminiCli: SourceDefinition = {
  tool: 'gemini-cli',
  label: 'Gemini CLI',
  prefix: 'gemini',
  folder: { env: 'GEMINI_CLI_HOME', underHome: '' },
  isTranscript: (p) => /\.jsonl?$/.test(p),
  create: (dir, report) => new GeminiSource(path.join(dir, '.gemini'), report),
  plantDemo(dir, cwd, file, content, at) {
    const sessionId = crypto.randomUUID();
    const root = path.join(dir, '.gemini');
    const slug = path.basename(cwd).toLowerCase().replace(/[^a-z0-9]/g, '-');
    const chats = path.join(root, 'tmp', slug, 'chats');
    fs.mkdirSync(chats, { recursive: true });
    fs.writeFileSync(path.join(root, 'tmp', slug, '.project_root'), cwd);
    fs.writeFileSync(path.join(root, 'projects.json'), JSON.stringify({ projects: { [cwd]: slug } }, null, 2));
    const lines = [
      { sessionId, projectHash: crypto.createHash('sha256').update(cwd).digest('hex'), startTime: at(0), lastUpdated: at(9), kind: 'main' },
      { id: crypto.randomUUID(), timestamp: at(0), type: 'user', content: [{ text: 'Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.' }] },
      {
        id: crypto.randomUUID(), timestamp: at(6), type: 'gemini', content: 'I\'ll write stats.js with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.', model: 'gemini-demo',
        thoughts: [{ subject: 'Plan', description: 'Sort a copy so the caller\'s array is untouched; average the two middle values for an even count.', timestamp: at(4) }],
        toolCalls: [{ id: `write_file-${Date.now()}`, name: 'write_file', args: { file_path: file, content }, status: 'success', timestamp: at(7), result: [{ functionResponse: { name: 'write_file', response: { output: `Successfully created and wrote to new file: ${file}` } } }] }],
      },
      { id: crypto.randomUUID(), timestamp: at(9), type: 'gemini', content: 'Done: stats.js exports median().', model: 'gemini-demo' },
    ];
    const name = `session-${at(0).slice(0, 16).replace(/:/g, '-')}-${sessionId.slice(0, 8)}.jsonl`;
    fs.writeFileSync(path.join(chats, name), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return { sessionId, dir: chats };
  },
};

export class GeminiSource implements Source {
  readonly tool = 'gemini-cli' as const;
  readonly roots: readonly string[];
  constructor(private readonly geminiDir: string, private readonly report: Reporter) {
    this.roots = [path.join(geminiDir, 'tmp')];
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const root = this.roots[0]!;
    const files = walk(root, ROOT_DEPTH, this.report, (rel, isDir) => {
      const parts = rel.split('/');
      if (isDir) return parts.length === 1 || (parts.length === 2 && parts[1] === 'chats') || (parts.length === 3 && parts[1] === 'chats' && UUID.test(parts[2]!));
      return parts[1] === 'chats' || (parts.length === 2 && parts[1] === '.project_root');
    }, listing);
    const roots = new Map<string, string | undefined>();
    let registry: Map<string, string> | null = null;
    const projectRoot = (project: string): string | undefined => {
      if (roots.has(project)) return roots.get(project);
      let r = readSmall(path.join(root, project, '.project_root'), ROOT_FILE_MAX)?.trim();
      if (!r && /^[0-9a-f]{64}$/.test(project)) {
        registry ??= this.hashedRegistry();
        r = registry.get(project);
      }
      const ok = r && path.isAbsolute(r) ? r : undefined;
      roots.set(project, ok);
      return ok;
    };
    // One chat can be in the hash folder and the slug folder (0.29 copies it): keep one per bundle path.
    const byBundle = new Map<string, DiscoveredFile>();
    for (const f of files) {
      const parts = f.rel.split('/');
      let bundlePath: string;
      let sessionId: string | null = null;
      if (parts.length === 3 && CHAT.test(parts[2]!)) bundlePath = `gemini/chats/${parts[2]}`;
      else if (parts.length === 4 && UUID.test(parts[2]!) && /^[0-9a-z-]{1,80}\.jsonl$/i.test(parts[3]!)) {
        bundlePath = `gemini/chats/${parts[2]}/${parts[3]}`;
        sessionId = parts[2]!.toLowerCase();
      } else continue;
      const cwd = projectRoot(parts[0]!);
      const d: DiscoveredFile = { tool: this.tool, absPath: f.abs, bundlePath, size: f.size, mtimeMs: f.mtimeMs, sessionId, ...(cwd ? { cwd } : {}) };
      const had = byBundle.get(bundlePath);
      if (!had || d.size > had.size || (d.size === had.size && d.mtimeMs > had.mtimeMs)) byBundle.set(bundlePath, had?.cwd && !d.cwd ? { ...d, cwd: had.cwd } : d);
    }
    return [...byBundle.values()];
  }

  /** projects.json's roots by their sha256 (the pre-0.29 project folder name). */
  private hashedRegistry(): Map<string, string> {
    const out = new Map<string, string>();
    const text = readSmall(path.join(this.geminiDir, 'projects.json'), REGISTRY_MAX);
    if (!text) return out;
    try {
      const projects = obj(obj(JSON.parse(text))?.projects);
      for (const k of Object.keys(projects ?? {}).slice(0, 10_000)) out.set(crypto.createHash('sha256').update(k).digest('hex'), k);
    } catch {
      // A broken registry only costs the hash folders their repository.
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    const m = SESSION_ID_IN_HEAD.exec(readHead(file.absPath, 8192).toString('utf8'));
    return m ? m[1]!.toLowerCase() : null;
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const messages: NormalizedMessage[] | null = opts.text === false ? null : [];
    const p = new GeminiParser(sessionId, null, messages);
    // A `.json` chat that has a `.jsonl` beside it is that file's past (Gemini resumed it): read the `.jsonl`.
    const paths = new Set(files.map((f) => f.path));
    const read = files.filter((f) => !(f.path.endsWith('.json') && paths.has(`${f.path}l`)));
    for (const f of read.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) p.feed(f.path, f.data);
    const edits = p.takeEdits();
    return { id: sessionId, ...p.summary(), messages: messages ?? [], edits };
  }

  /** The legacy session file is one JSON document Gemini CLI rewrites whole (the JSONL of 0.39+ is appended). */
  wholeDocument(bundlePath: string): boolean {
    return bundlePath.endsWith('.json');
  }

  parser(sessionId: string, state?: ParserState | null): SessionParser {
    return new GeminiParser(sessionId, state ?? null, null);
  }

  /**
   * `chats/session-*.json[l]` (and `chats/<id>/<sub>.jsonl`) into the project folder Gemini CLI
   * uses for `localCwd`: the slug `projects.json` maps it to, else `tmp/<sha256(localCwd)>` (the
   * pre-0.29 name, which 0.29+ copies to a new slug folder on start).
   */
  restoreTarget(bundlePath: string, sessionId: string, localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    const ok = rest[0] === 'chats' && ((rest.length === 2 && CHAT.test(rest[1]!) && rest[1]!.replace(/\.jsonl?$/, '').endsWith(sessionId.slice(0, 8)))
      || (rest.length === 3 && rest[1]!.toLowerCase() === sessionId.toLowerCase() && /^[0-9a-z-]{1,80}\.jsonl$/i.test(rest[2]!)));
    if (!ok) throw new RestoreRefused(bundlePath, `Gemini CLI keeps chats/session-<time>-${sessionId.slice(0, 8)}.json[l] and chats/${sessionId}/<subagent>.jsonl`);
    let project = crypto.createHash('sha256').update(localCwd).digest('hex');
    try {
      const slug = str(obj(obj(JSON.parse(readSmall(path.join(this.geminiDir, 'projects.json'), REGISTRY_MAX) ?? '{}'))?.projects)?.[localCwd]);
      if (slug && /^[a-z0-9][a-z0-9-]{0,100}$/.test(slug)) project = slug;
    } catch {
      // No usable registry: the hash folder.
    }
    return path.join(this.geminiDir, 'tmp', project, ...rest);
  }

  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['gemini', '--resume', sessionId] };
  }
}

/** Reads a small file whole, or null when it is missing, unreadable or bigger than `max`. */
function readSmall(file: string, max: number): string | null {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > max) return null;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

interface SavedState {
  v: 1;
  /** Per transcript file: message id keys in order, and counts. */
  files: Array<[string, FileState]>;
  calls: string[];
  n: number;
  malformed: number;
  unknown: number;
}

interface FileState {
  ids: string[];
  startedAt?: string;
  updatedAt?: string;
  title?: string;
  summary?: string;
}

/**
 * One reading of Gemini chats for `parse` and capture. JSONL lines are fed as they come; a legacy
 * `.json` chat is rewritten whole by Gemini (never appended to), so its bytes are gathered and
 * parsed once complete (capture re-parses a session whenever a non-JSONL file changes). When a
 * chat has both, the `.jsonl` (Gemini's continuation of the `.json`) gives the counts; edits are
 * taken once per tool call id across both.
 */
class GeminiParser implements SessionParser {
  private readonly files = new Map<string, FileState>();
  private readonly calls = new Set<string>();
  private readonly jsonBuf = new Map<string, Buffer[]>();
  private edits: FileEdit[] = [];
  private n = 0;
  private readonly counters = { malformed: 0 };
  private unknown = 0;

  constructor(_sessionId: string, state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null) {
      const s = state as SavedState;
      if (!s || s.v !== 1 || !Array.isArray(s.files) || !Array.isArray(s.calls)) throw badState('gemini-cli');
      for (const [k, f] of s.files) this.files.set(k, f);
      for (const c of s.calls) this.calls.add(c);
      this.n = s.n;
      this.counters.malformed = s.malformed;
      this.unknown = s.unknown;
    }
  }

  feed(p: string, data: Buffer): void {
    if (p.endsWith('.jsonl')) {
      forEachJsonLine(data, this.counters, (o) => this.line(p, o));
      return;
    }
    if (!p.endsWith('.json')) return;
    const parts = this.jsonBuf.get(p) ?? [];
    parts.push(data);
    this.jsonBuf.set(p, parts);
    this.tryJson(p);
  }

  private tryJson(p: string): void {
    const parts = this.jsonBuf.get(p)!;
    const size = parts.reduce((a, b) => a + b.length, 0);
    if (size > JSON_MAX) {
      this.jsonBuf.delete(p);
      this.counters.malformed += 1;
      return;
    }
    const text = Buffer.concat(parts).toString('utf8');
    if (!text.trimEnd().endsWith('}')) return;
    let doc: Json | undefined;
    try {
      doc = obj(JSON.parse(text));
    } catch {
      return;
    }
    this.jsonBuf.delete(p);
    if (!doc) return;
    const { messages, ...meta } = doc;
    this.line(p, meta);
    for (const m of Array.isArray(messages) ? messages.slice(0, 1_000_000) : []) {
      const o = obj(m);
      if (o) this.line(p, o);
    }
  }

  private file(p: string): FileState {
    let f = this.files.get(p);
    if (!f) this.files.set(p, (f = { ids: [] }));
    return f;
  }

  private line(p: string, o: Json): void {
    const f = this.file(p);
    if (typeof o.$rewindTo === 'string') {
      const at = f.ids.indexOf(stateKey(o.$rewindTo));
      if (at >= 0) {
        const gone = new Set(f.ids.slice(at));
        f.ids.length = at;
        if (this.sink) for (let i = this.sink.length - 1; i >= 0; i--) if (gone.has(stateKey(this.sink[i]!.nativeId))) this.sink.splice(i, 1);
      }
      return;
    }
    const set = obj(o.$set);
    if (set) {
      if (Array.isArray(set.messages)) {
        f.ids = [];
        for (const m of set.messages.slice(0, 1_000_000)) if (obj(m)) this.line(p, obj(m)!);
      }
      if (typeof set.summary === 'string') f.summary = titleLine(set.summary);
      f.updatedAt = later(f.updatedAt, str(set.lastUpdated));
      return;
    }
    const id = str(o.id);
    if (id === undefined) {
      if (typeof o.sessionId === 'string') {
        f.startedAt = earlier(f.startedAt, str(o.startTime));
        f.updatedAt = later(f.updatedAt, str(o.lastUpdated));
        if (typeof o.summary === 'string') f.summary = titleLine(o.summary);
      } else this.unknown += 1;
      return;
    }
    const type = str(o.type);
    if (!type || !['user', 'gemini', 'info', 'error', 'warning'].includes(type)) {
      this.unknown += 1;
      return;
    }
    const key = stateKey(id);
    if (!f.ids.includes(key)) f.ids.push(key);
    const ts = str(o.timestamp);
    f.startedAt = earlier(f.startedAt, ts);
    f.updatedAt = later(f.updatedAt, ts);
    const text = contentText(o.content);
    if (type === 'user' && f.title === undefined && text.trim() && !text.startsWith('<session_context>')) f.title = titleLine(text);
    const turn = f.ids.indexOf(key);
    // A message written again replaces its earlier version (tokens, tool results added).
    if (this.sink) for (let i = this.sink.length - 1; i >= 0; i--) if (this.sink[i]!.nativeId === id) this.sink.splice(i, 1);
    const emit = (role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], t: string, toolName?: string) => {
      const seq = this.n++;
      if (this.sink) this.sink.push({ seq, turn, role, kind, text: clip(t, TEXT_MAX), nativeId: id, ...(ts ? { ts } : {}), ...(toolName ? { toolName } : {}) });
      return seq;
    };
    if (type === 'gemini') {
      for (const th of Array.isArray(o.thoughts) ? o.thoughts.slice(0, 1000) : []) {
        const t = obj(th);
        if (t) emit('assistant', 'thinking', [str(t.subject), str(t.description)].filter(Boolean).join(': '));
      }
      if (text) emit('assistant', 'text', text);
      for (const c of Array.isArray(o.toolCalls) ? o.toolCalls.slice(0, 10_000) : []) {
        const call = obj(c);
        if (!call) continue;
        const name = str(call.name) ?? '';
        const seq = emit('assistant', 'tool_call', JSON.stringify(call.args ?? {}).slice(0, 2000), name);
        if (call.status !== 'success') continue;
        const ck = stateKey(`${str(call.id) ?? `${id}/${name}`}`);
        if (this.calls.has(ck)) continue;
        const edit = editOf(seq, name, obj(call.args), str(call.timestamp) ?? ts);
        if (!edit) continue;
        this.calls.add(ck);
        this.edits.push(edit);
      }
    } else if (text) emit(type === 'user' ? 'user' : 'system', 'text', text);
  }

  /** The file whose messages count: the `.jsonl` main chat if any, else the `.json`. */
  private mainFile(): string | undefined {
    const top = [...this.files.keys()].filter((k) => k.split('/').length === 3);
    return top.find((k) => k.endsWith('.jsonl')) ?? top.find((k) => k.endsWith('.json')) ?? [...this.files.keys()][0];
  }

  takeEdits(): FileEdit[] {
    const out = this.edits;
    this.edits = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    return [];
  }

  summary(): SessionSummary {
    const main = this.files.get(this.mainFile() ?? '');
    const subs = [...this.files.keys()].filter((k) => k.split('/').length === 4);
    const title = main?.summary || main?.title;
    return {
      tool: 'gemini-cli',
      ...(main?.startedAt ? { startedAt: main.startedAt } : {}),
      ...(main?.updatedAt ? { updatedAt: main.updatedAt } : {}),
      ...(title ? { title } : {}),
      messageCount: (main?.ids.length ?? 0) + subs.reduce((a, k) => a + this.files.get(k)!.ids.length, 0),
      subagentCount: subs.length,
      // A `.json` chat that never became valid JSON (cut, corrupt) counts as one malformed line.
      malformedLines: this.counters.malformed + this.jsonBuf.size,
      unknownLines: this.unknown,
    };
  }

  save(): ParserState {
    const s: SavedState = { v: 1, files: [...this.files], calls: [...this.calls], n: this.n, malformed: this.counters.malformed, unknown: this.unknown };
    return s;
  }
}

/** The text of a message's `content`: a string, or parts `[{text}]`. */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c.slice(0, 1000).map((p) => str(obj(p)?.text) ?? '').filter(Boolean).join('\n');
}

/** `write_file` (whole file) and `replace` (old_string -> new_string) with the lines they added. */
function editOf(seq: number, name: string, args: Json | undefined, ts: string | undefined): FileEdit | null {
  const file = str(args?.file_path);
  if (!file) return null;
  if (name === 'write_file') {
    const content = str(args!.content) ?? '';
    return { seq, path: file, op: 'write', toolName: name, added: splitLines(content), ...(ts ? { ts } : {}) };
  }
  if (name === 'replace') {
    return { seq, path: file, op: 'edit', toolName: name, added: addedLines(str(args!.old_string) ?? '', str(args!.new_string) ?? ''), ...(ts ? { ts } : {}) };
  }
  return null;
}
