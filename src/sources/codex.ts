import path from 'node:path';
import type { NativeFile } from '../store/bundle.js';
import { walk, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import {
  ROOT_DEPTH, jsonLines,
  type DiscoveredFile, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type Source, RestoreRefused,
} from './types.js';
import type { SourceDefinition } from './types.js';

import { CodexParser } from './codex-parser.js';
const ROLLOUT = /^rollout-.*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;


/** Codex in the registry: bundle prefix `codex`, folder `$CODEX_HOME` (default `~/.codex`). */
export const codex: SourceDefinition = {
  tool: 'codex',
  label: 'Codex CLI',
  prefix: 'codex',
  folder: { env: 'CODEX_HOME', underHome: '.codex' },
  isTranscript: (p) => p.endsWith('.jsonl'),
  create: (dir, report) => new CodexSource(dir, report),
};

/** Codex CLI: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` (and `archived_sessions/`). */
export class CodexSource implements Source {
  readonly tool = 'codex' as const;
  readonly roots: readonly string[];
  constructor(private readonly codexHome: string, private readonly report: Reporter) {
    this.roots = ['sessions', 'archived_sessions'].map((sub) => path.join(codexHome, sub));
  }

  /** `sessions/YYYY/MM/DD/rollout-…-<id>.jsonl` or `archived_sessions/…/rollout-…-<id>.jsonl`, under `$CODEX_HOME`. */
  restoreTarget(bundlePath: string, sessionId: string, _localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    const m = ROLLOUT.exec(rest.at(-1) ?? '');
    const dated = rest.length === 5 && rest[0] === 'sessions' && /^\d{4}$/.test(rest[1]!) && /^\d{2}$/.test(rest[2]!) && /^\d{2}$/.test(rest[3]!);
    const archived = rest[0] === 'archived_sessions' && rest.length <= 5 && rest.slice(1, -1).every((d) => /^\d{2,4}$/.test(d));
    if (!m || m[1]!.toLowerCase() !== sessionId.toLowerCase() || !(dated || archived)) {
      throw new RestoreRefused(bundlePath, `Codex keeps sessions/YYYY/MM/DD/rollout-…-${sessionId}.jsonl`);
    }
    return path.join(this.codexHome, ...rest);
  }

  resumeCommand(sessionId: string): { cwd?: string; argv: string[] } {
    return { argv: ['codex', 'resume', sessionId] };
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
    const messages: NormalizedMessage[] = [];
    const p = new CodexParser(null, messages);
    const counters = { malformed: 0 };
    const rollouts = files.filter((f) => ROLLOUT.test(path.basename(f.path))).sort((a, b) => (a.path < b.path ? -1 : 1));
    const read = rollouts.map((f) => ({ path: f.path, lines: jsonLines(f.data, counters) }));
    // Prompts and replies appear as response items and again as events: index the items' texts
    // first so that an event is counted only when no item carries the same text.
    for (const f of read) for (const l of f.lines) p.noteItem(l);
    for (const f of read) {
      const file = p.file(f.path);
      for (const l of f.lines) p.line(file, l);
    }
    p.addMalformed(counters.malformed);
    const edits = [...p.takeEdits(), ...p.pendingEdits()].sort((a, b) => a.seq - b.seq);
    return { id: sessionId, ...p.summary(), messages, edits };
  }

  parser(_sessionId: string, state?: ParserState | null): SessionParser {
    return new CodexParser(state ?? null, null);
  }

  /**
   * `parse`'s messages, streamed, in `parse`'s two passes over the rollouts: the items' texts
   * first (so an event repeated by an item is not counted), then every line.
   */
  streamMessages(_sessionId: string, paths: readonly string[], read: (path: string, fn: (block: Buffer) => void) => void, onMessage: (m: NormalizedMessage) => void): void {
    let count = 0;
    // The parser numbers messages by the sink's length.
    const sink = { get length() { return count; }, push: (m: NormalizedMessage) => { count += 1; onMessage(m); return count; } } as unknown as NormalizedMessage[];
    const p = new CodexParser(null, sink);
    const rollouts = paths.filter((x) => ROLLOUT.test(path.basename(x))).sort((a, b) => (a < b ? -1 : 1));
    for (const f of rollouts) read(f, (block) => { for (const l of jsonLines(block, { malformed: 0 })) p.noteItem(l); });
    for (const f of rollouts) {
      const file = p.file(f);
      read(f, (block) => { for (const l of jsonLines(block, { malformed: 0 })) p.line(file, l); });
    }
  }
}

/** An apply_patch call waiting for its output, with the edits it makes if it applies. */
