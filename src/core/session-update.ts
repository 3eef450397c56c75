import { isTranscriptPath } from '../sources/registry.js';
import crypto from 'node:crypto';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { mergeFileReport } from './merge.js';
import { MessageTexts } from './search-index.js';
import { placementOf, relativizeEdit, type Placement } from './placement.js';
import { Cutter } from '../store/cutter.js';
import { contentHash, type StoredFile } from '../store/pieces.js';
import type { SessionRow, SourceFileRow } from '../store/db.js';
import type { ParserState, SessionParser, SessionSummary, Source } from '../sources/types.js';

/**
 * A new version of one native file of a session, its bytes already in the piece store.
 * `extendsStored`: the caller checked by hash that it starts with the stored version's bytes.
 */
export interface FileVersion {
  file: StoredFile;
  extendsStored?: boolean;
}

export interface UpdateOptions {
  /** How to place the session; computed from its cwd when absent (local capture). */
  placement?: Placement;
  origin: 'local' | 'sync';
  /** The session's folder when its source knows it from outside its files (DiscoveredFile.cwd). */
  cwdHint?: string;
  /** The session's time when its files record none (the native files' last change, ISO). */
  timeHint?: string;
  originMachine: string;
  sourceRows?: SourceFileRow[];
  /**
   * The versions come from a sync: a line this machine has is never replaced or dropped; a
   * conflicting version is kept beside it (another file: kept under `<path>.conflict-<sha>`).
   */
  fromSync?: boolean;
}

export interface UpdateResult {
  status: 'new' | 'updated' | 'unchanged';
  summary: SessionSummary | null;
  row: SessionRow | null;
  /** Lines (or files) that arrived in a version conflicting with this machine's: both kept. */
  conflicts: number;
}

/** What lore.db keeps for a session's parse: how far each file was parsed, and the source's state. */
interface SavedParse {
  offsets: Record<string, number>;
  parser: ParserState;
  /** Digest of the provisional edits last written (unchanged: they are not written again). */
  provisional?: string;
}

/** The files a source's parser reads (transcripts); other files (tool results) are only kept. */
const parsed = (p: string) => isTranscriptPath(p);

/**
 * Applies new versions of a session's files to the stored session, whether captured here or
 * received by sync: the one path by which sessions enter the store. Per file (docs/FORMAT.md,
 * merge rules): identical, or one a prefix of the other: the longer; diverged: merged. A file that
 * only grew keeps its pieces and is parsed from where the last parse stopped; anything else makes
 * a full parse of the session, streamed from the piece store. Never holds a whole session in
 * memory, except the two versions of a file that diverged while they are merged.
 */
