import path from 'node:path';
import {
  addedLines, badState, clip, earlier, forEachJsonLine, later, splitLines, stateKey, titleLine,
  type EditOp, type FileEdit, type NormalizedMessage, type ParserState,
  type SessionParser, type SessionSummary,
} from './types.js';

const KNOWN_TYPES = new Set([
  'user', 'assistant', 'summary', 'system', 'file-history-snapshot', 'queue-operation', 'progress',
  'custom-title', 'ai-title', 'last-prompt', 'attachment', 'tag', 'agent-name', 'pr-link',
]);
const EDIT_TOOLS: Record<string, EditOp> = { Edit: 'edit', MultiEdit: 'multiedit', Write: 'write', NotebookEdit: 'notebook' };
const TEXT_MAX = 64 * 1024;
const TOOL_TEXT_MAX = 2000;

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** The incremental parser of Claude Code transcripts (src/sources/claude-code.ts is the source). */

interface Sink {
  messages: NormalizedMessage[];
  text: boolean;
}

/** A tool call that may edit a file, waiting for its result: only the input fields editOf reads. */
interface PendingCall {
  seq: number;
  name: string;
  input: Json;
  ts?: string;
}

/**
 * What summary and title lines did to the title, as a function of the title before the file:
 * [from none, from '', from a non-empty title ('*': left as it was)]. A title is encoded as null
 * (none), '' (an empty string) or '=' followed by its title line.
 */
type TitleCode = string | null;
type TitleEffect = [TitleCode, TitleCode, TitleCode];

/** What a parser keeps of one file: first values and state that runs across its lines. */
interface FileState {
  /** Message parts read from this file (keys the turn of a line with no id). */
  n: number;
  /** Main file only: the first cwd, branch and version. */
  cwd?: string;
  branch?: string;
  version?: string;
  /** Title line of the first prompt ('' when it has none). */
  prompt?: string;
  title: TitleEffect;
  pending: Map<string, PendingCall>;
}

interface SavedState {
  v: 1;
  n: number;
  turns: string[];
  agents: string[];
  startedAt?: string;
  updatedAt?: string;
  malformed: number;
  unknown: number;
  files: Array<[string, Omit<FileState, 'pending'> & { pending: Array<[string, PendingCall]> }]>;
}

const INPUT_FIELDS = ['file_path', 'notebook_path', 'content', 'old_string', 'new_string', 'edits', 'new_source'];
const encodeTitle = (t: string | undefined): TitleCode => (t === undefined ? null : t === '' ? '' : `=${titleLine(t)}`);

/**
 * The one reading of Claude Code lines, used whole by `parse` (with a sink for messages) and piece
 * by piece by capture. State that runs across lines is kept per file (tool calls wait for a result
 * from their own file; a line with no id is keyed by its place in its file), so that the order in
 * which files are fed does not matter; first values and titles are combined in `parse`'s file order
 * (main file, then subagent files by path) when summarized.
 */
export class ClaudeParser implements SessionParser {
  private n = 0;
  private readonly turns = new Map<string, number>();
  private readonly agents = new Set<string>();
  private startedAt: string | undefined;
  private updatedAt: string | undefined;
  private readonly counters = { malformed: 0 };
  private unknown = 0;
  private readonly files = new Map<string, FileState>();
  private done: FileEdit[] = [];

  constructor(private readonly sessionId: string, state: ParserState | null, private readonly sink: Sink | null) {
    if (state !== null) this.load(state);
  }

  /** 'main' for the session's own transcript, 'agent' for a subagent's, null for files not parsed. */
  kind(p: string): 'main' | 'agent' | null {
    if (p.endsWith(`/${this.sessionId}.jsonl`) && !p.includes('/subagents/')) return 'main';
    if (p.endsWith('.jsonl') && (p.includes('/subagents/') || /\/agent-[^/]+\.jsonl$/.test(p))) return 'agent';
    return null;
  }

