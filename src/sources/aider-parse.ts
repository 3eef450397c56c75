import {
  addedLines, badState, clip, earlier, later, splitLines, titleLine,
  type FileEdit, type NormalizedMessage, type ParserState, type SessionParser, type SessionSummary,
} from './types.js';

/**
 * Aider's `.aider.chat.history.md` (docs/agents/aider.md), read line by line as it is appended
 * (aider/io.py `append_chat_history`): each run starts `# aider chat started at <local time>`;
 * the user's input lines start `#### `, aider's own output lines `> ` (both end in two spaces, a
 * Markdown line break), the model's reply is the plain text between them. Edits are the reply's
 * SEARCH/REPLACE blocks (aider/coders/editblock_coder.py), counted once a later
 * `> Applied edit to <path>` names their file before the next input; the others were not applied.
 */

const TEXT_MAX = 64 * 1024;
/** Lines kept of one SEARCH or REPLACE section in the parser's state; a longer block is not an edit. */
const BLOCK_LINES_MAX = 20_000;
const HEAD = /^<{5,9} SEARCH>?\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const UPDATED = /^>{5,9} REPLACE\s*$/;
const FENCE = /^(```|~~~)/;
/** The tool name of an edit block (aider has no tools: the reply's SEARCH/REPLACE blocks are its edits). */
const TOOL = 'search-replace';

type Block = 'none' | 'user' | 'tool' | 'assistant';

interface Pending {
  seq: number;
  path: string;
  op: 'edit' | 'write';
  added: string[];
  ts?: string;
}

interface SavedState {
  v: 1;
  n: number;
  turns: number;
  block: Block;
  /** seq of the current message (the reply whose blocks are being read). */
  at: number;
  runTs?: string;
  version?: string;
  title?: string;
  startedAt?: string;
  updatedAt?: string;
  /** The last three lines of the reply (a block's file name is on one of them), and the last file named. */
  recent: string[];
  lastFile?: string;
  sr: { file: string; mode: 'search' | 'replace'; search: string[]; replace: string[] } | null;
  /** The current message is a block's call: reply text after it starts a new message. */
  afterCall: boolean;
  pending: Pending[];
  unknown: number;
}

/** `YYYY-MM-DD HH:MM:SS` as aider writes it (local time, no zone) read in this machine's zone; undefined if not that shape. */
export function aiderTime(s: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(s.trim());
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The file name a SEARCH block belongs to, from the lines before it (aider's find_filename): the nearest that is not a fence. */
function fileNameIn(recent: readonly string[]): string | undefined {
  for (const l of [...recent].reverse()) {
    const t = l.trim();
    if (!t || FENCE.test(t)) continue;
    const name = t.replace(/^#+\s*/, '').replace(/:$/, '').replace(/^[`*]+|[`*]+$/g, '').trim();
    return name && !/\s{2,}/.test(name) && name.length < 1024 ? name : undefined;
  }
  return undefined;
}

export class AiderParser implements SessionParser {
  private s: SavedState = { v: 1, n: 0, turns: 0, block: 'none', at: -1, recent: [], sr: null, afterCall: false, pending: [], unknown: 0 };
  private done: FileEdit[] = [];
  /** Partial last line of a feed (capture feeds whole lines; `parse` may be given anything). */
  private current: NormalizedMessage | null = null;

  constructor(state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null) {
      const s = state as SavedState;
      if (!s || s.v !== 1 || typeof s.n !== 'number' || !Array.isArray(s.pending) || !Array.isArray(s.recent)) throw badState('aider');
      this.s = { ...s, recent: [...s.recent], pending: [...s.pending], sr: s.sr ? { ...s.sr, search: [...s.sr.search], replace: [...s.sr.replace] } : null };
    }
  }

  feed(p: string, data: Buffer): void {
    if (!p.endsWith('.aider.chat.history.md')) return;
    for (const raw of splitLines(data.toString('utf8'))) this.line(raw);
  }

  private start(block: Block, role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], counts: boolean, toolName?: string): void {
    this.s.block = block;
    this.s.afterCall = false;
    if (counts) this.s.turns += 1;
    this.s.at = this.s.n++;
    this.current = null;
    if (this.sink) {
      this.current = { seq: this.s.at, turn: Math.max(0, this.s.turns - 1), role, kind, text: '', nativeId: `${this.s.at}`, ...(this.s.runTs ? { ts: this.s.runTs } : {}), ...(toolName ? { toolName } : {}) };
      this.sink.push(this.current);
    }
  }

  private text(t: string): void {
    if (this.current && this.current.text.length < TEXT_MAX) this.current.text = clip(this.current.text ? `${this.current.text}\n${t}` : t, TEXT_MAX);
  }

  /** Edits of the last reply that no `Applied edit to` confirmed are dropped at the next input or run. */
  private dropPending(): void {
    this.s.pending = [];
  }

  private line(raw: string): void {
    const s = this.s;
    if (s.sr) {
      // Inside a SEARCH/REPLACE block every line is the file's text, whatever it starts with.
      const sr = s.sr;
      if (sr.mode === 'search' && DIVIDER.test(raw)) sr.mode = 'replace';
      else if (sr.mode === 'replace' && UPDATED.test(raw)) {
        const search = sr.search.join('\n');
        if (sr.search.length < BLOCK_LINES_MAX && sr.replace.length < BLOCK_LINES_MAX) {
          s.pending.push({ seq: s.at, path: sr.file, op: search.trim() ? 'edit' : 'write', added: addedLines(search, sr.replace.join('\n')), ...(s.runTs ? { ts: s.runTs } : {}) });
        }
        s.lastFile = sr.file;
        s.sr = null;
      } else {
        const side = sr.mode === 'search' ? sr.search : sr.replace;
        if (side.length < BLOCK_LINES_MAX) side.push(raw);
      }
      this.text(raw);
      return;
    }
    const started = /^# aider chat started at (.*)$/.exec(raw);
    if (started) {
      this.dropPending();
      s.runTs = aiderTime(started[1]!);
      s.startedAt = earlier(s.startedAt, s.runTs);
      s.updatedAt = later(s.updatedAt, s.runTs);
      s.recent = [];
      this.start('none', 'system', 'text', false);
      this.text(raw);
      return;
    }
    const body = raw.replace(/ {2}$/, '');
    if (body.startsWith('####')) {
      const t = body.replace(/^#### ?/, '');
      if (s.block !== 'user') {
        this.dropPending();
        this.start('user', 'user', 'text', true);
      }
      if (s.title === undefined && t.trim() && !t.startsWith('/')) s.title = titleLine(t);
      this.text(t);
      return;
    }
    if (body === '>' || body.startsWith('> ')) {
      const t = body.slice(2);
      if (s.block !== 'tool') this.start('tool', 'tool', 'tool_result', false);
      const applied = /^Applied edit to (.+)$/.exec(t);
      if (applied) {
        const file = applied[1]!.trim();
        const hit = s.pending.filter((e) => e.path === file);
        s.pending = s.pending.filter((e) => e.path !== file);
        for (const e of hit) this.done.push({ ...e, toolName: TOOL });
      }
      const v = /^Aider v(\S+)$/.exec(t);
      if (v && s.version === undefined) s.version = v[1];
      this.text(t);
      return;
    }
    if (s.block !== 'assistant') {
      if (!raw.trim()) return;
      this.start('assistant', 'assistant', 'text', true);
      s.recent = [];
    } else if (s.afterCall && raw.trim() && !FENCE.test(raw.trim())) {
      // The reply goes on after a block: more of the same turn.
      this.start('assistant', 'assistant', 'text', false);
    }
    if (HEAD.test(raw)) {
      const file = fileNameIn(s.recent) ?? s.lastFile;
      if (file) {
        // Each block is a call of the edit "tool" (its seq is the edit's).
        this.start('assistant', 'assistant', 'tool_call', false, TOOL);
        this.text(file);
        s.sr = { file, mode: 'search', search: [], replace: [] };
        s.afterCall = true;
      } else s.unknown += 1;
    }
    s.recent.push(raw);
    if (s.recent.length > 3) s.recent.shift();
    this.text(raw);
  }

  takeEdits(): FileEdit[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    return this.s.pending.map((e) => ({ ...e, toolName: TOOL }));
  }

  summary(): SessionSummary {
    const s = this.s;
    return {
      tool: 'aider',
      ...(s.version ? { toolVersion: s.version } : {}),
      ...(s.startedAt ? { startedAt: s.startedAt } : {}),
      ...(s.updatedAt ? { updatedAt: s.updatedAt } : {}),
      ...(s.title ? { title: s.title } : {}),
      messageCount: s.turns,
      subagentCount: 0,
      malformedLines: 0,
      unknownLines: s.unknown,
    };
  }

  save(): ParserState {
    return JSON.parse(JSON.stringify(this.s)) as ParserState;
  }
}