export async function updateSession(ctx: LoreContext, source: Source, sessionId: string, versions: FileVersion[], opts: UpdateOptions): Promise<UpdateResult> {
  const db = ctx.db;
  const existing = db.getSession(sessionId);
  const stored = new Map(db.sessionFiles(sessionId).map((f) => [f.path, f]));
  const cutter = new Cutter(ctx.paths.loreHome, db.pieces);
  const changed: StoredFile[] = [];
  const grown = new Map<string, number>();
  let rewritten = false;
  let conflicts = 0;
  const roots = [...(existing?.agent_root ? existing.agent_root.split('\n') : []), ...(opts.placement?.agentRoots ?? [])];
  for (const v of versions) {
    const s = stored.get(v.file.path);
    if (!s) {
      changed.push(v.file);
      grown.set(v.file.path, 0);
      continue;
    }
    if (s.sha256 === v.file.sha256) continue;
    if (v.file.size > s.size && (v.extendsStored || startsWith(ctx, v.file, s))) {
      changed.push(v.file);
      grown.set(v.file.path, s.size);
      continue;
    }
    if (s.size > v.file.size && startsWith(ctx, s, v.file)) continue;
    const mine = db.pieces.readAll(s);
    const theirs = db.pieces.readAll(v.file);
    const m = mergeFileReport(v.file.path, mine, theirs, { keepConflicts: opts.fromSync, roots });
    conflicts += m.conflicts;
    const sha256 = crypto.createHash('sha256').update(m.data).digest('hex');
    if (opts.fromSync && !v.file.path.endsWith('.jsonl')) {
      // Not lines: the version the merge did not keep at the path is kept beside it (both
      // machines name it alike, so they converge).
      const other = sha256 === s.sha256 ? v.file : s;
      const aside = `${v.file.path}.conflict-${other.sha256.slice(0, 12)}`;
      if (!stored.has(aside)) {
        changed.push({ ...other, path: aside });
        conflicts += 1;
      }
    }
    if (sha256 === s.sha256) continue;
    changed.push({ path: v.file.path, size: m.data.length, sha256, pieces: sha256 === v.file.sha256 ? v.file.pieces : reuseCut(cutter, s, m.data) });
    rewritten = true;
  }
  if (!changed.length && existing) {
    if (opts.sourceRows?.length) db.putSourceFiles(opts.sourceRows);
    return { status: 'unchanged', summary: null, row: existing, conflicts };
  }
  for (const f of changed) stored.set(f.path, f);
  const all = [...stored.values()];
  if (!all.some((f) => parsed(f.path))) return { status: 'unchanged', summary: null, row: existing, conflicts };

  // Parse: from where it stopped when every change is growth, else the whole session again.
  const savedText = rewritten ? null : db.parseState(sessionId);
  let saved = savedText ? (JSON.parse(savedText) as SavedParse) : null;
  let parser: SessionParser;
  try {
    parser = source.parser(sessionId, saved?.parser ?? null);
  } catch (err) {
    // A state another version wrote: parse the whole session again.
    log.import('session %s: %s', sessionId, (err as Error).message);
    saved = null;
    parser = source.parser(sessionId, null);
  }
  const offsets: Record<string, number> = saved ? { ...saved.offsets } : {};
  const toParse = saved ? changed : all;
  // Search index: which whole lines are fed below, recorded with the write; the next search
  // indexes their messages. A full parse replaces the session's texts; a resumed one adds those
  // of the new lines (core/search-index.ts).
  const texts = MessageTexts.forWrite(ctx, saved ? 'append' : 'replace');
  const tails: Array<{ path: string; data: Buffer }> = [];
  for (const f of toParse) {
    if (!parsed(f.path)) continue;
    const fed = feedLines(ctx, parser, f, offsets[f.path] ?? 0, texts);
    // A document rewritten whole is indexed whole, from its start, whatever lines it has.
    if (source.wholeDocument?.(f.path)) texts?.fed(f.path, 0);
    offsets[f.path] = fed.offset;
    if (fed.tail.length) tails.push({ path: f.path, data: fed.tail });
  }
  // Files not fed now may end in such a line too (it was not part of the saved state).
  for (const f of all) {
    const at = offsets[f.path] ?? 0;
    if (!parsed(f.path) || toParse.includes(f) || at >= f.size) continue;
    tails.push({ path: f.path, data: Buffer.concat([...db.pieces.read(f, at)]) });
  }
  // The state is kept from before any last line without its newline (an agent may be writing
  // it): that line is parsed for this write's summary, and its edits are provisional, so it is
  // parsed again, whole, when it completes.
  const confirmed = parser.takeEdits();
  const state = parser.save();
  for (const t of tails) parser.feed(t.path, t.data);
  const provisional = [...parser.takeEdits(), ...parser.pendingEdits()];
  const summary = parser.summary();
  if (!summary.cwd && opts.cwdHint) summary.cwd = opts.cwdHint;
  if (!summary.startedAt && !summary.updatedAt && opts.timeHint) summary.startedAt = summary.updatedAt = opts.timeHint;

  let placement = opts.placement ?? (await placementOf(ctx, summary.cwd));
  const knownRoots = existing?.agent_root ? existing.agent_root.split('\n') : [];
  placement = {
    ...placement,
    // A session belongs to the repository it was first placed in (its cwd may name a folder that
    // is another repository, or none, on this machine).
    repoRoot: existing?.repo_root ?? placement.repoRoot,
    repoId: existing?.repo_id ?? placement.repoId,
    agentRoots: [...new Set([...placement.agentRoots, ...knownRoots])],
  };
  const row: SessionRow = {
    id: sessionId,
    tool: summary.tool,
    tool_version: summary.toolVersion ?? null,
    cwd: summary.cwd ?? null,
    repo_root: placement.repoRoot,
    repo_id: placement.repoId,
    agent_root: placement.agentRoots.length ? placement.agentRoots.join('\n') : null,
    branch: summary.gitBranch ?? null,
    started_at: summary.startedAt ?? null,
    updated_at: summary.updatedAt ?? null,
    message_count: summary.messageCount,
    subagent_count: summary.subagentCount,
    title: summary.title ?? null,
    origin: existing?.origin ?? opts.origin,
    origin_machine: existing?.origin_machine ?? opts.originMachine,
    bundle_sha256: contentHash(all),
    bundle_size: all.reduce((n, f) => n + f.size, 0),
    malformed_lines: summary.malformedLines,
    unknown_lines: summary.unknownLines,
    imported_at: ctx.env.now().toISOString(),
  };
  const rel = (e: Parameters<typeof relativizeEdit>[0]) => relativizeEdit(e, summary.cwd, placement);
  const provisionalRows = provisional.map(rel);
  const provisionalDigest = crypto.createHash('sha256').update(JSON.stringify(provisionalRows)).digest('hex');
  db.writeSession({
    row,
    files: changed,
    editMode: saved ? 'append' : 'replace',
    edits: confirmed.map(rel),
    provisional: saved && saved.provisional === provisionalDigest ? null : provisionalRows,
    parseState: JSON.stringify({ offsets, parser: state, provisional: provisionalDigest } satisfies SavedParse),
    sources: opts.sourceRows ?? [],
    texts: texts ? texts.texts() : null,
  });
  return { status: existing ? 'updated' : 'new', summary, row, conflicts };
}