  /** Files in the order `parse` reads them: the main file, then subagent files, each by path. */
  ordered<T extends { path: string }>(files: T[]): T[] {
    const byPath = (a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    return [...files.filter((f) => this.kind(f.path) === 'main').sort(byPath), ...files.filter((f) => this.kind(f.path) === 'agent').sort(byPath)];
  }

  feed(filePath: string, data: Buffer): void {
    const kind = this.kind(filePath);
    if (!kind) return;
    let f = this.files.get(filePath);
    if (!f) {
      f = { n: 0, title: [null, '', '*'], pending: new Map() };
      this.files.set(filePath, f);
    }
    const file = f;
    const main = kind === 'main';
    const fileAgent = main ? undefined : path.basename(filePath, '.jsonl').replace(/^agent-/, '');
    forEachJsonLine(data, this.counters, (line) => this.line(filePath, file, main, fileAgent, line));
  }

  takeEdits(): FileEdit[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    const out: FileEdit[] = [];
    for (const f of this.files.values()) {
      for (const p of f.pending.values()) {
        const edit = editOf(p, undefined, p.ts);
        if (edit) out.push(edit);
      }
    }
    return out;
  }

  summary(): SessionSummary {
    const s: SessionSummary = {
      tool: 'claude-code', messageCount: this.turns.size, subagentCount: this.agents.size,
      malformedLines: this.counters.malformed, unknownLines: this.unknown,
    };
    const ordered = this.ordered([...this.files.keys()].map((p) => ({ path: p }))).map((f) => f.path);
    let title: TitleCode = null;
    let prompt: string | undefined;
    for (const p of ordered) {
      const f = this.files.get(p)!;
      s.cwd ??= f.cwd;
      s.gitBranch ??= f.branch;
      s.toolVersion ??= f.version;
      prompt ??= f.prompt;
      title = title === null ? f.title[0] : title === '' ? f.title[1] : f.title[2] === '*' ? title : f.title[2];
    }
    const t = title === null ? prompt : title === '' ? '' : title.slice(1);
    if (t) s.title = t;
    if (this.startedAt !== undefined) s.startedAt = this.startedAt;
    if (this.updatedAt !== undefined) s.updatedAt = this.updatedAt;
    for (const k of ['cwd', 'gitBranch', 'toolVersion'] as const) if (s[k] === undefined) delete s[k];
    return s;
  }

  save(): ParserState {
    const state: SavedState = {
      v: 1, n: this.n, turns: [...this.turns.keys()], agents: [...this.agents], malformed: this.counters.malformed, unknown: this.unknown,
      files: [...this.files].map(([p, f]) => [p, { ...f, pending: [...f.pending] }]),
    };
    if (this.startedAt !== undefined) state.startedAt = this.startedAt;
    if (this.updatedAt !== undefined) state.updatedAt = this.updatedAt;
    return state;
  }

  private load(state: ParserState): void {
    const s = state as Partial<SavedState> | null;
    if (!s || s.v !== 1 || !Array.isArray(s.turns) || !Array.isArray(s.agents) || !Array.isArray(s.files)) throw badState('claude-code');
    this.n = s.n ?? 0;
    s.turns.forEach((k, i) => this.turns.set(k, i));
    for (const a of s.agents) this.agents.add(a);
    this.startedAt = s.startedAt ?? undefined;
    this.updatedAt = s.updatedAt ?? undefined;
    this.counters.malformed = s.malformed ?? 0;
    this.unknown = s.unknown ?? 0;
    for (const [p, f] of s.files) this.files.set(p, { ...f, pending: new Map(f.pending) });
  }

  private turnOf(key: string): number {
    // Hashed only for a state that may be saved: parse's parser never is, and hashing costs it time.
    const k = this.sink ? key : stateKey(key);
    let t = this.turns.get(k);
    if (t === undefined) {
      t = this.turns.size;
      this.turns.set(k, t);
    }
    return t;
  }

  // Built field by field: object spreads here were a third of capture's parse time.
  private push(f: FileState, turn: number, role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], text: string | (() => string), ts: string | undefined, nativeId: string, agentId: string | undefined, toolName?: string): void {
    if (this.sink) {
      const m: NormalizedMessage = { seq: this.n, turn, role, kind, text: typeof text === 'string' ? text : this.sink.text ? text() : '', ts, nativeId };
      if (agentId) m.agentId = agentId;
      if (toolName) m.toolName = toolName;
      this.sink.messages.push(m);
    }
    this.n += 1;
    f.n += 1;
  }

