import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { NativeFile } from '../store/bundle.js';
import { walk, type Reporter } from './discover.js';
import { parseApplyPatch } from './apply-patch.js';
import type { Listing } from './listing.js';
import type { SourceDefinition } from './types.js';
import {
  ROOT_DEPTH, addedLines, badState, clip, earlier, forEachJsonLine, later, splitLines, stateKey, titleLine, RestoreRefused,
  type DiscoveredFile, type FileEdit, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type SessionSummary, type Source,
} from './types.js';

/**
 * GitHub Copilot CLI (docs/agents/copilot-cli.md): `$COPILOT_HOME/session-state/<id>/events.jsonl`
 * (one event per line, appended) with `workspace.yaml` (working folder, repository) and
 * `checkpoints/*.md`, `plan.md` beside it.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The files of a session folder that the bundle keeps (lock files, snapshots and backups are not). */
const KEPT = (rest: string[]): boolean =>
  (rest.length === 1 && ['events.jsonl', 'workspace.yaml', 'plan.md'].includes(rest[0]!)) ||
  (rest.length === 2 && rest[0] === 'checkpoints' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}\.md$/.test(rest[1]!));
const TEXT_MAX = 64 * 1024;
const TOOL_TEXT_MAX = 2000;
const KNOWN = /^(session|user|assistant|tool|hook|subagent|model|skill|abort|system)\./;

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
/** Windows sessions record `C:\x\y`: backslashes are read as separators so paths compare with the cwd. */
const slashes = (p: string): string => (p.includes('\\') ? p.replace(/\\/g, '/') : p);

/** Copilot CLI in the registry: bundle prefix `copilot`, folder `$COPILOT_HOME` (default `~/.copilot`). */
export const copilotCli: SourceDefinition = {
  tool: 'copilot-cli',
  label: 'GitHub Copilot CLI',
  prefix: 'copilot',
  folder: { env: 'COPILOT_HOME', underHome: '.copilot' },
  isTranscript: (p) => p.endsWith('/events.jsonl'),
  create: (dir, report) => new CopilotSource(dir, report),
  plantDemo(dir, cwd, file, content, at) {
    const sessionId = crypto.randomUUID();
    const folder = path.join(dir, 'session-state', sessionId);
    fs.mkdirSync(folder, { recursive: true });
    let parent: string | null = null;
    const ev = (s: number, type: string, data: Json) => {
      const id = crypto.randomUUID();
      const l = JSON.stringify({ type, data, id, timestamp: at(s), parentId: parent });
      parent = id;
      return l;
    };
    const call = 'call_demo_0001';
    const lines = [
      ev(0, 'session.start', { sessionId, version: 1, producer: 'copilot-agent', copilotVersion: '1.0.10', startTime: at(0), context: { cwd, gitRoot: cwd, branch: 'main' } }),
      ev(1, 'user.message', { content: 'Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.' }),
      ev(5, 'assistant.message', { messageId: crypto.randomUUID(), content: 'I\'ll write stats.js with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.', toolRequests: [{ toolCallId: call, name: 'create', arguments: { path: file, file_text: content }, type: 'function' }] }),
      ev(6, 'tool.execution_start', { toolCallId: call, toolName: 'create', arguments: { path: file, file_text: content } }),
      ev(7, 'tool.execution_complete', { toolCallId: call, success: true, result: { content: `Created file ${file}` } }),
      ev(9, 'assistant.message', { messageId: crypto.randomUUID(), content: 'Done: stats.js exports median().', toolRequests: [] }),
    ];
    fs.writeFileSync(path.join(folder, 'events.jsonl'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(folder, 'workspace.yaml'), `id: ${sessionId}\ncwd: ${cwd}\ngit_root: ${cwd}\nbranch: main\nsummary: Add median helper\ncreated_at: ${at(0)}\nupdated_at: ${at(9)}\n`);
    return { sessionId, dir: folder };
  },
};

export class CopilotSource implements Source {
  readonly tool = 'copilot-cli' as const;
  readonly roots: readonly string[];
  constructor(private readonly home: string, private readonly report: Reporter) {
    this.roots = [path.join(home, 'session-state')];
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    const files = walk(this.roots[0]!, ROOT_DEPTH, this.report, (rel, isDir) => {
      const parts = rel.split('/');
      if (isDir) return (parts.length === 1 && UUID.test(parts[0]!)) || (parts.length === 2 && parts[1] === 'checkpoints');
      return parts.length >= 2 && KEPT(parts.slice(1));
    }, listing);
    for (const f of files) {
      const parts = f.rel.split('/');
      if (!UUID.test(parts[0]!) || !KEPT(parts.slice(1))) continue;
      out.push({ tool: this.tool, absPath: f.abs, bundlePath: `copilot/session-state/${f.rel}`, size: f.size, mtimeMs: f.mtimeMs, sessionId: parts[0]!.toLowerCase() });
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    return file.sessionId;
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const messages: NormalizedMessage[] | null = opts.text === false ? null : [];
    const p = new CopilotParser(null, messages);
    for (const f of files) p.feed(f.path, f.data);
    const edits = [...p.takeEdits(), ...p.pendingEdits()].sort((a, b) => a.seq - b.seq);
    return { id: sessionId, ...p.summary(), messages: messages ?? [], edits };
  }

  parser(_sessionId: string, state?: ParserState | null): SessionParser {
    return new CopilotParser(state ?? null, null);
  }

  /** `session-state/<id>/{events.jsonl, workspace.yaml, plan.md, checkpoints/*.md}` under `$COPILOT_HOME`. */
  restoreTarget(bundlePath: string, sessionId: string, _localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    if (!(rest[0] === 'session-state' && rest[1]?.toLowerCase() === sessionId.toLowerCase() && KEPT(rest.slice(2)))) {
      throw new RestoreRefused(bundlePath, `Copilot CLI keeps session-state/${sessionId}/events.jsonl, workspace.yaml, plan.md and checkpoints/*.md`);
    }
    return path.join(this.home, ...rest);
  }

  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['copilot', '--resume', sessionId] };
  }
}

