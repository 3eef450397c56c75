import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { updateSession, type FileVersion } from './session-update.js';
import { getSetting } from './config.js';
import type { SourceFileRow } from '../store/db.js';
import { Cutter } from '../store/cutter.js';
import type { StoredFile } from '../store/pieces.js';
import { createSources, isTranscriptPath } from '../sources/registry.js';
import type { Reporter } from '../sources/discover.js';
import { ROOT_DEPTH, type DiscoveredFile, type Source } from '../sources/types.js';
import { listRoots, recordOf, recordPath, records, type Listing } from '../sources/listing.js';
import { saveState, startListing } from './capture-state.js';

/** kv key: the listing digest of the last complete capture, and how many files it saw. */
const FINGERPRINT_KEY = 'capture_fingerprint';
/** kv key: how many files the last complete capture saw (a listing of changes counts from it). */
const FILES_SEEN_KEY = 'capture_files_seen';

/** The last complete capture's listing (LORE_HOME/capture-listing): paths of local agent files, 0600. */
const listingFile = (ctx: LoreContext) => path.join(ctx.paths.loreHome, 'capture-listing');

/** Writes the listing (temporary file, then rename); returns its sha256, or '' if it could not be written. */
function writeListing(ctx: LoreContext, text: string): string {
  const file = listingFile(ctx);
  try {
    fs.writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
    return createHash('sha256').update(text).digest('hex');
  } catch (err) {
    log.import('cannot keep the listing: %s', (err as Error).message);
    return '';
  }
}

/** The kept listing, if it is the one with this sha256. */
function readListing(ctx: LoreContext, sha: string): string | null {
  try {
    const text = fs.readFileSync(listingFile(ctx), 'utf8');
    return createHash('sha256').update(text).digest('hex') === sha ? text : null;
  } catch {
    return null;
  }
}

/** Default size limit for one native file (256 MiB); LORE_MAX_FILE_BYTES overrides it. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface ImportOptions {
  maxFileBytes?: number;
}

export interface ImportSummary {
  filesSeen: number;
  filesRead: number;
  sessionsNew: number;
  sessionsUpdated: number;
  sessionsUnchanged: number;
  bytesRead: number;
  malformedLines: number;
  unknownLines: number;
  unreadableFiles: string[];
  tooLargeFiles: string[];
  warnings: string[];
}

/** The agent sources of the registry, in its fixed order, for this context's environment. */
export function sources(ctx: LoreContext, report: Reporter): Source[] {
  return createSources(ctx.env, report);
}

/**
 * Capture: finds agent session files, and (re)imports the sessions whose files are new or
 * changed since the last run (size or mtime differ). Unchanged files cost a stat. Bad input never
 * aborts the import: malformed lines are counted, unreadable and oversized files are reported.
 */