/** True when `long`'s bytes start with all of `short`'s: by their pieces when they share them, else by hashing. */
export function startsWith(ctx: LoreContext, long: StoredFile, short: StoredFile): boolean {
  if (long.size < short.size) return false;
  let i = 0;
  let at = 0;
  while (i < short.pieces.length && i < long.pieces.length && short.pieces[i]!.sha === long.pieces[i]!.sha) at += short.pieces[i++]!.length;
  if (i === short.pieces.length) return true;
  const h = crypto.createHash('sha256');
  let left = short.size;
  for (const block of ctx.db.pieces.read(long)) {
    if (left <= 0) break;
    h.update(block.length > left ? block.subarray(0, left) : block);
    left -= block.length;
  }
  return h.digest('hex') === short.sha256;
}

/** Cuts merged bytes, keeping the stored pieces that lie wholly within the part it shares with them. */
function reuseCut(cutter: Cutter, stored: StoredFile, merged: Buffer): StoredFile['pieces'] {
  const kept: StoredFile['pieces'] = [];
  let at = 0;
  for (const p of stored.pieces) {
    if (at + p.length > merged.length || !cutter.pieces.get(p).equals(merged.subarray(at, at + p.length))) break;
    kept.push(p);
    at += p.length;
  }
  return [...kept, ...cutter.cut(merged.subarray(at))];
}

/**
 * Feeds a file's whole lines from byte `from` to the parser, streamed piece by piece; returns the
 * offset parsed up to, and the last line when it has no newline yet (it is not fed). The search
 * index's recorder notes where the fed lines start.
 */
function feedLines(ctx: LoreContext, parser: SessionParser, f: StoredFile, from: number, texts: MessageTexts | null): { offset: number; tail: Buffer } {
  return ctx.db.pieces.lineBlocks(f, from, (offset, lines) => {
    parser.feed(f.path, lines);
    texts?.fed(f.path, offset);
  });
}