interface Pending {
  seq: number;
  name: string;
  edits: Array<Omit<FileEdit, 'seq' | 'toolName'>>;
}

interface SavedState {
  v: 1;
  n: number;
  turns: number;
  cwd?: string;
  branch?: string;
  version?: string;
  title?: string;
  startedAt?: string;
  updatedAt?: string;
  malformed: number;
  unknown: number;
  pending: Array<[string, Pending]>;
}

/**
 * Copilot events, fed as appended. A tool call's edit waits in `pending` from its
 * `tool.execution_start` to its `tool.execution_complete` (dropped when `success` is false).
 */
class CopilotParser implements SessionParser {
  private s: SavedState = { v: 1, n: 0, turns: 0, malformed: 0, unknown: 0, pending: [] };
  private readonly pending = new Map<string, Pending>();
  private done: FileEdit[] = [];

  constructor(state: ParserState | null, private readonly sink: NormalizedMessage[] | null) {
    if (state !== null) {
      const s = state as SavedState;
      if (!s || s.v !== 1 || !Array.isArray(s.pending) || typeof s.n !== 'number') throw badState('copilot-cli');
      this.s = { ...s, pending: [] };
      for (const [k, p] of s.pending) this.pending.set(k, p);
    }
  }

  feed(p: string, data: Buffer): void {
    if (!p.endsWith('/events.jsonl')) return;
    const counters = { malformed: 0 };
    forEachJsonLine(data, counters, (o) => this.event(o));
    this.s.malformed += counters.malformed;
  }