export async function importSessions(ctx: LoreContext, opts: ImportOptions = {}): Promise<ImportSummary> {
  const summary: ImportSummary = {
    filesSeen: 0, filesRead: 0, sessionsNew: 0, sessionsUpdated: 0, sessionsUnchanged: 0, bytesRead: 0,
    malformedLines: 0, unknownLines: 0, unreadableFiles: [], tooLargeFiles: [], warnings: [],
  };
  const warn = (m: string) => summary.warnings.push(m);
  const report: Reporter = {
    unreadable: (p, reason) => {
      summary.unreadableFiles.push(p);
      warn(`cannot read ${p} (${reason}); skipped`);
    },
  };
  const all = sources(ctx, report);
  // One `find` lists the native files: those changed since the last complete capture when it left
  // its state (capture-state.ts), else every file. It starts before the store is opened: the
  // database loads while find walks.
  const started = startListing(ctx.paths.loreHome, all.flatMap((s) => s.roots), ROOT_DEPTH + 1, ctx.env.vars, Date.now(), ctx.env.earlyFind);
  const db = ctx.db;
  const maxFileBytes = opts.maxFileBytes ?? (Number(await getSetting(ctx, 'max_file_bytes')) || DEFAULT_MAX_FILE_BYTES);
  let listing = await started.listing;
  // Another size limit: every file is looked at again (one skipped as too large may fit now).
  if (listing?.changesOnly && started.since?.maxFileBytes !== maxFileBytes) listing = await listRoots(started.roots, started.maxDepth, ctx.env.vars);
  let current: string[] | null = null;
  let changedRecs: string[] | null = null;
  let last: string[] | undefined;
  let fingerprint: string | null = null;
  /** After a complete capture: the state its next listing starts from, and the file count. */
  const complete = (listed: Listing, changed: number) => {
    saveState(ctx.paths.loreHome, started, listed, maxFileBytes, changed);
    if (db.getKv(FILES_SEEN_KEY) !== String(summary.filesSeen)) db.setKv(FILES_SEEN_KEY, String(summary.filesSeen));
  };
  if (listing?.changesOnly) {
    changedRecs = records(listing.text);
    summary.filesSeen = Number(db.getKv(FILES_SEEN_KEY)) || 0;
    if (!changedRecs.length) {
      log.import('nothing changed since the last capture (%d files)', summary.filesSeen);
      return summary;
    }
  } else {
    // When the whole listing (paths, sizes, mtimes, modes) is the one the last complete capture
    // saw, no file can differ from its stamp, so there is nothing to do.
    fingerprint = listing?.digest ? createHash('sha256').update(`capture v1\0${maxFileBytes}\0${listing.digest}`).digest('hex') : null;
    last = db.getKv(FINGERPRINT_KEY)?.split(' ');
    if (listing && fingerprint && last?.[0] === fingerprint) {
      summary.filesSeen = Number(last[1]) || 0;
      complete(listing, 0);
      log.import('nothing changed since the last capture (%d files)', summary.filesSeen);
      return summary;
    }
    // Only records that differ from the last complete capture's listing can hold changes: with
    // thousands of files and one new, capture looks at that one (and its session's other files),
    // not at all of them and their stamps.
    const previous = listing && last?.[2] && last[3] === String(maxFileBytes) ? readListing(ctx, last[2]) : null;
    if (listing && previous !== null) {
      const before = new Set(records(previous));
      current = records(listing.text);
      changedRecs = current.filter((r) => !before.has(r));
      summary.filesSeen = Number(last![1]) || 0;
    }
  }
  const knownMap = changedRecs ? null : db.sourceFiles();
  const affected = new Map<string, { source: Source; files: DiscoveredFile[] }>();
  const allFiles: Array<{ source: Source; file: DiscoveredFile; sessionId: string | null; changed: boolean }> = [];
  const seenOnly: SourceFileRow[] = [];

  // One listing for every source: a subset is parsed when first asked, once.
  const toLook = changedRecs && listing ? listing.subset(changedRecs) : listing;
  for (const source of all) {
    for (const file of source.discover(toLook)) {
      const prev = knownMap ? knownMap.get(file.absPath) : db.sourceFile(file.absPath);
      // Incremental: the count is the last capture's plus the files never seen before.
      if (!changedRecs || !prev) summary.filesSeen += 1;
      // A session file stamped without a session was skipped (over the size limit): look again,
      // the limit may have been raised.
      const changed = !prev || prev.size !== file.size || prev.mtime_ms !== file.mtimeMs || (prev.session_id === null && file.sessionId !== null);
      let sessionId = file.sessionId ?? prev?.session_id ?? null;
      if (changed && file.size > maxFileBytes) {
        summary.tooLargeFiles.push(file.absPath);
        warn(`skipped ${file.absPath}: ${file.size} bytes is over the ${maxFileBytes}-byte limit (raise LORE_MAX_FILE_BYTES to import it)`);
        seenOnly.push({ path: file.absPath, tool: file.tool, session_id: null, size: file.size, mtime_ms: file.mtimeMs });
        continue;
      }
      if (changed && file.sessionId === null) {
        try {
          sessionId = source.sessionIdOf(file);
        } catch (err) {
          summary.unreadableFiles.push(file.absPath);
          warn(`cannot read ${file.absPath} (${(err as NodeJS.ErrnoException).code ?? err}); skipped`);
          continue;
        }
        if (!sessionId) seenOnly.push({ path: file.absPath, tool: file.tool, session_id: null, size: file.size, mtime_ms: file.mtimeMs });
      }
      allFiles.push({ source, file, sessionId, changed });
      if (changed && sessionId) affected.set(`${source.tool}\0${sessionId}`, { source, files: [] });
    }
  }
  if (listing && changedRecs && affected.size) {
    // The unchanged files of the changed sessions, which a session is re-read with: those whose
    // path names the session (e.g. <id>.jsonl and <id>/...), and those the store has recorded
    // for it (files tied to it by content).
    const ids = [...affected.keys()].map((k) => k.slice(k.indexOf('\0') + 1));
    const changedSet = new Set(changedRecs);
    const recorded = new Set(db.sourceFilePaths(ids));
    // A listing of changes has no unchanged records: those the store recorded are looked at.
    const changedPaths = current ? null : new Set(changedRecs.map(recordPath));
    const siblings = current
      ? current.filter((r) => !changedSet.has(r) && (ids.some((id) => r.includes(id)) || recorded.has(recordPath(r))))
      : [...recorded].filter((p) => !changedPaths!.has(p)).map(recordOf).filter((r): r is string => r !== null);
    const siblingListing = listing.subset(siblings);
    for (const source of all) {
      for (const file of source.discover(siblingListing)) {
        const sessionId = file.sessionId ?? db.sourceFile(file.absPath)?.session_id ?? null;
        if (sessionId) allFiles.push({ source, file, sessionId, changed: false });
      }
    }
  }
  for (const f of allFiles) {
    if (!f.sessionId) continue;
    const a = affected.get(`${f.source.tool}\0${f.sessionId}`);
    if (a && (f.file.size <= maxFileBytes)) a.files.push(f.file);
  }
  if (seenOnly.length) db.putSourceFiles(seenOnly);
  log.import('%d files seen, %d sessions to (re)import', summary.filesSeen, affected.size);

  const timing: Timing = { read: 0, write: 0 };
  for (const [key, { source, files }] of affected) {
    const sessionId = key.split('\0')[1]!;
    await importOne(ctx, source, sessionId, files, summary, timing);
    if (summary.sessionsNew + summary.sessionsUpdated === 1 && ctx.env.vars.LORE_TEST_CRASH === 'during-import') process.kill(process.pid, 'SIGKILL');
  }
  log.import('time spent (ms): %o', Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)])));
  // Files that could not be read are retried next time, so such a capture is not complete.
  if (listing && !summary.unreadableFiles.length) {
    if (fingerprint) db.setKv(FINGERPRINT_KEY, `${fingerprint} ${summary.filesSeen} ${writeListing(ctx, listing.text)} ${maxFileBytes}`);
    complete(listing, changedRecs?.length ?? Infinity);
  }
  return summary;
}

