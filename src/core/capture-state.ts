import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { log } from '../log.js';
import { existingRoots, listRoots, type ListSince, type Listing } from '../sources/listing.js';
import { isListingFindArgs, listingFindArgs } from '../sources/find-args.js';
import type { EarlyFind } from '../env.js';
import { captureStateFile, readCaptureState } from './early-listing.js';

/**
 * What a complete capture leaves for the next one, so that the next lists only what changed
 * (docs/architecture.md, "Capture"): the roots it listed, the ctime reference, the folders seen,
 * when everything was last listed, the size limit it ran with, and the find command the next
 * capture will run (which the launcher starts early: src/core/early-listing.ts). One file,
 * LORE_HOME/capture-since/state (0600, in a 0700 folder), outside lore.db: the listing starts
 * before the database is opened. Another set of roots (another repository with its own agent
 * files) replaces it, and its first capture lists everything.
 */
export interface SinceState {
  v: 2;
  /** sha256 of every root, and of those that existed. */
  roots: string;
  existing: string;
  /** The ctime reference, "<sec>.<nsec>": a little before the capture started. */
  ref: string;
  /** When a capture last listed every file (ms since the epoch). */
  fullAt: number;
  dirs: string[];
  maxFileBytes: number;
  /** The first find of the next capture's listing. */
  find: string[];
}

/**
 * Files changed this long before a capture started are listed again by the next one: ctimes come
 * from a coarse clock, and some file systems (network ones, FAT) keep whole seconds.
 */
const MARGIN_MS = 5_000;
/**
 * The state is written again when its reference is this old (or the folders, the size limit or
 * a full listing changed it): until then, files changed since are listed again and their stamps
 * compared, which costs less than writing a file on every capture.
 */
const REFRESH_MS = 60_000;
/**
 * ... unless the listing of changes held more records than this: files written in a burst just
 * before the reference (a restore, an agent's first run) would otherwise all be listed again by
 * every capture of the next minute.
 */
const RELIST_MAX = 64;
/** Everything is listed again at least this often, whatever the clock or a file system did. */
export const FULL_EVERY_MS = 60 * 60 * 1000;

/** A capture's listing in progress: started before the store is opened. */
export interface StartedListing {
  listing: Promise<Listing | null>;
  /** The state it lists changes since; null when it lists every file. */
  since: SinceState | null;
  startedMs: number;
  roots: readonly string[];
  maxDepth: number;
}

const digest = (xs: readonly string[]) => createHash('sha256').update(xs.join('\0')).digest('hex');

/** The state file's content, or null when absent, too large or malformed. */
export function readState(loreHome: string): SinceState | null {
  const s = readCaptureState(loreHome) as SinceState | null;
  const ok = s && typeof s === 'object' && s.v === 2 && typeof s.roots === 'string' && typeof s.existing === 'string' && typeof s.ref === 'string' && /^\d+\.\d{9}$/.test(s.ref)
    && Number.isFinite(s.fullAt) && Array.isArray(s.dirs) && s.dirs.every((d) => typeof d === 'string') && Number.isInteger(s.maxFileBytes) && isListingFindArgs(s.find);
  return ok ? s : null;
}

/** "<sec>.<nsec>" of a time in milliseconds. */
const refOf = (ms: number) => `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;
const refMs = (ref: string) => Number(ref.split('.')[0]) * 1000;

/**
 * Starts the listing of `roots`: of changes only when a complete capture of the same existing
 * roots left its state less than FULL_EVERY_MS ago and the clock has not gone back since;
 * otherwise of every file.
 */
export function startListing(loreHome: string, roots: readonly string[], maxDepth: number, vars: Readonly<Record<string, string | undefined>>, nowMs = Date.now(), early?: EarlyFind): StartedListing {
  const state = readState(loreHome);
  const usable = state && state.roots === digest(roots) && state.existing === digest(existingRoots(roots)) && nowMs >= refMs(state.ref) && nowMs - state.fullAt < FULL_EVERY_MS;
  const since = usable ? state : null;
  if (state && !usable) log.import('listing every file (the last full listing is old, or the roots or the clock changed)');
  const arg: ListSince | undefined = since ? { ref: since.ref, dirs: new Set(since.dirs) } : undefined;
  const listing = listRoots(roots, maxDepth, vars, arg, early);
  listing.catch(() => undefined);
  // The launcher's find (if any) started earlier: the next reference counts from then.
  return { listing, since, startedMs: Math.min(nowMs, early?.startedMs ?? nowMs), roots, maxDepth };
}

/**
 * Records what a complete capture listed, when it matters (see REFRESH_MS): the next capture then
 * lists changes since a little before this one started.
 */
export function saveState(loreHome: string, started: StartedListing, listing: Listing, maxFileBytes: number, listed: number): void {
  const prev = started.since;
  if (listing.changesOnly && prev && listed <= RELIST_MAX && prev.maxFileBytes === maxFileBytes && started.startedMs - refMs(prev.ref) < REFRESH_MS + MARGIN_MS
    && prev.dirs.length === listing.dirs.length && prev.dirs.every((d, i) => d === listing.dirs[i])) return;
  const existing = existingRoots(started.roots);
  const ref = refOf(Math.max(0, started.startedMs - MARGIN_MS));
  const state: SinceState = {
    v: 2,
    roots: digest(started.roots),
    existing: digest(existing),
    ref,
    fullAt: listing.changesOnly && prev ? prev.fullAt : started.startedMs,
    dirs: [...listing.dirs],
    maxFileBytes,
    find: listingFindArgs(existing, started.maxDepth, ref),
  };
  const file = captureStateFile(loreHome);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  } catch (err) {
    // Not kept: the next capture lists every file, as it would have without the state.
    log.import('cannot keep the capture state: %s', (err as Error).message);
  }
}