  private emit(role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], text: string, nativeId: string, ts: string | undefined, toolName?: string): number {
    const seq = this.s.n++;
    if (this.sink) this.sink.push({ seq, turn: Math.max(0, this.s.turns - 1), role, kind, text: clip(text, kind === 'text' ? TEXT_MAX : TOOL_TEXT_MAX), nativeId, ...(ts ? { ts } : {}), ...(toolName ? { toolName } : {}) });
    return seq;
  }

  private event(o: Json): void {
    const type = str(o.type) ?? '';
    const data = obj(o.data) ?? {};
    const ts = str(o.timestamp);
    const id = str(o.id) ?? '';
    if (!KNOWN.test(type)) {
      this.s.unknown += 1;
      return;
    }
    this.s.startedAt = earlier(this.s.startedAt, ts);
    this.s.updatedAt = later(this.s.updatedAt, ts);
    if (type === 'session.start' || type === 'session.resume') {
      const ctx = obj(data.context);
      const cwd = str(ctx?.cwd);
      if (cwd && this.s.cwd === undefined) this.s.cwd = slashes(cwd);
      if (str(ctx?.branch) && this.s.branch === undefined) this.s.branch = str(ctx?.branch);
      if (str(data.copilotVersion) && this.s.version === undefined) this.s.version = str(data.copilotVersion);
    } else if (type === 'user.message') {
      this.s.turns += 1;
      const text = str(data.content) ?? '';
      if (this.s.title === undefined && text.trim()) this.s.title = titleLine(text);
      this.emit('user', 'text', text, id, ts);
    } else if (type === 'assistant.message') {
      this.s.turns += 1;
      const text = str(data.content) ?? '';
      if (text) this.emit('assistant', 'text', text, id, ts);
    } else if (type === 'tool.execution_start') {
      const name = str(data.toolName) ?? '';
      const args = obj(data.arguments) ?? {};
      const seq = this.emit('assistant', 'tool_call', JSON.stringify(args), id, ts, name);
      const edits = editsOf(name, args, ts);
      const call = str(data.toolCallId);
      if (edits.length && call) this.pending.set(stateKey(call), { seq, name, edits });
    } else if (type === 'tool.execution_complete') {
      const call = str(data.toolCallId);
      const result = obj(data.result);
      this.emit('tool', 'tool_result', str(result?.content) ?? '', id, ts);
      const p = call ? this.pending.get(stateKey(call)) : undefined;
      if (!p) return;
      this.pending.delete(stateKey(call!));
      if (data.success === true) for (const e of p.edits) this.done.push({ ...e, seq: p.seq, toolName: p.name });
    }
  }

  takeEdits(): FileEdit[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  pendingEdits(): FileEdit[] {
    return [...this.pending.values()].flatMap((p) => p.edits.map((e) => ({ ...e, seq: p.seq, toolName: p.name })));
  }

  summary(): SessionSummary {
    const s = this.s;
    return {
      tool: 'copilot-cli',
      ...(s.version ? { toolVersion: s.version } : {}),
      ...(s.cwd ? { cwd: s.cwd } : {}),
      ...(s.branch ? { gitBranch: s.branch } : {}),
      ...(s.startedAt ? { startedAt: s.startedAt } : {}),
      ...(s.updatedAt ? { updatedAt: s.updatedAt } : {}),
      ...(s.title ? { title: s.title } : {}),
      messageCount: s.turns,
      subagentCount: 0,
      malformedLines: s.malformed,
      unknownLines: s.unknown,
    };
  }

  save(): ParserState {
    return { ...this.s, pending: [...this.pending] };
  }
}

/** `create` (whole file), `edit` / `str_replace` (old -> new), `apply_patch` (patch text). */
function editsOf(name: string, args: Json, ts: string | undefined): Array<Omit<FileEdit, 'seq' | 'toolName'>> {
  const at = ts ? { ts } : {};
  const file = str(args.path);
  if (name === 'create' && file) return [{ path: slashes(file), op: 'write', added: splitLines(str(args.file_text) ?? ''), ...at }];
  if ((name === 'edit' || name === 'str_replace') && file) return [{ path: slashes(file), op: 'edit', added: addedLines(str(args.old_str) ?? '', str(args.new_str) ?? ''), ...at }];
  if (name === 'apply_patch' || name === 'git_apply_patch') {
    const patch = str(args.input) ?? str(args.patch) ?? (typeof args === 'object' ? str(Object.values(args)[0]) : undefined) ?? '';
    return parseApplyPatch(patch).slice(0, 1000).map((op) => ({ path: slashes(op.path), op: op.op, added: op.added, ...(op.movePath ? { movePath: slashes(op.movePath) } : {}), ...at }));
  }
  return [];
}