async function importOne(
  ctx: LoreContext, source: Source, sessionId: string, files: DiscoveredFile[],
  summary: ImportSummary, timing: Timing,
): Promise<void> {
  const db = ctx.db;
  // process.hrtime, not performance.now(): the latter loads perf_hooks (~1 ms of every capture).
  const clock = () => Number(process.hrtime.bigint()) / 1e6;
  let t = clock();
  const lap = (k: keyof Timing) => {
    const now = clock();
    timing[k] += now - t;
    t = now;
  };
  const stored = new Map(db.sessionFiles(sessionId).map((f) => [f.path, f]));
  const cutter = new Cutter(ctx.paths.loreHome, db.pieces);
  const versions: FileVersion[] = [];
  const rows: SourceFileRow[] = [];
  for (const f of files) {
    try {
      const v = captureFile(cutter, f.absPath, f.bundlePath, stored.get(f.bundlePath));
      versions.push(v);
      rows.push({ path: f.absPath, tool: f.tool, session_id: sessionId, size: v.file.size, mtime_ms: f.mtimeMs });
      summary.filesRead += 1;
      summary.bytesRead += v.read;
    } catch (err) {
      summary.unreadableFiles.push(f.absPath);
      summary.warnings.push(`cannot read ${f.absPath} (${(err as NodeJS.ErrnoException).code ?? err}); skipped, the rest of the session is imported`);
    }
  }
  if (!stored.size && !versions.some((v) => isTranscriptPath(v.file.path))) return;
  lap('read');
  // Files the agent has since deleted stay in the store; lines merged in from other machines by
  // sync survive the local transcript growing (the merge rules of docs/FORMAT.md).
  const cwdHint = files.find((f) => f.cwd)?.cwd;
  // For agents that record no times (Cursor): the files' last change.
  const timeHint = files.length ? new Date(Math.max(...files.map((f) => f.mtimeMs))).toISOString() : undefined;
  const result = await updateSession(ctx, source, sessionId, versions, { origin: 'local', originMachine: ctx.machineId, sourceRows: rows, ...(cwdHint ? { cwdHint } : {}), ...(timeHint ? { timeHint } : {}) });
  lap('write');
  summary.malformedLines += result.summary?.malformedLines ?? 0;
  summary.unknownLines += result.summary?.unknownLines ?? 0;
  if (result.status === 'new') summary.sessionsNew += 1;
  else if (result.status === 'updated') summary.sessionsUpdated += 1;
  else summary.sessionsUnchanged += 1;
}

