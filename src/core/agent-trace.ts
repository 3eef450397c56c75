import crypto from 'node:crypto';
import type { LoreContext } from './context.js';
import { attributedCommits, type AddedLine, type LogOptions } from './blame.js';

/**
 * `git lore log --format agent-trace`: the attribution of a range's commits as Agent Trace
 * records (https://github.com/cursor/agent-trace, RFC version 0.1.0; docs/agent-trace.md). One
 * record per commit: `vcs.revision` is the commit, and per file it added lines to, one
 * conversation per session (contributor `ai`, with the session's model when recorded) and one for
 * the lines people wrote (contributor `human`), each with its line ranges in the commit's version
 * of the file. Blank lines are attributed to no one, as in `git lore log`.
 */

export const AGENT_TRACE_VERSION = '0.1.0';

export interface TraceRange {
  start_line: number;
  end_line: number;
}

export interface TraceConversation {
  url?: string;
  contributor: { type: 'ai' | 'human'; model_id?: string };
  ranges: TraceRange[];
}

export interface TraceRecord {
  version: string;
  id: string;
  timestamp: string;
  vcs: { type: 'git'; revision: string };
  tool: { name: string; version: string };
  files: Array<{ path: string; conversations: TraceConversation[] }>;
  metadata: Record<string, unknown>;
}

/** A session's conversation address: a URN (the spec asks for a URI; sessions have no web address). */
export function sessionUrn(id: string): string {
  return `urn:git-lore:session:${id}`;
}

/** Deterministic record id: a name-based (version 5 layout) UUID of the commit, so an export run twice gives the same ids. */
function recordId(commit: string): string {
  const h = crypto.createHash('sha1').update(`git-lore agent-trace ${commit}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Sorted line numbers as ranges of consecutive lines. */
function ranges(lines: number[]): TraceRange[] {
  const out: TraceRange[] = [];
  for (const n of [...lines].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && n === last.end_line + 1) last.end_line = n;
    else if (!last || n > last.end_line) out.push({ start_line: n, end_line: n });
  }
  return out;
}

const PROVIDER: Record<string, string> = { 'claude-code': 'anthropic', codex: 'openai' };

/**
 * The model a session used, as `provider/model` (models.dev convention), from the first `"model"`
 * field of its stored transcripts (Claude Code: assistant messages; Codex: turn context); null
 * when none is recorded. Reads at most the first 4 MiB of each file.
 */
function sessionModel(ctx: LoreContext, id: string, tool: string): string | null {
  for (const f of ctx.db.sessionFiles(id)) {
    if (!f.path.endsWith('.jsonl')) continue;
    let read = 0;
    let carry = '';
    for (const block of ctx.db.pieces.read(f)) {
      const text = carry + block.toString('utf8');
      const m = /"model"\s*:\s*"([^"\\]{1,200})"/.exec(text);
      if (m) {
        const model = m[1]!;
        return (model.includes('/') || !PROVIDER[tool] ? model : `${PROVIDER[tool]}/${model}`).slice(0, 250);
      }
      carry = text.slice(-256);
      read += block.length;
      if (read > 4 << 20) break;
    }
  }
  return null;
}

export async function agentTrace(ctx: LoreContext, opts: LogOptions & { toolVersion: string }): Promise<TraceRecord[]> {
  const commits = await attributedCommits(ctx, opts);
  const models = new Map<string, string | null>();
  const model = (id: string, tool: string) => {
    if (!models.has(id)) models.set(id, sessionModel(ctx, id, tool));
    return models.get(id)!;
  };
  return commits.map((k) => {
    const byFile = new Map<string, AddedLine[]>();
    for (const l of k.lines) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l]);
    const sessions = new Map<string, { id: string; tool: string; title: string | null }>();
    const files = [...byFile.entries()].map(([path, lines]) => {
      const bySession = new Map<string, number[]>();
      const people: number[] = [];
      for (const l of lines) {
        if (!l.session) people.push(l.line);
        else {
          sessions.set(l.session.id, { id: l.session.id, tool: l.session.tool, title: l.session.title });
          bySession.set(l.session.id, [...(bySession.get(l.session.id) ?? []), l.line]);
        }
      }
      const conversations: TraceConversation[] = [...bySession.entries()].map(([id, nums]) => {
        const m = model(id, sessions.get(id)!.tool);
        return { url: sessionUrn(id), contributor: { type: 'ai' as const, ...(m ? { model_id: m } : {}) }, ranges: ranges(nums) };
      });
      if (people.length) conversations.push({ contributor: { type: 'human' }, ranges: ranges(people) });
      return { path, conversations };
    });
    return {
      version: AGENT_TRACE_VERSION,
      id: recordId(k.commit),
      timestamp: new Date(k.time * 1000).toISOString(),
      vcs: { type: 'git' as const, revision: k.commit },
      tool: { name: 'git-lore', version: opts.toolVersion },
      files,
      // Vendor data, reverse-domain keyed as the spec suggests: what `git lore show <id>` opens.
      metadata: { 'dev.git-lore': { subject: k.subject, sessions: [...sessions.values()] } },
    };
  });
}
