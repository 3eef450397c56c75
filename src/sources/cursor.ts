import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { NativeFile } from '../store/bundle.js';
import { walk, type Reporter } from './discover.js';
import { parseApplyPatch } from './apply-patch.js';
import type { Listing } from './listing.js';
import type { SourceDefinition } from './types.js';
import {
  ROOT_DEPTH, addedLines, badState, clip, forEachJsonLine, splitLines, titleLine, RestoreRefused,
  type DiscoveredFile, type FileEdit, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type SessionSummary, type Source,
} from './types.js';

/**
 * Cursor's agent (docs/agents/cursor.md): `~/.cursor/projects/<slug>/agent-transcripts/` with
 * `<id>/<id>.jsonl` (Composer 2, 2026) and legacy `<id>.txt`. No cwd, timestamps or results are
 * recorded; the slug (the workspace path with `/` and `.` as `-`) is kept in the bundle path so the
 * workspace can be found again among the absolute paths the tools name.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]{0,250}$/;
const TEXT_MAX = 64 * 1024;
/** A `.txt` transcript bigger than this is kept but not parsed. */
const TXT_MAX = 64 * 1024 * 1024;
const EDIT_KEYS: Record<string, string[]> = {
  Write: ['path', 'contents'],
  StrReplace: ['path', 'old_string', 'new_string', 'replace_all'],
  Delete: ['path'],
  ApplyPatch: ['patch', 'input'],
};

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** Cursor's project folder name for a workspace path: `/` and `.` as `-`, runs of `-` as one, ends trimmed. */
export function cursorSlug(p: string): string {
  return p.replace(/[/.\\:]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
}

/** Cursor in the registry: bundle prefix `cursor`, folder `$CURSOR_CONFIG_DIR` (default `~/.cursor`). */
export const cursor: SourceDefinition = {
  tool: 'cursor',
  label: 'Cursor',
  prefix: 'cursor',
  folder: { env: 'CURSOR_CONFIG_DIR', underHome: '.cursor' },
  isTranscript: (p) => p.endsWith('.jsonl') || p.endsWith('.txt'),
  create: (dir, report) => new CursorSource(dir, report),
  plantDemo(dir, cwd, file, content) {
    const sessionId = crypto.randomUUID();
    const folder = path.join(dir, 'projects', cursorSlug(cwd), 'agent-transcripts', sessionId);
    fs.mkdirSync(folder, { recursive: true });
    const lines = [
      { role: 'user', message: { content: [{ type: 'text', text: '<user_query>\nAdd a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.\n</user_query>' }] } },
      { role: 'assistant', message: { content: [{ type: 'text', text: 'I\'ll write stats.js with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.' }, { type: 'tool_use', name: 'Write', input: { path: file, contents: content } }] } },
      { role: 'assistant', message: { content: [{ type: 'text', text: 'Done: stats.js exports median().' }] } },
    ];
    fs.writeFileSync(path.join(folder, `${sessionId}.jsonl`), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return { sessionId, dir: folder };
  },
};

export class CursorSource implements Source {
  readonly tool = 'cursor' as const;
  readonly roots: readonly string[];
  constructor(private readonly dir: string, private readonly report: Reporter) {
    this.roots = [path.join(dir, 'projects')];
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    const files = walk(this.roots[0]!, ROOT_DEPTH, this.report, (rel, isDir) => {
      const parts = rel.split('/');
      if (isDir) return parts.length === 1 || (parts.length === 2 && parts[1] === 'agent-transcripts') || (parts.length === 3 && parts[1] === 'agent-transcripts' && UUID.test(parts[2]!));
      return parts[1] === 'agent-transcripts';
    }, listing);
    for (const f of files) {
      const parts = f.rel.split('/');
      if (!SLUG.test(parts[0]!)) continue;
      let id: string | undefined;
      if (parts.length === 3 && /^[0-9a-f-]{36}\.txt$/i.test(parts[2]!) && UUID.test(parts[2]!.slice(0, 36))) id = parts[2]!.slice(0, 36);
      else if (parts.length === 4 && UUID.test(parts[2]!) && parts[3]!.toLowerCase() === `${parts[2]!.toLowerCase()}.jsonl`) id = parts[2];
      if (!id) continue;
      out.push({ tool: this.tool, absPath: f.abs, bundlePath: `cursor/projects/${f.rel}`, size: f.size, mtimeMs: f.mtimeMs, sessionId: id.toLowerCase() });
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    return file.sessionId;
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const messages: NormalizedMessage[] | null = opts.text === false ? null : [];
    const p = new CursorParser(null, messages);
    for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) p.feed(f.path, f.data);
    return { id: sessionId, ...p.summary(), messages: messages ?? [], edits: p.takeEdits() };
  }

  parser(_sessionId: string, state?: ParserState | null): SessionParser {
    return new CursorParser(state ?? null, null);
  }

  /** `agent-transcripts/<id>.txt` or `<id>/<id>.jsonl`, under the project folder of `localCwd`'s slug. */
  restoreTarget(bundlePath: string, sessionId: string, localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    const id = sessionId.toLowerCase();
    const ok = rest[0] === 'projects' && rest[2] === 'agent-transcripts' &&
      ((rest.length === 4 && rest[3]!.toLowerCase() === `${id}.txt`) || (rest.length === 5 && rest[3]!.toLowerCase() === id && rest[4]!.toLowerCase() === `${id}.jsonl`));
    if (!ok) throw new RestoreRefused(bundlePath, `Cursor keeps agent-transcripts/${sessionId}.txt and agent-transcripts/${sessionId}/${sessionId}.jsonl`);
    return path.join(this.dir, 'projects', cursorSlug(localCwd), ...rest.slice(2));
  }

  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['cursor-agent', '--resume', sessionId] };
  }
}

