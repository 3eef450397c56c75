import { badState, clip, earlier, forEachJsonLine, later, stateKey, type FileEdit, type NormalizedMessage, type ParserState, type Role, type SessionParser, type SessionSummary } from '../types.js';
import { editsOfToolPart } from './edits.js';

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const iso = (ms: unknown): string | undefined => (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : undefined);

const TEXT_MAX = 64 * 1024;
const TOOL_TEXT_MAX = 2000;
/** A legacy JSON file bigger than this is kept in the bundle but not parsed. */
const JSON_MAX = 64 * 1024 * 1024;
/** Tables whose rows a database bundle may hold (src/sources/opencode/database.ts writes them). */
export const ROW_TABLES = ['session', 'message', 'part', 'todo', 'session_message', 'session_input', 'session_context_epoch'] as const;
const KNOWN_PARTS = new Set(['text', 'reasoning', 'tool', 'file', 'step-start', 'step-finish', 'patch', 'agent', 'subtask', 'compaction', 'snapshot', 'retry']);

/** What a session row (database) or session file (legacy tree) says. */
interface Meta {
  title?: string;
  cwd?: string;
  version?: string;
  startedAt?: string;
  updatedAt?: string;
}

/** The kind of an OpenCode bundle path: `db` rows, or a legacy tree file. */
export function pathKind(p: string): 'db' | 'session' | 'message' | 'part' | null {
  const parts = p.split('/');
  if (parts[1] === 'db' && parts.length === 3 && p.endsWith('.jsonl')) return 'db';
  if (parts[1] !== 'storage' || !p.endsWith('.json')) return null;
  if (parts[2] === 'session' && parts.length === 5) return 'session';
  if (parts[2] === 'message' && parts.length === 5) return 'message';
  if (parts[2] === 'part' && parts.length === 5) return 'part';
  return null;
}

/**
 * One reading of an OpenCode session: its database rows (`opencode/db/<id>.jsonl`, one
 * `{"table", "row"}` per line: the session and its subagent sessions, messages, parts) and/or
 * its legacy JSON tree files. The same session in both is one session: messages and parts are
 * counted once per id (OpenCode's 1.2 import copied the tree's ids into the database), and the
 * database's session row wins over the tree's session file for title, folder and times.
 *
 * Not resumable: the database file is rewritten whenever the session changes and the tree's files
 * are rewritten whole, so capture parses the session again on any change (`parser` with a state
 * throws, which makes capture start over with every file).
 */
export class OpenCodeParser implements SessionParser {
  private n = 0;
  private readonly msgs = new Map<string, { turn: number; role: Role; ts?: string }>();
  private readonly parts = new Set<string>();
  private readonly subagents = new Set<string>();
  private readonly meta: { db?: Meta; legacy?: Meta } = {};
  private readonly buf = new Map<string, Buffer[]>();
  private readonly done = new Set<string>();
  private edits: FileEdit[] = [];
  private malformed = 0;
  private unknown = 0;
  private startedAt?: string;
  private updatedAt?: string;

