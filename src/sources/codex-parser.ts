import path from 'node:path';
import { contentText, editsOf, opsOf, patchOf, patchSucceeded, summaryText, type PendingPatch } from './codex-items.js';
import {
  badState, clip, earlier, forEachJsonLine, later, stateKey, titleLine,
  type FileEdit, type NormalizedMessage, type ParserState, type Role,
  type SessionParser, type SessionSummary,
} from './types.js';

const ROLLOUT = /^rollout-.*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;
const TEXT_MAX = 64 * 1024;
const TOOL_TEXT_MAX = 2000;
const KNOWN_ITEMS = new Set([
  'message', 'reasoning', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output',
  'web_search_call', 'local_shell_call', 'ghost_snapshot', 'compaction',
]);
const KNOWN_LINES = new Set(['session_meta', 'turn_context', 'response_item', 'event_msg', 'compacted']);

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** The incremental parser of Codex rollouts (src/sources/codex.ts is the source). */


/** What a parser keeps of one rollout file. */
interface FileState {
  /** JSON lines read from this file (keys a call or output with no id). */
  lines: number;
  /** The cwd of the current turn, which relative patch paths are joined to. */
  cwd?: string;
  /** First values: cwd, version, branch, and the timestamp of session_meta. */
  firstCwd?: string;
  version?: string;
  branch?: string;
  meta?: string;
  /** Before `meta`: whether a message with a timestamp surely counted, and the keys of events that count unless an item repeats them. */
  pre: boolean;
  preKeys: string[];
  /** Title line of the first user item, and the user events before it: [key, title line]. */
  prompt?: string;
  cands: Array<[string, string]>;
  pending: Map<string, PendingPatch>;
}

/** Events not repeated by an item (so far): how many, and their earliest and latest timestamps. */
interface EventGroup {
  count: number;
  min?: string;
  max?: string;
}

interface SavedState {
  v: 1;
  next: number;
  lines: number;
  items: string[];
  events: Array<[string, EventGroup]>;
  count: number;
  min?: string;
  max?: string;
  malformed: number;
  unknown: number;
  files: Array<[string, Omit<FileState, 'pending'> & { pending: Array<[string, PendingPatch]> }]>;
}

/**
 * The one reading of Codex rollout lines, used whole by `parse` (with a sink for messages and the
 * items indexed first) and piece by piece by capture. An event that repeats an item is not counted,
 * whichever comes first: events are counted by key until an item with that key turns up. State
 * that runs across lines (the turn's cwd, calls waiting for output) is kept per file; first values
 * are combined in path order when summarized.
 */
export class CodexParser implements SessionParser {
  /** The seq the next tool call may take at the least. */
  private next = 0;
  private lines = 0;
  private readonly items = new Set<string>();
  private readonly events = new Map<string, EventGroup>();
  /** Messages counted for sure, and their earliest and latest timestamps; events counted so far. */
  private count = 0;
  private eventCount = 0;
  private min: string | undefined;
  private max: string | undefined;
  private malformed = 0;
  private unknown = 0;
  private readonly files = new Map<string, FileState>();
  private done: FileEdit[] = [];