interface SavedState {
  v: 1;
  n: number;
  turns: number;
  slug?: string;
  cwd?: string;
  title?: string;
  malformed: number;
  unknown: number;
  /** Legacy `.txt` transcripts are parsed whole: bytes gathered per file until `summary`. */
}

/**
 * Cursor transcripts. JSONL lines are fed as appended. A legacy `.txt` transcript has no line
 * structure a piece can be read by (a tool call's value runs over many lines), and Cursor rewrites
 * it: the parser gathers its bytes and reads it whole when asked for edits or a summary (capture
 * re-parses the session whenever a non-JSONL file changes).
 */
class CursorParser implements SessionParser {
  private s: SavedState = { v: 1, n: 0, turns: 0, malformed: 0, unknown: 0 };
  private readonly txt = new Map<string, Buffer[]>();
  private edits: FileEdit[] = [];
  private paths: string[] = [];

  constructor(state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null) {
      const s = state as SavedState;
      if (!s || s.v !== 1 || typeof s.n !== 'number') throw badState('cursor');
      this.s = { ...s };
    }
  }

  feed(p: string, data: Buffer): void {
    const slug = p.split('/')[2];
    if (slug && this.s.slug === undefined) this.s.slug = slug;
    if (p.endsWith('.jsonl')) {
      const counters = { malformed: 0 };
      forEachJsonLine(data, counters, (o) => this.jsonLine(o));
      this.s.malformed += counters.malformed;
      this.settleCwd();
    } else if (p.endsWith('.txt')) {
      const parts = this.txt.get(p) ?? [];
      parts.push(data);
      this.txt.set(p, parts);
    }
  }

  private emit(role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], text: string, toolName?: string): number {
    const seq = this.s.n++;
    if (this.sink) this.sink.push({ seq, turn: Math.max(0, this.s.turns - 1), role, kind, text: clip(text, TEXT_MAX), nativeId: `${this.s.turns}`, ...(toolName ? { toolName } : {}) });
    return seq;
  }

  private userText(text: string): void {
    this.s.turns += 1;
    const q = /<user_query>\s*([\s\S]*?)\s*<\/user_query>/.exec(text)?.[1] ?? text;
    if (this.s.title === undefined && q.trim()) this.s.title = titleLine(q);
    this.emit('user', 'text', text);
  }

  private call(name: string, input: Json): void {
    const seq = this.emit('assistant', 'tool_call', JSON.stringify(input).slice(0, 2000), name);
    const file = str(input.path);
    if (file && path.isAbsolute(file) && this.paths.length < 1000) this.paths.push(file);
    // Cursor records no results: an edit is taken as made.
    if (name === 'Write' && file) this.edits.push({ seq, path: file, op: 'write', toolName: name, added: splitLines(str(input.contents) ?? '') });
    else if (name === 'StrReplace' && file) this.edits.push({ seq, path: file, op: 'edit', toolName: name, added: addedLines(str(input.old_string) ?? '', str(input.new_string) ?? '') });
    else if (name === 'Delete' && file) this.edits.push({ seq, path: file, op: 'delete', toolName: name, added: [] });
    else if (name === 'ApplyPatch') {
      for (const op of parseApplyPatch(str(input.patch) ?? str(input.input) ?? '').slice(0, 1000)) {
        this.edits.push({ seq, path: op.path, op: op.op, toolName: name, added: op.added, ...(op.movePath ? { movePath: op.movePath } : {}) });
      }
    }
  }

  private jsonLine(o: Json): void {
    const role = str(o.role);
    const content = obj(o.message)?.content;
    if (role !== 'user' && role !== 'assistant') {
      this.s.unknown += 1;
      return;
    }
    const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content.slice(0, 10_000) : [];
    if (role === 'user') {
      this.userText(blocks.map((b) => str(obj(b)?.text) ?? '').join('\n'));
      return;
    }
    this.s.turns += 1;
    for (const b of blocks) {
      const x = obj(b);
      if (!x) continue;
      if (x.type === 'text' && str(x.text)) this.emit('assistant', 'text', str(x.text)!);
      else if (x.type === 'tool_use') this.call(str(x.name) ?? '', obj(x.input) ?? {});
    }
  }

  /** Reads the gathered `.txt` transcripts (once each). */
  private readTxt(): void {
    for (const [p, parts] of this.txt) {
      this.txt.delete(p);
      const data = Buffer.concat(parts);
      if (data.length > TXT_MAX) {
        this.s.malformed += 1;
        continue;
      }
      this.txtTranscript(data.toString('utf8'));
    }
    this.settleCwd();
  }

  private txtTranscript(text: string): void {
    const lines = text.split('\n');
    let i = 0;
    const block = (): string[] => {
      const out: string[] = [];
      while (i < lines.length && !/^(user|assistant):\s*$/.test(lines[i]!) && !lines[i]!.startsWith('[Tool call] ') && !lines[i]!.startsWith('[Tool result] ') && !lines[i]!.startsWith('[Thinking] ')) out.push(lines[i++]!);
      return out;
    };
    let role: 'user' | 'assistant' | null = null;
    while (i < lines.length) {
      const l = lines[i]!;
      if (/^(user|assistant):\s*$/.test(l)) {
        role = l.startsWith('user') ? 'user' : 'assistant';
        i++;
        if (role === 'assistant') this.s.turns += 1;
        const body = block().join('\n').trim();
        if (role === 'user') this.userText(body);
        else if (body) this.emit('assistant', 'text', body);
      } else if (l.startsWith('[Thinking] ')) {
        i++;
        this.emit('assistant', 'thinking', [l.slice(11), ...block()].join('\n').trim());
      } else if (l.startsWith('[Tool call] ')) {
        const name = l.slice(12).trim();
        i++;
        const keys = EDIT_KEYS[name];
        const args: Json = {};
        const body = block();
        // `  key: value`, the value running to the next expected key (values are multi-line and
        // may themselves hold `key:` lines, so only this tool's keys, in order, start one).
        let key: string | null = null;
        let at = 0;
        const vals: Record<string, string[]> = {};
        for (const b of body) {
          const m = /^  ([A-Za-z_]+): ?(.*)$/.exec(b);
          const next = keys ? keys.indexOf(m?.[1] ?? '', at) : -1;
          if (m && (keys ? next >= 0 : true) && (key === null || !keys || next >= at)) {
            key = m[1]!;
            at = keys ? next + 1 : 0;
            vals[key] = [m[2]!];
          } else if (key) vals[key]!.push(b);
        }
        for (const [k, v] of Object.entries(vals)) {
          while (v.length > 1 && v[v.length - 1] === '') v.pop();
          args[k] = v.join('\n');
        }
        this.call(name, args);
      } else if (l.startsWith('[Tool result] ')) {
        i++;
        this.emit('tool', 'tool_result', block().join('\n').trim());
      } else {
        i++;
      }
    }
  }

  /** The workspace: the ancestor of a path the tools named whose slug is the project folder's. */
  private settleCwd(): void {
    if (this.s.cwd !== undefined || !this.s.slug) return;
    for (const p of this.paths) {
      for (let d = path.posix.dirname(p); d !== '/' && d !== '.'; d = path.posix.dirname(d)) {
        if (cursorSlug(d) === this.s.slug) {
          this.s.cwd = d;
          return;
        }
      }
    }
  }

  takeEdits(): FileEdit[] {
    this.readTxt();
    const out = this.edits;
    this.edits = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    return [];
  }

  summary(): SessionSummary {
    this.readTxt();
    const s = this.s;
    return {
      tool: 'cursor',
      ...(s.cwd ? { cwd: s.cwd } : {}),
      ...(s.title ? { title: s.title } : {}),
      messageCount: s.turns,
      subagentCount: 0,
      malformedLines: s.malformed,
      unknownLines: s.unknown,
    };
  }

  save(): ParserState {
    return { ...this.s };
  }
}