  /** `nativeId`: the session's OpenCode id (its rows and file name); null when unknown (every session row then counts as the main one). */
  constructor(private readonly nativeId: string | null, state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null && state !== undefined) throw badState('opencode');
  }

  feed(p: string, data: Buffer): void {
    const kind = pathKind(p);
    if (kind === 'db') {
      const counters = { malformed: 0 };
      forEachJsonLine(data, counters, (o) => this.row(o));
      this.malformed += counters.malformed;
      return;
    }
    if (!kind) return;
    // The closing brace of a file already read (see tryJson).
    if (this.done.has(p) && !this.buf.has(p) && /^\s*\}?\s*$/.test(data.toString('utf8'))) return;
    // A tree file is one JSON document, fed in pieces of whole lines: gathered, read once complete.
    const parts = this.buf.get(p) ?? [];
    parts.push(data);
    this.buf.set(p, parts);
    this.tryJson(p, kind);
  }

  private tryJson(p: string, kind: 'session' | 'message' | 'part'): void {
    const parts = this.buf.get(p)!;
    if (parts.reduce((a, b) => a + b.length, 0) > JSON_MAX) {
      this.buf.delete(p);
      this.malformed += 1;
      return;
    }
    const text = Buffer.concat(parts).toString('utf8');
    // OpenCode writes `JSON.stringify(x, null, 2)`: the closing `}` has no newline after it, and
    // line-wise readers (capture holds back a last line without one; the search index never
    // passes it) feed the file without it. With `}` added, the text parses only when it is the
    // whole document but that brace (a cut anywhere else leaves a `,` or an open value); the
    // brace, when it comes, is skipped.
    let doc: Json | undefined;
    for (const t of text.endsWith('\n') ? [text, `${text}}`] : [text]) {
      if (!t.trimEnd().endsWith('}')) continue;
      try {
        doc = obj(JSON.parse(t));
        break;
      } catch {
        doc = undefined;
      }
    }
    if (!doc) return;
    this.buf.delete(p);
    this.done.add(p);
    if (kind === 'session') this.session(doc, 'legacy', str(doc.id), str(doc.parentID), doc.directory, obj(doc.time)?.created, obj(doc.time)?.updated);
    else if (kind === 'message') this.message(str(doc.id), doc);
    else this.part(str(doc.id), str(doc.messageID), doc);
  }

  private row(o: Json): void {
    const table = str(o.table);
    const r = obj(o.row);
    if (!table || !r || !(ROW_TABLES as readonly string[]).includes(table)) {
      this.unknown += 1;
      return;
    }
    if (table === 'session') {
      this.session(r, 'db', str(r.id), str(r.parent_id), r.directory, r.time_created, r.time_updated);
      return;
    }
    if (table !== 'message' && table !== 'part') return;
    let data: Json | undefined;
    try {
      data = obj(JSON.parse(str(r.data) ?? ''));
    } catch {
      data = undefined;
    }
    if (!data) {
      this.malformed += 1;
      return;
    }
    if (table === 'message') this.message(str(r.id), data);
    else this.part(str(r.id), str(r.message_id), data);
  }

  private session(r: Json, from: 'db' | 'legacy', id: string | undefined, parent: string | undefined, dir: unknown, created: unknown, updated: unknown): void {
    if (parent && id !== this.nativeId) {
      this.subagents.add(stateKey(id ?? ''));
      return;
    }
    if (this.nativeId !== null && id !== this.nativeId) return;
    const m: Meta = {};
    const title = str(r.title);
    if (title) m.title = title.split('\n')[0]!.trim().slice(0, 100);
    if (typeof dir === 'string' && dir) m.cwd = dir;
    const version = str(r.version);
    if (version) m.version = version;
    const s = iso(created);
    const u = iso(updated);
    if (s) m.startedAt = s;
    if (u) m.updatedAt = u;
    this.meta[from] = m;
  }

  private message(id: string | undefined, info: Json): void {
    if (!id) {
      this.malformed += 1;
      return;
    }
    const t = obj(info.time);
    const created = iso(t?.created);
    if (!this.msgs.has(id)) this.msgs.set(id, { turn: this.msgs.size, role: info.role === 'user' ? 'user' : 'assistant', ...(created ? { ts: created } : {}) });
    this.startedAt = earlier(this.startedAt, created);
    this.updatedAt = later(this.updatedAt, iso(t?.completed) ?? iso(t?.created));
  }

  private part(id: string | undefined, messageId: string | undefined, p: Json): void {
    if (!id) {
      this.malformed += 1;
      return;
    }
    // The same part from the database and the tree: once.
    if (this.parts.has(id)) return;
    this.parts.add(id);
    const type = str(p.type) ?? '';
    if (!KNOWN_PARTS.has(type)) {
      this.unknown += 1;
      return;
    }
    const msg = messageId ? this.msgs.get(messageId) : undefined;
    const turn = msg?.turn ?? Math.max(0, this.msgs.size - 1);
    const role: Role = msg?.role ?? 'assistant';
    const time = obj(p.time) ?? obj(obj(p.state)?.time);
    // Text parts carry no time of their own: their message's.
    const ts = iso(time?.start) ?? msg?.ts;
    const emit = (r: Role, kind: NormalizedMessage['kind'], text: string, toolName?: string): number => {
      const seq = this.n++;
      if (this.sink) this.sink.push({ seq, turn, role: r, kind, text: clip(text, kind === 'text' || kind === 'thinking' ? TEXT_MAX : TOOL_TEXT_MAX), nativeId: id, ...(ts ? { ts } : {}), ...(toolName ? { toolName } : {}) });
      return seq;
    };
    if (type === 'text') {
      const text = str(p.text) ?? '';
      if (text) emit(p.synthetic === true ? 'system' : role, 'text', text);
    } else if (type === 'reasoning') {
      const text = str(p.text) ?? '';
      if (text) emit('assistant', 'thinking', text);
    } else if (type === 'tool') {
      const tool = str(p.tool) ?? '';
      const state = obj(p.state) ?? {};
      const seq = emit('assistant', 'tool_call', this.sink ? JSON.stringify(state.input ?? {}) : '', tool);
      const out = str(state.output) ?? str(state.error);
      if (out) emit('tool', 'tool_result', out, tool);
      for (const e of editsOfToolPart(p)) this.edits.push({ ...e, seq });
    }
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
    const m = this.meta.db ?? this.meta.legacy ?? {};
    return {
      tool: 'opencode',
      ...(m.version ? { toolVersion: m.version } : {}),
      ...(m.cwd ? { cwd: m.cwd } : {}),
      ...(m.startedAt ?? this.startedAt ? { startedAt: m.startedAt ?? this.startedAt } : {}),
      ...(later(m.updatedAt, this.updatedAt) ? { updatedAt: later(m.updatedAt, this.updatedAt) } : {}),
      ...(m.title ? { title: m.title } : {}),
      messageCount: this.msgs.size,
      subagentCount: this.subagents.size,
      // A tree file that never became valid JSON (cut, corrupt) counts as one malformed line.
      malformedLines: this.malformed + this.buf.size,
      unknownLines: this.unknown,
    };
  }

  /** Not resumable (see the class): a state that makes `parser` start over. */
  save(): ParserState {
    return { v: 0, resumable: false };
  }
}
