import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { NativeFile } from '../store/bundle.js';
import { readHead, walk, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import {
  ROOT_DEPTH, jsonLines,
  type DiscoveredFile, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type Source, RestoreRefused,
} from './types.js';
import type { SourceDefinition } from './types.js';

import { ClaudeParser } from './claude-code-parser.js';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_FILE = /^agent-[A-Za-z0-9_-]{1,128}\.jsonl$/;
const RESULT_FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Claude Code in the registry: bundle prefix `claude`, folder `$CLAUDE_CONFIG_DIR` (default `~/.claude`). */
export const claudeCode: SourceDefinition = {
  tool: 'claude-code',
  label: 'Claude Code',
  prefix: 'claude',
  folder: { env: 'CLAUDE_CONFIG_DIR', underHome: '.claude' },
  isTranscript: (p) => p.endsWith('.jsonl'),
  create: (dir, report) => new ClaudeCodeSource(dir, report),
  plantDemo(dir, cwd, file, content, at) {
    const sessionId = crypto.randomUUID();
    const project = path.join(dir, 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'));
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, `${sessionId}.jsonl`), `${transcript(sessionId, cwd, file, content, at).join('\n')}\n`);
    return { sessionId, dir: project };
  },
};

/**
 * Claude Code: `$CLAUDE_CONFIG_DIR/projects/<encoded-cwd>/<id>.jsonl`, `<id>/subagents/*.jsonl`,
 * `<id>/tool-results/*`, and legacy flat `agent-*.jsonl` files tied to their parent by sessionId.
 */
export class ClaudeCodeSource implements Source {
  readonly tool = 'claude-code' as const;
  readonly roots: readonly string[];
  constructor(private readonly claudeDir: string, private readonly report: Reporter) {
    this.roots = [path.join(claudeDir, 'projects')];
  }

  /**
   * `<id>.jsonl`, `<id>/subagents/agent-*.jsonl`, `<id>/tool-results/<file>` and legacy
   * `agent-*.jsonl`, under the project folder Claude Code encodes from `localCwd`.
   */
  restoreTarget(bundlePath: string, sessionId: string, localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    const own = (dir: string) => dir.toLowerCase() === sessionId.toLowerCase();
    const ok =
      (rest.length === 1 && (rest[0]!.toLowerCase() === `${sessionId.toLowerCase()}.jsonl` || AGENT_FILE.test(rest[0]!))) ||
      (rest.length === 3 && own(rest[0]!) && ((rest[1] === 'subagents' && AGENT_FILE.test(rest[2]!)) || (rest[1] === 'tool-results' && RESULT_FILE.test(rest[2]!))));
    if (!ok) throw new RestoreRefused(bundlePath, `Claude Code keeps ${sessionId}.jsonl, ${sessionId}/subagents/agent-*.jsonl and ${sessionId}/tool-results/*`);
    return path.join(this.claudeDir, 'projects', localCwd.replace(/[^A-Za-z0-9]/g, '-'), ...rest);
  }

  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['claude', '--resume', sessionId] };
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
    const messages: NormalizedMessage[] = [];
    const p = new ClaudeParser(sessionId, null, { messages, text: opts.text !== false });
    for (const f of p.ordered(files)) p.feed(f.path, f.data);
    const edits = [...p.takeEdits(), ...p.pendingEdits()].sort((a, b) => a.seq - b.seq);
    return { id: sessionId, ...p.summary(), messages, edits };
  }

  parser(sessionId: string, state?: ParserState | null): SessionParser {
    return new ClaudeParser(sessionId, state ?? null, null);
  }

  /** `parse`'s messages, streamed: the parser pushes each one as its line is fed (in `parse`'s file order). */
  streamMessages(sessionId: string, paths: readonly string[], read: (path: string, fn: (block: Buffer) => void) => void, onMessage: (m: NormalizedMessage) => void): void {
    const messages = { push: (m: NormalizedMessage) => void onMessage(m) } as unknown as NormalizedMessage[];
    const p = new ClaudeParser(sessionId, null, { messages, text: true });
    for (const f of p.ordered(paths.map((path) => ({ path })))) read(f.path, (block) => p.feed(f.path, block));
  }
}

/** Message texts wanted by `parse`; the incremental parser builds none. */
function transcript(id: string, cwd: string, file: string, content: string, at: (s: number) => string): string[] {
  let parent: string | null = null;
  const line = (s: number, o: Record<string, unknown>) => {
    const uuid = crypto.randomUUID();
    const l = JSON.stringify({ parentUuid: parent, isSidechain: false, userType: 'external', cwd, sessionId: id, version: '2.1.20', gitBranch: 'main', uuid, timestamp: at(s), ...o });
    parent = uuid;
    return l;
  };
  const msg = 'msg_demo_0001';
  const tool = 'toolu_demo_0001';
  return [
    line(0, { type: 'user', message: { role: 'user', content: 'Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.' } }),
    line(4, { type: 'assistant', message: { id: msg, role: 'assistant', model: 'claude-demo', content: [{ type: 'thinking', thinking: 'Sort a copy, not the input, so the caller\'s array is untouched. For an even count the median is the mean of the two middle values. Validate first so the error names the problem.' }] } }),
    line(5, { type: 'assistant', message: { id: msg, role: 'assistant', model: 'claude-demo', content: [{ type: 'text', text: 'I\'ll write stats.js with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.' }] } }),
    line(6, { type: 'assistant', message: { id: msg, role: 'assistant', model: 'claude-demo', content: [{ type: 'tool_use', id: tool, name: 'Write', input: { file_path: file, content } }] } }),
    line(7, { type: 'user', toolUseResult: { type: 'create', filePath: file, content, structuredPatch: [] }, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: tool, content: `File created successfully at: ${file}` }] } }),
    line(9, { type: 'assistant', message: { id: 'msg_demo_0002', role: 'assistant', model: 'claude-demo', content: [{ type: 'text', text: 'Done: stats.js exports median(). `[...values]` keeps the input unmodified.' }] } }),
  ];
}
