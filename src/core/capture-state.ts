import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { log } from '../log.js';
import { existingRoots, listRoots, type ListSince, type Listing } from '../sources/listing.js';

/**
 * What a complete capture leaves for the next one, so that the next lists only what changed
 * (docs/architecture.md, "Capture"): for one set of capture roots, the ctime reference, the
 * folders seen, when everything was last listed, the file count and the size limit it ran with.
 * Kept in LORE_HOME/capture-since/<roots digest>, 0600, outside lore.db: the listing starts before
 * the database is opened.
 */
interface SinceState {
  v: 1;
  /** sha256 of the roots that existed. */
  existing: string;
  /** The ctime reference, "<sec>.<nsec>": a little before the capture started. */
  ref: string;
  /** When a capture last listed every file (ms since the epoch). */
  fullAt: number;
  dirs: string[];
  filesSeen: number;
  maxFileBytes: number;
}

/**
 * Files changed this long before a capture started are listed again by the next one: ctimes come
 * from a coarse clock, and some file systems (network ones, FAT) keep whole seconds.
 */
const MARGIN_MS = 5_000;
/** Everything is listed again at least this often, whatever the clock or a file system did. */
export const FULL_EVERY_MS = 60 * 60 * 1000;
/** A state file larger than this is not read (it holds a few hundred folder names). */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

/** A capture's listing in progress: started before the store is opened. */
export interface StartedListing {
  listing: Promise<Listing | null>;
  /** The state it lists changes since; null when it lists every file. */
  since: SinceState | null;
  startedMs: number;
  roots: readonly string[];
  maxDepth: number;
}

const stateDir = (loreHome: string) => path.join(loreHome, 'capture-since');
const digest = (xs: readonly string[]) => createHash('sha256').update(xs.join('\0')).digest('hex');
const stateFile = (loreHome: string, roots: readonly string[]) => path.join(stateDir(loreHome), digest(roots).slice(0, 32));

function readState(file: string): SinceState | null {
  try {
    if (fs.statSync(file).size > MAX_STATE_BYTES) return null;
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as SinceState;
    const ok = s && s.v === 1 && typeof s.existing === 'string' && /^\d+\.\d{9}$/.test(s.ref) && Number.isFinite(s.fullAt)
      && Array.isArray(s.dirs) && s.dirs.every((d) => typeof d === 'string') && Number.isInteger(s.filesSeen) && Number.isInteger(s.maxFileBytes);
    return ok ? s : null;
  } catch {
    return null;
  }
}

/** "<sec>.<nsec>" of a time in milliseconds. */
const refOf = (ms: number) => `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;

/**
 * Starts the listing of `roots`: of changes only when a complete capture of the same existing
 * roots left its state less than FULL_EVERY_MS ago and the clock has not gone back since;
 * otherwise of every file.
 */
export function startListing(loreHome: string, roots: readonly string[], maxDepth: number, vars: Readonly<Record<string, string | undefined>>, nowMs = Date.now()): StartedListing {
  const state = readState(stateFile(loreHome, roots));
  const refMs = state ? Number(state.ref.split('.')[0]) * 1000 : 0;
  const usable = state && state.existing === digest(existingRoots(roots)) && nowMs >= refMs && nowMs - state.fullAt < FULL_EVERY_MS;
  const since = usable ? state : null;
  if (state && !usable) log.import('listing every file (the last full listing is old, the roots or the clock changed)');
  const arg: ListSince | undefined = since ? { ref: since.ref, dirs: new Set(since.dirs) } : undefined;
  const listing = listRoots(roots, maxDepth, vars, arg);
  listing.catch(() => undefined);
  return { listing, since, startedMs: nowMs, roots, maxDepth };
}

/** Records what a complete capture listed: the next one lists changes since a little before it started. */
export function saveState(loreHome: string, started: StartedListing, listing: Listing, filesSeen: number, maxFileBytes: number): void {
  const state: SinceState = {
    v: 1,
    existing: digest(existingRoots(started.roots)),
    ref: refOf(Math.max(0, started.startedMs - MARGIN_MS)),
    fullAt: listing.changesOnly ? started.since!.fullAt : started.startedMs,
    dirs: [...listing.dirs],
    filesSeen,
    maxFileBytes,
  };
  const file = stateFile(loreHome, started.roots);
  try {
    fs.mkdirSync(stateDir(loreHome), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  } catch (err) {
    // Not kept: the next capture lists every file, as it would have without the state.
    log.import('cannot keep the capture state: %s', (err as Error).message);
  }
}
