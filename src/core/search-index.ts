import { log } from '../log.js';
import type { LoreContext } from './context.js';
import type { Source } from '../sources/types.js';
import { isTranscriptPath } from '../sources/registry.js';
import type { IndexedText, SearchHit, SessionTexts, TextRow } from '../store/search-index.js';
import type { StoredFile } from '../store/pieces.js';

/** `LORE_SEARCH_INDEX=0` turns indexing off during capture (the benchmark's baseline); the next search rebuilds. */
export function searchIndexEnabled(ctx: LoreContext): boolean {
  return ctx.env.vars.LORE_SEARCH_INDEX !== '0';
}

/**
 * Notes which whole lines a session write parses, for the search index: per native file, the
 * offset from which lines are new ('append', a resumed parse) or every file from its start
 * ('replace', a whole parse: new session, merge, lost state). Costs nothing per line; the texts
 * are built when the index catches up (updateSearchIndex).
 */
/** The largest document (a file an agent rewrites whole) the index parses; bigger ones are left out of search. */
const WHOLE_DOCUMENT_MAX = 64 * 1024 * 1024;

export class MessageTexts {
  private readonly from: Record<string, number> = {};

  constructor(private readonly mode: SessionTexts['mode']) {}

  /** A recorder for a session write, or null when indexing is off. */
  static forWrite(ctx: LoreContext, mode: SessionTexts['mode']): MessageTexts | null {
    return searchIndexEnabled(ctx) ? new MessageTexts(mode) : null;
  }

  /** Whole lines of native file `path` from byte `offset` were fed to the parser. */
  fed(path: string, offset: number): void {
    if (!(path in this.from) || offset < this.from[path]!) this.from[path] = offset;
  }

  texts(): SessionTexts {
    return { mode: this.mode, from: this.from };
  }
}

/**
 * The searchable texts of a block of whole lines of one native file, keyed by the block's offset.
 * The capture parser builds no message texts (that halved capture time), so the block is parsed
 * again here, with texts, on its own: messages are read line by line, so a block gives the same
 * texts the whole file would for those lines (only a tool result whose call is in an earlier block
 * lacks its tool name). Injected context (role system) is left out: it would drown real hits.
 */
export function blockTexts(source: Source, sessionId: string, path: string, off: number, lines: Buffer): TextRow[] {
  const rows: TextRow[] = [];
  const len = lines.length;
  const s = source.parse(sessionId, [{ path, data: lines, mtimeMs: 0 }], { text: true });
  for (const m of s.messages) {
    if (m.role === 'system' || !m.text.trim()) continue;
    rows.push({ path, off, len, ord: rows.length, role: m.role, kind: m.kind, toolName: m.toolName ?? null, ts: m.ts ?? null, text: m.text });
  }
  for (const e of s.edits) rows.push({ path, off, len, ord: rows.length, role: 'assistant', kind: 'edit', toolName: e.toolName, ts: e.ts ?? null, text: e.movePath ? `${e.path} ${e.movePath}` : e.path });
  return rows;
}

/** Where an indexed text is: its row, and the block of lines of a stored file it was parsed from. */
export type TextPlace = Pick<SearchHit, 'id' | 'session_id' | 'path' | 'off' | 'len' | 'ord'>;

/**
 * The texts of indexed rows, parsed again from the piece store (the index keeps no text): each
 * block of lines is read (only its own pieces) and parsed once, however many of its texts are
 * asked for. A row whose block is gone or no longer holds it (a capture replaced the file since
 * the index caught up) is left out. Throws the piece store's StoreError for a missing or corrupt
 * piece.
 */
export function indexedTexts(ctx: LoreContext, sources: readonly Source[], places: readonly TextPlace[]): IndexedText[] {
  const out: IndexedText[] = [];
  const blocks = new Map<string, TextRow[]>();
  const sessions = new Map<string, { source: Source | undefined; files: Map<string, StoredFile> }>();
  for (const p of places) {
    let s = sessions.get(p.session_id);
    if (!s) {
      const tool = ctx.db.getSession(p.session_id)?.tool;
      s = { source: sources.find((x) => x.tool === tool), files: new Map(ctx.db.sessionFiles(p.session_id).map((f) => [f.path, f])) };
      sessions.set(p.session_id, s);
    }
    const key = `${p.session_id}\0${p.path}\0${p.off}\0${p.len}`;
    let rows = blocks.get(key);
    if (!rows) {
      const f = s.files.get(p.path);
      rows = s.source && f && p.off + p.len <= f.size ? blockTexts(s.source, p.session_id, p.path, p.off, readRange(ctx, f, p.off, p.len)) : [];
      blocks.set(key, rows);
    }
    const row = rows[p.ord];
    if (row) out.push({ id: p.id, text: row.text });
  }
  return out;
}

/** Bytes [off, off + len) of a stored file, reading only the pieces that hold them. */
function readRange(ctx: LoreContext, f: StoredFile, off: number, len: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (const data of ctx.db.pieces.read(f, off)) {
    parts.push(data);
    n += data.length;
    if (n >= len) break;
  }
  return Buffer.concat(parts).subarray(0, len);
}

/** Calls `fn` with the whole lines of a stored file from byte `from`, streamed piece by piece; returns where they end. */
export function forEachLineBlock(ctx: LoreContext, f: StoredFile, from: number, fn: (offset: number, lines: Buffer) => void): number {
  return ctx.db.pieces.lineBlocks(f, from, fn).offset;
}

/**
 * Brings the search index up to date: indexes the whole lines captures left pending (after the v4
 * migration, every transcript; after a write with indexing off, every transcript again), one
 * transaction per file. Interrupted, what is left stays pending. Returns the number of files
 * indexed.
 */
export async function updateSearchIndex(ctx: LoreContext, sources: readonly Source[], progress?: (done: number, total: number) => void): Promise<number> {
  const db = ctx.db;
  if (db.search.needsRebuild()) db.search.requeueAll(isTranscriptPath);
  const pending = db.search.pending();
  if (!pending.length) return 0;
  const tools = db.sessionTools();
  let done = 0;
  let lastSession = '';
  let files = new Map<string, StoredFile>();
  for (const p of pending) {
    if (p.session_id !== lastSession) {
      files = new Map(db.sessionFiles(p.session_id).map((f) => [f.path, f]));
      lastSession = p.session_id;
    }
    const source = sources.find((s) => s.tool === tools.get(p.session_id));
    const f = files.get(p.path);
    const rows: TextRow[] = [];
    const whole = !!source?.wholeDocument?.(p.path);
    if (source && f && whole) {
      // Parsed whole (a JSON document); its rows replace all the file's rows. Bounded: a session's
      // files are capped when captured and synced.
      if (f.size <= WHOLE_DOCUMENT_MAX) rows.push(...blockTexts(source, p.session_id, p.path, 0, ctx.db.pieces.readAll(f)));
    } else if (source && f) forEachLineBlock(ctx, f, p.off, (off, lines) => rows.push(...blockTexts(source, p.session_id, p.path, off, lines)));
    db.search.indexed(p, rows, whole ? 0 : p.off);
    done += 1;
    progress?.(done, pending.length);
  }
  log.store('search index: %d files indexed', pending.length);
  return pending.length;
}
