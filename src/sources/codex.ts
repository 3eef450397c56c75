import path from 'node:path';
import type { NativeFile } from '../store/bundle.js';
import { walk, type Reporter } from './discover.js';
import { extractPatchFromCommand, parseApplyPatch } from './apply-patch.js';
import type { Listing } from './listing.js';
import { ROOT_DEPTH, clip, jsonLines, type DiscoveredFile, type NormalizedMessage, type NormalizedSession, type ParseOptions, type Role, type Source } from './types.js';

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

/** Codex CLI: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` (and `archived_sessions/`). */
export class CodexSource implements Source {
  readonly tool = 'codex' as const;
  readonly roots: readonly string[];
  constructor(codexHome: string, private readonly report: Reporter) {
    this.roots = ['sessions', 'archived_sessions'].map((sub) => path.join(codexHome, sub));
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    for (const root of this.roots) {
      const sub = path.basename(root);
      for (const f of walk(root, ROOT_DEPTH, this.report, undefined, listing)) {
        const m = ROLLOUT.exec(path.basename(f.rel));
        if (!m) continue;
        out.push({ tool: this.tool, absPath: f.abs, bundlePath: `codex/${sub}/${f.rel}`, size: f.size, mtimeMs: f.mtimeMs, sessionId: m[1]!.toLowerCase() });
      }
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    return file.sessionId;
  }

  parse(sessionId: string, files: NativeFile[], _opts: ParseOptions = {}): NormalizedSession {
    const s: NormalizedSession = {
      id: sessionId, tool: this.tool, messages: [], messageCount: 0, subagentCount: 0, edits: [], malformedLines: 0, unknownLines: 0,
    };
    const counters = { malformed: 0 };
    const rollouts = files.filter((f) => ROLLOUT.test(path.basename(f.path))).sort((a, b) => (a.path < b.path ? -1 : 1));
    const lines: Json[] = [];
    for (const f of rollouts) for (const l of jsonLines(f.data, counters)) lines.push(l);

    // Prompts and replies appear as response items and again as events: index the items' texts
    // first so that an event is counted only when no item carries the same text.
    const itemTexts = new Set<string>();
    for (const l of lines) {
      const p = obj(l.payload);
      if (l.type !== 'response_item' || !p) continue;
      if (p.type === 'message') itemTexts.add(`${p.role}\0${contentText(p.content)}`);
      if (p.type === 'reasoning') itemTexts.add(`reasoning\0${summaryText(p.summary)}`);
    }

    let turn = 0;
    let cwd: string | undefined;
    let firstPrompt: string | undefined;
    const pending = new Map<string, { seq: number; patch: string; ts?: string; cwd?: string; name: string }>();
    const add = (m: Omit<NormalizedMessage, 'seq' | 'turn'>) => {
      const full = m as NormalizedMessage;
      full.seq = s.messages.length;
      full.turn = turn;
      s.messages.push(full);
      turn += 1;
    };
    const noteTime = (ts: string | undefined) => {
      if (!ts) return;
      if (!s.startedAt || ts < s.startedAt) s.startedAt = ts;
      if (!s.updatedAt || ts > s.updatedAt) s.updatedAt = ts;
    };

    lines.forEach((l, index) => {
      const type = str(l.type);
      const p = obj(l.payload);
      const ts = str(l.timestamp);
      if (!type || !KNOWN_LINES.has(type) || !p) {
        s.unknownLines += 1;
        return;
      }
      if (type === 'session_meta') {
        s.cwd ??= str(p.cwd);
        s.toolVersion ??= str(p.cli_version);
        s.startedAt ??= str(p.timestamp);
        s.gitBranch ??= str(obj(p.git)?.branch);
        cwd ??= str(p.cwd);
        return;
      }
      if (type === 'turn_context') {
        cwd = str(p.cwd) ?? cwd;
        s.cwd ??= cwd;
        return;
      }
      if (type === 'compacted') return;
      const key = `line-${index}`;
      if (type === 'event_msg') {
        const et = str(p.type);
        if (et === 'user_message' || et === 'agent_message') {
          const role: Role = et === 'user_message' ? 'user' : 'assistant';
          const text = str(p.message) ?? '';
          if (itemTexts.has(`${role}\0${text}`)) return;
          noteTime(ts);
          add({ role, kind: 'text', text: clip(text, TEXT_MAX), ts, nativeId: key });
          if (role === 'user') firstPrompt ??= text;
        } else if (et === 'agent_reasoning') {
          const text = str(p.text) ?? '';
          if (itemTexts.has(`reasoning\0${text}`) || !text) return;
          noteTime(ts);
          add({ role: 'assistant', kind: 'thinking', text: clip(text, TEXT_MAX), ts, nativeId: key });
        }
        return;
      }
      // response_item
      const it = str(p.type);
      if (!it || !KNOWN_ITEMS.has(it)) {
        s.unknownLines += 1;
        return;
      }
      if (it === 'ghost_snapshot' || it === 'compaction') return;
      noteTime(ts);
      if (it === 'message') {
        const text = contentText(p.content);
        const r = str(p.role);
        const injected = r === 'developer' || r === 'system' || /^\s*<(environment_context|user_instructions)>/.test(text);
        const role: Role = injected ? 'system' : r === 'assistant' ? 'assistant' : 'user';
        add({ role, kind: 'text', text: clip(text, TEXT_MAX), ts, nativeId: str(p.id) ?? key });
        if (role === 'user') firstPrompt ??= text;
      } else if (it === 'reasoning') {
        add({ role: 'assistant', kind: 'thinking', text: clip(summaryText(p.summary), TEXT_MAX), ts, nativeId: str(p.id) ?? key });
      } else if (it === 'function_call' || it === 'custom_tool_call' || it === 'local_shell_call' || it === 'web_search_call') {
        const name = str(p.name) ?? it;
        const callId = str(p.call_id) ?? str(p.id) ?? key;
        const input = it === 'custom_tool_call' ? str(p.input) ?? '' : str(p.arguments) ?? JSON.stringify(p.action ?? {});
        add({ role: 'assistant', kind: 'tool_call', toolName: name, text: clip(input, TOOL_TEXT_MAX), ts, nativeId: callId });
        const patch = patchOf(name, it, input);
        if (patch) pending.set(callId, { seq: s.messages.length - 1, patch, name, ...(ts ? { ts } : {}), ...(cwd ? { cwd } : {}) });
      } else if (it === 'function_call_output' || it === 'custom_tool_call_output') {
        const callId = str(p.call_id) ?? key;
        const out = typeof p.output === 'string' ? p.output : JSON.stringify(p.output ?? '');
        add({ role: 'tool', kind: 'tool_result', text: clip(out, TOOL_TEXT_MAX), ts, nativeId: `${callId}:output` });
        const pend = pending.get(callId);
        if (pend) {
          pending.delete(callId);
          if (patchSucceeded(out)) this.addPatch(s, pend, ts);
        }
      }
    });
    for (const pend of pending.values()) this.addPatch(s, pend, pend.ts);
    s.edits.sort((a, b) => a.seq - b.seq);
    s.messageCount = s.messages.length;
    s.malformedLines = counters.malformed;
    if (firstPrompt) s.title = firstPrompt.split('\n').find((l) => l.trim())?.trim().slice(0, 100);
    return s;
  }

  private addPatch(s: NormalizedSession, pend: { seq: number; patch: string; name: string; cwd?: string }, ts: string | undefined): void {
    for (const op of parseApplyPatch(pend.patch)) {
      const abs = (p: string) => (path.isAbsolute(p) || !pend.cwd ? p : path.posix.join(pend.cwd, p));
      s.edits.push({
        seq: pend.seq, path: abs(op.path), op: op.op, toolName: pend.name, added: op.added,
        ...(op.movePath ? { movePath: abs(op.movePath) } : {}), ...(ts ? { ts } : {}),
      });
    }
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((c) => str(obj(c)?.text) ?? '').join('\n');
}

function summaryText(summary: unknown): string {
  if (!Array.isArray(summary)) return '';
  return summary.map((c) => str(obj(c)?.text) ?? '').filter(Boolean).join('\n');
}

function patchOf(name: string, itemType: string, input: string): string | null {
  if (name === 'apply_patch') {
    if (itemType === 'custom_tool_call') return input;
    try {
      const args = JSON.parse(input) as Json;
      return str(args.input) ?? str(args.patch) ?? null;
    } catch {
      return input.includes('*** Begin Patch') ? input : null;
    }
  }
  if (name === 'shell' || name === 'shell_command' || name === 'exec_command' || itemType === 'local_shell_call') {
    let command = input;
    try {
      const args = JSON.parse(input) as Json;
      const c = args.command ?? args.cmd;
      command = Array.isArray(c) ? c.join(' ') : str(c) ?? input;
    } catch {
      /* raw text */
    }
    return extractPatchFromCommand(command);
  }
  return null;
}

/** apply_patch outputs: JSON with metadata.exit_code, or plain text that starts with "Success". */
function patchSucceeded(output: string): boolean {
  try {
    const o = JSON.parse(output) as Json;
    const code = obj(o.metadata)?.exit_code;
    if (typeof code === 'number') return code === 0;
    const text = str(o.output);
    if (text !== undefined) return /^Success/.test(text);
  } catch {
    /* plain text */
  }
  return /^Success/.test(output.trim());
}