  private line(filePath: string, f: FileState, main: boolean, fileAgent: string | undefined, line: Json): void {
    const type = str(line.type);
    if (!type || !KNOWN_TYPES.has(type)) {
      this.unknown += 1;
      return;
    }
    const ts = str(line.timestamp);
    if (main) {
      f.cwd ??= str(line.cwd);
      f.branch ??= str(line.gitBranch) || undefined;
      f.version ??= str(line.version);
    }
    if (type === 'summary') {
      const t = encodeTitle(str(line.summary));
      f.title = f.title.map((c) => (c === null || c === '' ? t : c)) as TitleEffect;
    }
    if (type === 'custom-title' || type === 'ai-title') {
      const t = str(line.title) ?? str(line.customTitle);
      if (t !== undefined) f.title = [encodeTitle(t), encodeTitle(t), encodeTitle(t)];
    }
    if (type !== 'user' && type !== 'assistant') return;
    const message = obj(line.message);
    if (!message) return;
    if (ts) {
      this.startedAt = earlier(this.startedAt, ts);
      this.updatedAt = later(this.updatedAt, ts);
    }
    const agentId = str(line.agentId) ?? fileAgent;
    if (agentId) this.agents.add(agentId);
    const scope = agentId ?? '';
    // A line with neither id is keyed by its place: its file and the parts read from it so far.
    const lineKey = `\0${filePath}\0${f.n}`;
    const lineId = `line-${this.n}`;
    if (type === 'assistant') {
      const id = str(message.id) ?? str(line.uuid);
      const nativeId = id ?? lineId;
      const turn = this.turnOf(`${scope}/a/${id ?? lineKey}`);
      const content = message.content;
      const blocks = Array.isArray(content) ? content : typeof content === 'string' ? [{ type: 'text', text: content }] : [];
      for (const b of blocks) {
        const block = obj(b);
        if (!block) continue;
        const bt = str(block.type);
        if (bt === 'text') this.push(f, turn, 'assistant', 'text', () => clip(str(block.text) ?? '', TEXT_MAX), ts, nativeId, agentId);
        else if (bt === 'thinking') this.push(f, turn, 'assistant', 'thinking', () => clip(str(block.thinking) ?? '', TEXT_MAX), ts, nativeId, agentId);
        else if (bt === 'tool_use') {
          const name = str(block.name) ?? 'tool';
          const input = obj(block.input) ?? {};
          this.push(f, turn, 'assistant', 'tool_call', () => clip(JSON.stringify(input), TOOL_TEXT_MAX), ts, nativeId, agentId, name);
          const id = str(block.id);
          if (EDIT_TOOLS[name] && id) {
            const kept: Json = {};
            for (const k of INPUT_FIELDS) if (input[k] !== undefined) kept[k] = input[k];
            f.pending.set(id, { seq: this.n - 1, name, input: kept, ...(ts ? { ts } : {}) });
          }
        }
      }
    } else {
      const id = str(line.uuid);
      const nativeId = id ?? lineId;
      const turn = this.turnOf(`${scope}/u/${id ?? lineKey}`);
      const content = message.content;
      if (typeof content === 'string') {
        this.push(f, turn, 'user', 'text', () => clip(content, TEXT_MAX), ts, nativeId, agentId);
        if (f.prompt === undefined && content && !line.isMeta && !agentId) f.prompt = titleLine(content);
        return;
      }
      if (!Array.isArray(content)) return;
      for (const b of content) {
        const block = obj(b);
        if (!block) continue;
        const bt = str(block.type);
        if (bt === 'text') {
          const text = str(block.text) ?? '';
          this.push(f, turn, 'user', 'text', () => clip(text, TEXT_MAX), ts, nativeId, agentId);
          if (f.prompt === undefined && text && !line.isMeta && !agentId) f.prompt = titleLine(text);
        } else if (bt === 'image') this.push(f, turn, 'user', 'text', '[image]', ts, nativeId, agentId);
        else if (bt === 'tool_result') {
          const useId = str(block.tool_use_id) ?? '';
          this.push(f, turn, 'tool', 'tool_result', () => clip(resultText(block.content), TOOL_TEXT_MAX), ts, nativeId, agentId);
          const p = f.pending.get(useId);
          if (p) {
            f.pending.delete(useId);
            if (block.is_error === true) continue;
            const edit = editOf(p, obj(line.toolUseResult), ts);
            if (edit) this.done.push(edit);
          }
        }
      }
    }
  }
}

function editOf(p: PendingCall, result: Json | undefined, ts: string | undefined): FileEdit | null {
  const input = p.input;
  const file = str(input.file_path) ?? str(input.notebook_path) ?? str(result?.filePath);
  if (!file) return null;
  const op = EDIT_TOOLS[p.name]!;
  const resultFile = str(result?.filePath);
  const usable = result && (!resultFile || resultFile === file) ? result : undefined;
  const patch = usable?.structuredPatch;
  let added: string[];
  if (Array.isArray(patch) && patch.length > 0) {
    added = [];
    for (const h of patch) {
      const lines = obj(h)?.lines;
      if (!Array.isArray(lines)) continue;
      for (const l of lines) if (typeof l === 'string' && l.startsWith('+')) added.push(l.slice(1));
    }
  } else if (op === 'write') {
    added = splitLines(str(input.content) ?? str(usable?.content) ?? '');
  } else if (op === 'edit') {
    added = addedLines(str(input.old_string) ?? '', str(input.new_string) ?? '');
  } else if (op === 'multiedit') {
    added = [];
    const edits = Array.isArray(input.edits) ? input.edits : [];
    for (const e of edits) added.push(...addedLines(str(obj(e)?.old_string) ?? '', str(obj(e)?.new_string) ?? ''));
  } else {
    added = splitLines(str(input.new_source) ?? '');
  }
  return { seq: p.seq, path: file, op, toolName: p.name, ...(ts ? { ts } : {}), added };
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((c) => {
        const o = obj(c);
        if (!o) return '';
        if (o.type === 'text') return str(o.text) ?? '';
        if (o.type === 'image') return '[image]';
        return '';
      })
      .join('\n');
  }
  return '';
}

/** A small but realistic Claude Code transcript: prompt, thinking, a Write with its result, a reply. */
