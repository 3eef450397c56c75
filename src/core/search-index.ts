import { log } from '../log.js';
import type { LoreContext } from './context.js';
import type { Source } from '../sources/types.js';
import type { SessionTexts, TextRow } from '../store/search-index.js';
import type { StoredFile } from '../store/pieces.js';

/** `LORE_SEARCH_INDEX=0` turns indexing off during capture (the benchmark's baseline); the next search rebuilds. */
export function searchIndexEnabled(ctx: LoreContext): boolean {
  return ctx.env.vars.LORE_SEARCH_INDEX !== '0';
}

/**
 * Collects the searchable texts of the lines a session write parses. The capture parser builds no
 * message texts (that halved capture time), so each block of whole lines it is fed is parsed once
 * more here, with texts, on its own: messages are read line by line, so a block parses to the
 * same texts as the whole file would give for those lines (only tool names of results whose call
 * lies in an earlier block are missing). Rows are keyed by (file, offset of the block).
 */
export class MessageTexts {
  private readonly rows: TextRow[] = [];
  private readonly from: Record<string, number> = {};

  constructor(private readonly source: Source, private readonly sessionId: string, private readonly mode: SessionTexts['mode']) {}

  /** A collector for a session write, or null when indexing is off. */
  static forWrite(ctx: LoreContext, source: Source, sessionId: string, mode: SessionTexts['mode']): MessageTexts | null {
    return searchIndexEnabled(ctx) ? new MessageTexts(source, sessionId, mode) : null;
  }

  /** Whole lines of native file `path` that start at byte `offset` (ends with '\n'). */
  add(path: string, offset: number, lines: Buffer): void {
    if (!(path in this.from)) this.from[path] = offset;
    const s = this.source.parse(this.sessionId, [{ path, data: lines, mtimeMs: 0 }], { text: true });
    for (const m of s.messages) {
      // Injected context (system prompts, reminders) would drown real hits.
      if (m.role === 'system' || !m.text.trim()) continue;
      this.rows.push({ path, off: offset, role: m.role, kind: m.kind, toolName: m.toolName ?? null, ts: m.ts ?? null, text: m.text });
    }
    for (const e of s.edits) {
      const text = e.movePath ? `${e.path} ${e.movePath}` : e.path;
      this.rows.push({ path, off: offset, role: 'assistant', kind: 'edit', toolName: e.toolName, ts: e.ts ?? null, text });
    }
  }

  texts(): SessionTexts {
    return { mode: this.mode, from: this.from, rows: this.rows };
  }
}

/** Calls `fn` with the whole lines of a stored file from byte `from`, streamed piece by piece; returns where they end. */
export function forEachLineBlock(ctx: LoreContext, f: StoredFile, from: number, fn: (offset: number, lines: Buffer) => void): number {
  let carry: Buffer = Buffer.alloc(0);
  let offset = from;
  for (const block of ctx.db.pieces.read(f, from)) {
    const data = carry.length ? Buffer.concat([carry, block]) : block;
    const nl = data.lastIndexOf(10);
    if (nl < 0) {
      carry = data;
      continue;
    }
    fn(offset, data.subarray(0, nl + 1));
    offset += nl + 1;
    carry = data.subarray(nl + 1);
  }
  return offset;
}

/**
 * Indexes every stored session again from its files, when the store asks for it (after the v4
 * migration, or after captures with indexing off). One transaction per session; interrupted, the
 * mark stays and the next search starts over (replacing is idempotent). Returns the number of
 * sessions indexed (0 when nothing was to do).
 */
export async function rebuildSearchIndex(ctx: LoreContext, sources: readonly Source[], progress?: (done: number, total: number) => void): Promise<number> {
  const db = ctx.db;
  if (!db.search.needsRebuild()) return 0;
  const sessions = db.db.prepare('SELECT id, tool FROM sessions ORDER BY id').all() as Array<{ id: string; tool: string }>;
  let done = 0;
  for (const s of sessions) {
    const source = sources.find((x) => x.tool === s.tool);
    if (source) {
      const texts = new MessageTexts(source, s.id, 'replace');
      for (const f of db.sessionFiles(s.id)) {
        if (f.path.endsWith('.jsonl')) forEachLineBlock(ctx, f, 0, (off, lines) => texts.add(f.path, off, lines));
      }
      db.search.replace(s.id, texts.texts().rows);
    }
    progress?.(++done, sessions.length);
  }
  db.search.rebuilt();
  log.store('search index rebuilt for %d sessions', sessions.length);
  return sessions.length;
}
