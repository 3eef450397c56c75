import type { FailureKind } from '../../errors.js';
import type { ImportSummary } from '../import.js';

/** What a sync is asked to do and what it reports: shared by run.ts and the pull and seal loops. */

export interface SyncOptions {
  remote?: string;
  /** The global personal store instead of this repository's. */
  global?: boolean;
  /** Talk to this address instead of the remote's URL (git-remote-lore passes the inner address). */
  url?: string;
  /** Commit and update refs/lore/sessions but leave the push to the caller (git-remote-lore pushes it with the code). */
  deferPush?: boolean;
  dryRun?: boolean;
  /** Skip capture. */
  noCapture?: boolean;
  /** false: receive only (the post-merge hook); nothing is committed or pushed. */
  push?: boolean;
  maxPayloadBytes?: number;
  /** Called with progress for long syncs (the CLI shows it on a TTY). */
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface SyncResult {
  remote: string;
  storeId: string;
  /** Sessions received from the remote and merged into the local store (or, with --dry-run, that would be). */
  pulled: string[];
  /** Sessions written to the ref and pushed (or, with --dry-run, that would be). */
  pushed: string[];
  /** Sessions skipped for their size. */
  oversized: string[];
  /** Remote sessions that failed authentication or could not be read: reported, skipped, never applied. */
  failed: Array<{ id: string; reason: string; cause: FailureKind }>;
  /** Remote sessions that failed in an earlier sync and have not changed since: not read again. */
  stillFailing: number;
  commit: string | null;
  retries: number;
  dryRun: boolean;
  /** The store was in format 1 and this sync converted it to format 2 (or, with --dry-run, would). */
  converted: boolean;
  capture: ImportSummary | null;
  warnings: string[];
}
