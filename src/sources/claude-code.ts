import path from 'node:path';
import type { NativeFile } from '../store/bundle.js';
import { readHead, walk, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import {
  ROOT_DEPTH, addedLines, clip, jsonLines, splitLines,
  type DiscoveredFile, type EditOp, type FileEdit, type NormalizedMessage, type NormalizedSession, type ParseOptions, type Source,
} from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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

/**
 * Claude Code: `$CLAUDE_CONFIG_DIR/projects/<encoded-cwd>/<id>.jsonl`, `<id>/subagents/*.jsonl`,
 * `<id>/tool-results/*`, and legacy flat `agent-*.jsonl` files tied to their parent by sessionId.
 */
export class ClaudeCodeSource implements Source {
  readonly tool = 'claude-code' as const;
  readonly roots: readonly string[];
  constructor(claudeDir: string, private readonly report: Reporter) {
    this.roots = [path.join(claudeDir, 'projects')];
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const root = this.roots[0]!;
    const files = walk(root, ROOT_DEPTH, this.report, (rel, isDir) => {
      const parts = rel.split('/');
      if (isDir) return parts.length === 1 || (parts.length === 2 && UUID.test(parts[1]!)) || (parts.length === 3 && (parts[2] === 'subagents' || parts[2] === 'tool-results'));
      return parts.length !== 1;
    }, listing);
    const out: DiscoveredFile[] = [];
    for (const f of files) {
      const parts = f.rel.split('/');
      let sessionId: string | null = null;
      if (parts.length === 2) {
        const base = parts[1]!;
        if (!base.endsWith('.jsonl')) continue;
        const stem = base.slice(0, -'.jsonl'.length);
        if (UUID.test(stem)) sessionId = stem.toLowerCase();
        else if (!stem.startsWith('agent-')) continue;
      } else if (parts.length === 4 && UUID.test(parts[1]!)) {
        sessionId = parts[1]!.toLowerCase();
      } else continue;
      // The project folder (encoded from the cwd) differs between machines: bundles leave it out so
      // one session holds the same paths everywhere; restore derives it again from the local path.
      out.push({ tool: this.tool, absPath: f.abs, bundlePath: `claude/${parts.slice(1).join('/')}`, size: f.size, mtimeMs: f.mtimeMs, sessionId });
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    const counters = { malformed: 0 };
    for (const line of jsonLines(readHead(file.absPath), counters)) {
      const id = str(line.sessionId);
      if (id && UUID.test(id)) return id.toLowerCase();
    }
    return null;
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const withText = opts.text !== false;
    const isMain = (p: string) => p.endsWith(`/${sessionId}.jsonl`) && !p.includes('/subagents/');
    const isAgent = (p: string) => p.endsWith('.jsonl') && (p.includes('/subagents/') || /\/agent-[^/]+\.jsonl$/.test(p));
    const ordered = [...files.filter((f) => isMain(f.path)), ...files.filter((f) => !isMain(f.path) && isAgent(f.path)).sort((a, b) => (a.path < b.path ? -1 : 1))];

    const s: NormalizedSession = {
      id: sessionId, tool: this.tool, messages: [], messageCount: 0, subagentCount: 0, edits: [], malformedLines: 0, unknownLines: 0,
    };
    const counters = { malformed: 0 };
    const turns = new Map<string, number>();
    const pending = new Map<string, { seq: number; name: string; input: Json; ts?: string }>();
    const agents = new Set<string>();
    let summaryTitle: string | undefined;
    let firstPrompt: string | undefined;

    const turnOf = (key: string): number => {
      let t = turns.get(key);
      if (t === undefined) {
        t = turns.size;
        turns.set(key, t);
      }
      return t;
    };
    // Built field by field: object spreads here were a third of capture's parse time.
    const push = (turn: number, role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], text: string, ts: string | undefined, nativeId: string, agentId: string | undefined, toolName?: string) => {
      const m: NormalizedMessage = { seq: s.messages.length, turn, role, kind, text, ts, nativeId };
      if (agentId) m.agentId = agentId;
      if (toolName) m.toolName = toolName;
      s.messages.push(m);
    };
    const noteTime = (ts: string | undefined) => {
      if (!ts) return;
      if (!s.startedAt || ts < s.startedAt) s.startedAt = ts;
      if (!s.updatedAt || ts > s.updatedAt) s.updatedAt = ts;
    };

    for (const file of ordered) {
      const main = isMain(file.path);
      for (const line of jsonLines(file.data, counters)) {
        const type = str(line.type);
        if (!type || !KNOWN_TYPES.has(type)) {
          s.unknownLines += 1;
          continue;
        }
        const ts = str(line.timestamp);
        if (main) {
          s.cwd ??= str(line.cwd);
          s.gitBranch ??= str(line.gitBranch) || undefined;
          s.toolVersion ??= str(line.version);
        }
        if (type === 'summary' && !summaryTitle) summaryTitle = str(line.summary);
        if (type === 'custom-title' || type === 'ai-title') summaryTitle = str(line.title) ?? str(line.customTitle) ?? summaryTitle;
        if (type !== 'user' && type !== 'assistant') continue;
        const message = obj(line.message);
        if (!message) continue;
        noteTime(ts);
        const agentId = str(line.agentId) ?? (main ? undefined : path.basename(file.path, '.jsonl').replace(/^agent-/, ''));
        if (agentId) agents.add(agentId);
        const scope = agentId ?? '';
        if (type === 'assistant') {
          const nativeId = str(message.id) ?? str(line.uuid) ?? `line-${s.messages.length}`;
          const turn = turnOf(`${scope}/a/${nativeId}`);
          const content = message.content;
          const blocks = Array.isArray(content) ? content : typeof content === 'string' ? [{ type: 'text', text: content }] : [];
          for (const b of blocks) {
            const block = obj(b);
            if (!block) continue;
            const bt = str(block.type);
            if (bt === 'text') push(turn, 'assistant', 'text', withText ? clip(str(block.text) ?? '', TEXT_MAX) : '', ts, nativeId, agentId);
            else if (bt === 'thinking') push(turn, 'assistant', 'thinking', withText ? clip(str(block.thinking) ?? '', TEXT_MAX) : '', ts, nativeId, agentId);
            else if (bt === 'tool_use') {
              const name = str(block.name) ?? 'tool';
              const input = obj(block.input) ?? {};
              push(turn, 'assistant', 'tool_call', withText ? clip(JSON.stringify(input), TOOL_TEXT_MAX) : '', ts, nativeId, agentId, name);
              const id = str(block.id);
              if (EDIT_TOOLS[name] && id) pending.set(id, { seq: s.messages.length - 1, name, input, ...(ts ? { ts } : {}) });
            }
          }
        } else {
          const nativeId = str(line.uuid) ?? `line-${s.messages.length}`;
          const turn = turnOf(`${scope}/u/${nativeId}`);
          const content = message.content;
          if (typeof content === 'string') {
            push(turn, 'user', 'text', withText ? clip(content, TEXT_MAX) : '', ts, nativeId, agentId);
            if (!firstPrompt && !line.isMeta && !agentId) firstPrompt = content;
            continue;
          }
          if (!Array.isArray(content)) continue;
          for (const b of content) {
            const block = obj(b);
            if (!block) continue;
            const bt = str(block.type);
            if (bt === 'text') {
              const text = str(block.text) ?? '';
              push(turn, 'user', 'text', withText ? clip(text, TEXT_MAX) : '', ts, nativeId, agentId);
              if (!firstPrompt && !line.isMeta && !agentId) firstPrompt = text;
            } else if (bt === 'image') push(turn, 'user', 'text', '[image]', ts, nativeId, agentId);
            else if (bt === 'tool_result') {
              const useId = str(block.tool_use_id) ?? '';
              push(turn, 'tool', 'tool_result', withText ? clip(resultText(block.content), TOOL_TEXT_MAX) : '', ts, nativeId, agentId);
              const p = pending.get(useId);
              if (p) {
                pending.delete(useId);
                if (block.is_error === true) continue;
                const edit = this.editOf(p, obj(line.toolUseResult), ts);
                if (edit) s.edits.push(edit);
              }
            }
          }
        }
      }
    }
    // Tool calls with no recorded result yet (the agent is still running): taken as applied.
    for (const p of pending.values()) {
      const edit = this.editOf(p, undefined, p.ts);
      if (edit) s.edits.push(edit);
    }
    s.edits.sort((a, b) => a.seq - b.seq);
    s.messageCount = turns.size;
    s.subagentCount = agents.size;
    s.malformedLines = counters.malformed;
    const title = summaryTitle ?? firstPrompt;
    if (title) s.title = title.split('\n').find((l) => l.trim())?.trim().slice(0, 100);
    return s;
  }

  private editOf(p: { seq: number; name: string; input: Json; ts?: string }, result: Json | undefined, ts: string | undefined): FileEdit | null {
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