  constructor(state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null) this.load(state);
  }

  feed(filePath: string, data: Buffer): void {
    if (!ROLLOUT.test(path.basename(filePath))) return;
    const f = this.file(filePath);
    const counters = { malformed: 0 };
    forEachJsonLine(data, counters, (l) => {
      this.noteItem(l);
      this.line(f, l);
    });
    this.malformed += counters.malformed;
  }

  takeEdits(): FileEdit[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    const out: FileEdit[] = [];
    for (const f of this.files.values()) for (const p of f.pending.values()) out.push(...editsOf(p, p.ts));
    return out;
  }

  summary(): SessionSummary {
    const s: SessionSummary = { tool: 'codex', messageCount: this.count, subagentCount: 0, malformedLines: this.malformed, unknownLines: this.unknown };
    let min = this.min;
    let max = this.max;
    s.messageCount += this.eventCount;
    for (const g of this.events.values()) {
      min = earlier(min, g.min);
      max = later(max, g.max);
    }
    // startedAt: session_meta's timestamp unless a message with a timestamp came before it, then
    // lowered by any earlier message.
    let startedAt: string | undefined;
    let decided = false;
    let title: string | undefined;
    let titled = false;
    for (const p of [...this.files.keys()].sort()) {
      const f = this.files.get(p)!;
      s.cwd ??= f.firstCwd;
      s.toolVersion ??= f.version;
      s.gitBranch ??= f.branch;
      if (!decided && (f.pre || f.preKeys.some((k) => this.events.has(k)))) {
        startedAt = min;
        decided = true;
      } else if (!decided && f.meta !== undefined) {
        startedAt = f.meta ? earlier(f.meta, min) : min ?? '';
        decided = true;
      }
      if (!titled) {
        const c = f.cands.find(([k]) => !this.items.has(k));
        if (c) [title, titled] = [c[1], true];
        else if (f.prompt !== undefined) [title, titled] = [f.prompt, true];
      }
    }
    if (!decided) startedAt = min;
    if (startedAt !== undefined) s.startedAt = startedAt;
    if (max !== undefined) s.updatedAt = max;
    if (title) s.title = title;
    for (const k of ['cwd', 'gitBranch', 'toolVersion'] as const) if (s[k] === undefined) delete s[k];
    return s;
  }

  save(): ParserState {
    const state: SavedState = {
      v: 1, next: this.next, lines: this.lines, items: [...this.items], events: [...this.events], count: this.count,
      malformed: this.malformed, unknown: this.unknown, files: [...this.files].map(([p, f]) => [p, { ...f, pending: [...f.pending] }]),
    };
    if (this.min !== undefined) state.min = this.min;
    if (this.max !== undefined) state.max = this.max;
    return state;
  }

  private load(state: ParserState): void {
    const s = state as Partial<SavedState> | null;
    if (!s || s.v !== 1 || !Array.isArray(s.items) || !Array.isArray(s.events) || !Array.isArray(s.files)) throw badState('codex');
    this.next = s.next ?? 0;
    this.lines = s.lines ?? 0;
    for (const k of s.items) this.items.add(k);
    for (const [k, g] of s.events) {
      this.events.set(k, g);
      this.eventCount += g.count;
    }
    this.count = s.count ?? 0;
    this.min = s.min ?? undefined;
    this.max = s.max ?? undefined;
    this.malformed = s.malformed ?? 0;
    this.unknown = s.unknown ?? 0;
    for (const [p, f] of s.files) this.files.set(p, { ...f, pending: new Map(f.pending) });
  }

  /** The state of a file, created on first use. */
  file(filePath: string): FileState {
    let f = this.files.get(filePath);
    if (!f) {
      f = { lines: 0, pre: false, preKeys: [], cands: [], pending: new Map() };
      this.files.set(filePath, f);
    }
    return f;
  }

  addMalformed(n: number): void {
    this.malformed += n;
  }

  /** Indexes the text of an item that events may repeat; events counted so far with that text no longer count. */
  noteItem(l: Json): void {
    const p = obj(l.payload);
    if (l.type !== 'response_item' || !p) return;
    let key: string;
    if (p.type === 'message') key = stateKey(`${p.role}\0${contentText(p.content)}`);
    else if (p.type === 'reasoning') key = stateKey(`reasoning\0${summaryText(p.summary)}`);
    else return;
    this.items.add(key);
    const g = this.events.get(key);
    if (g) {
      this.eventCount -= g.count;
      this.events.delete(key);
    }
  }

  private add(m: Omit<NormalizedMessage, 'seq' | 'turn'>): void {
    if (!this.sink) return;
    const full = m as NormalizedMessage;
    full.seq = this.sink.length;
    full.turn = this.sink.length;
    this.sink.push(full);
  }

  /**
   * The seq of a tool call: the messages counted before it, as `parse` numbers them unless an event
   * before the call is repeated by an item after it; never less than the previous call's seq + 1.
   */
  private seqOfCall(): number {
    const seq = Math.max(this.next, this.count + this.eventCount);
    this.next = seq + 1;
    return seq;
  }

  /** A message counted for sure (not an event). */
  private counted(f: FileState, ts: string | undefined): void {
    this.count += 1;
    if (!ts) return;
    this.min = earlier(this.min, ts);
    this.max = later(this.max, ts);
    if (f.meta === undefined && !f.pre) {
      f.pre = true;
      f.preKeys = [];
    }
  }

  /** An event counted until an item with the same key turns up; false when one already has. */
  private event(f: FileState, key: string, ts: string | undefined): boolean {
    if (this.items.has(key)) return false;
    let g = this.events.get(key);
    if (!g) {
      g = { count: 0 };
      this.events.set(key, g);
    }
    g.count += 1;
    this.eventCount += 1;
    if (ts) {
      g.min = earlier(g.min, ts);
      g.max = later(g.max, ts);
      if (f.meta === undefined && !f.pre && !f.preKeys.includes(key)) f.preKeys.push(key);
    }
    return true;
  }

  line(f: FileState, l: Json): void {
    const key = `line-${this.lines}`;
    // Calls and outputs with no id never pair up: a key of their own place in the file.
    const localKey = `\0${f.lines}`;
    this.lines += 1;
    f.lines += 1;
    const type = str(l.type);
    const p = obj(l.payload);
    const ts = str(l.timestamp);
    if (!type || !KNOWN_LINES.has(type) || !p) {
      this.unknown += 1;
      return;
    }
    if (type === 'session_meta') {
      f.firstCwd ??= str(p.cwd);
      f.version ??= str(p.cli_version);
      f.meta ??= str(p.timestamp);
      f.branch ??= str(obj(p.git)?.branch);
      f.cwd ??= str(p.cwd);
      return;
    }
    if (type === 'turn_context') {
      f.cwd = str(p.cwd) ?? f.cwd;
      f.firstCwd ??= f.cwd;
      return;
    }
    if (type === 'compacted') return;
    if (type === 'event_msg') {
      const et = str(p.type);
      if (et === 'user_message' || et === 'agent_message') {
        const role: Role = et === 'user_message' ? 'user' : 'assistant';
        const text = str(p.message) ?? '';
        const k = stateKey(`${role}\0${text}`);
        if (!this.event(f, k, ts)) return;
        this.add({ role, kind: 'text', text: this.sink ? clip(text, TEXT_MAX) : '', ts, nativeId: key });
        if (role === 'user' && f.prompt === undefined && !f.cands.some(([c]) => c === k)) f.cands.push([k, titleLine(text)]);
      } else if (et === 'agent_reasoning') {
        const text = str(p.text) ?? '';
        if (!text || !this.event(f, stateKey(`reasoning\0${text}`), ts)) return;
        this.add({ role: 'assistant', kind: 'thinking', text: this.sink ? clip(text, TEXT_MAX) : '', ts, nativeId: key });
      }
      return;
    }
    // response_item
    const it = str(p.type);
    if (!it || !KNOWN_ITEMS.has(it)) {
      this.unknown += 1;
      return;
    }
    if (it === 'ghost_snapshot' || it === 'compaction') return;
    if (it === 'message') {
      const text = contentText(p.content);
      const r = str(p.role);
      const injected = r === 'developer' || r === 'system' || /^\s*<(environment_context|user_instructions)>/.test(text);
      const role: Role = injected ? 'system' : r === 'assistant' ? 'assistant' : 'user';
      this.counted(f, ts);
      this.add({ role, kind: 'text', text: this.sink ? clip(text, TEXT_MAX) : '', ts, nativeId: str(p.id) ?? key });
      if (role === 'user') f.prompt ??= titleLine(text);
    } else if (it === 'reasoning') {
      this.counted(f, ts);
      this.add({ role: 'assistant', kind: 'thinking', text: this.sink ? clip(summaryText(p.summary), TEXT_MAX) : '', ts, nativeId: str(p.id) ?? key });
    } else if (it === 'function_call' || it === 'custom_tool_call' || it === 'local_shell_call' || it === 'web_search_call') {
      const name = str(p.name) ?? it;
      const id = str(p.call_id) ?? str(p.id);
      const input = it === 'custom_tool_call' ? str(p.input) ?? '' : str(p.arguments) ?? JSON.stringify(p.action ?? {});
      const seq = this.seqOfCall();
      this.counted(f, ts);
      this.add({ role: 'assistant', kind: 'tool_call', toolName: name, text: this.sink ? clip(input, TOOL_TEXT_MAX) : '', ts, nativeId: id ?? key });
      const patch = patchOf(name, it, input);
      if (patch) f.pending.set(id ?? localKey, { seq, name, ops: opsOf(patch, f.cwd), ...(ts ? { ts } : {}) });
    } else if (it === 'function_call_output' || it === 'custom_tool_call_output') {
      const id = str(p.call_id);
      const out = typeof p.output === 'string' ? p.output : JSON.stringify(p.output ?? '');
      this.counted(f, ts);
      this.add({ role: 'tool', kind: 'tool_result', text: this.sink ? clip(out, TOOL_TEXT_MAX) : '', ts, nativeId: `${id ?? key}:output` });
      const callId = id ?? localKey;
      const pend = f.pending.get(callId);
      if (pend) {
        f.pending.delete(callId);
        if (patchSucceeded(out)) this.done.push(...editsOf(pend, ts));
      }
    }
  }
}