/** Read size of one step when streaming an agent file. */
const BLOCK = 4 * 1024 * 1024;

/**
 * Streams one agent file into the piece store. When it starts with the stored version's bytes
 * (checked by hashing that prefix, not by trusting sizes), only the bytes after them are cut and
 * stored; otherwise the whole file is. Returns the new version and how many bytes were read.
 */
export function captureFile(cutter: Cutter, absPath: string, bundlePath: string, stored: StoredFile | undefined): FileVersion & { read: number } {
  // Not an extension of the stored version after all: cut the whole file (a second read).
  const again = (readSoFar: number) => {
    const v = captureFile(cutter, absPath, bundlePath, undefined);
    return { ...v, read: v.read + readSoFar };
  };
  const fd = fs.openSync(absPath, 'r');
  try {
    const whole = createHash('sha256');
    let prefix = stored && stored.size > 0 ? createHash('sha256') : null;
    let extendsStored = stored?.size === 0;
    let cut = prefix ? null : cutter.start();
    let pos = 0;
    let read = 0;
    // One buffer serves every read: the chunker copies what it keeps.
    const buf = Buffer.allocUnsafe(BLOCK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, BLOCK, pos);
      if (n === 0) break;
      let block = buf.subarray(0, n);
      whole.update(block);
      read += n;
      pos += n;
      if (prefix && stored) {
        const before = pos - n;
        const inPrefix = Math.min(n, stored.size - before);
        prefix.update(block.subarray(0, inPrefix));
        if (before + inPrefix < stored.size) continue;
        extendsStored = prefix.digest('hex') === stored.sha256;
        prefix = null;
        if (!extendsStored) return again(read);
        cut = cutter.start();
        block = block.subarray(inPrefix);
      }
      if (block.length) cut!.push(block);
    }
    if (prefix) return again(read);
    const fresh = cut ? cut.end() : [];
    const pieces = extendsStored && stored ? [...stored.pieces, ...fresh] : fresh;
    return { file: { path: bundlePath, size: pos, sha256: whole.digest('hex'), pieces }, extendsStored, read };
  } finally {
    fs.closeSync(fd);
  }
}

interface Timing {
  read: number;
  write: number;
}
