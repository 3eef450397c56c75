import { setTimeout as sleep } from 'node:timers/promises';
import { GitError } from '../errors.js';
import type { GitRunner } from './runner.js';

/** Refs, revisions and history: rev-parse, update-ref, for-each-ref, rev-list, merge-base. */

export const ZERO_OID = '0000000000000000000000000000000000000000';

/** How often an update-ref that failed while its ref stayed put is tried again (a lock held by another writer). */
const CAS_TRIES = 3;

/** Resolves a ref or revision to an object id; null when it does not exist. */
export async function resolve(g: GitRunner, rev: string): Promise<string | null> {
  const r = await g.raw(['rev-parse', '-q', '--verify', '--end-of-options', rev]);
  if (r.exitCode !== 0) return null;
  return r.stdout.toString('utf8').trim() || null;
}

/** The ids of those refs that exist, by full name, from one process. Patterns are for-each-ref's. */
export async function resolveRefs(g: GitRunner, refs: readonly string[]): Promise<Map<string, string>> {
  refs.forEach(assertRefName);
  const out = await g.text(['for-each-ref', '--format=%(objectname) %(refname)', ...refs]);
  return new Map(out.split('\n').filter(Boolean).map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))] as [string, string]));
}

/**
 * Compare-and-swap: moves `ref` to `newOid` only if it points at `oldOid` (null: only if it does
 * not exist). Returns false when another writer moved the ref. With `alsoDelete`, that ref is
 * deleted in the same transaction (both happen or neither). A loss is told apart from other
 * failures by the exit status and by reading the ref again, never by git's wording: a failed
 * update with the ref still at `oldOid` is retried (another writer may hold its lock) and then
 * thrown as GitError with git's message (a stale lock file, a name conflict, a full disk).
 */
export async function updateRef(g: GitRunner, ref: string, newOid: string, oldOid: string | null, message = 'lore', alsoDelete?: string): Promise<boolean> {
  assertRefName(ref);
  if (alsoDelete !== undefined) assertRefName(alsoDelete);
  for (let attempt = 1; ; attempt++) {
    const r = alsoDelete !== undefined
      ? await g.raw(['update-ref', '-m', message, '--stdin', '-z'], { input: `update ${ref}\0${newOid}\0${oldOid ?? ZERO_OID}\0delete ${alsoDelete}\0\0` })
      : await g.raw(['update-ref', '-m', message, '--end-of-options', ref, newOid, oldOid ?? ZERO_OID]);
    if (r.exitCode === 0) return true;
    const now = await resolve(g, ref);
    if (now !== oldOid) return false;
    if (attempt >= CAS_TRIES) throw new GitError(['update-ref', ref], r.exitCode, r.stderr);
    await sleep(20 * 3 ** attempt);
  }
}

/** Points `ref` at `oid` whatever it pointed at (tracking refs, refs kept aside). Throws GitError. */
export async function setRef(g: GitRunner, ref: string, oid: string, message = 'lore'): Promise<void> {
  assertRefName(ref);
  await g.exec(['update-ref', '-m', message, '--end-of-options', ref, oid]);
}

/**
 * Deletes `ref` (only while it points at `oldOid`, when given). Returns whether git deleted it:
 * false when it did not exist, had moved, or could not be deleted.
 */
export async function deleteRef(g: GitRunner, ref: string, oldOid?: string): Promise<boolean> {
  assertRefName(ref);
  const r = await g.raw(['update-ref', '-d', '--end-of-options', ref, ...(oldOid ? [oldOid] : [])]);
  return r.exitCode === 0;
}

/** True when `ancestor` is an ancestor of (or equal to) `rev`. */
export async function isAncestor(g: GitRunner, ancestor: string, rev: string): Promise<boolean> {
  const r = await g.raw(['merge-base', '--is-ancestor', '--end-of-options', ancestor, rev]);
  if (r.exitCode === 0) return true;
  if (r.exitCode === 1) return false;
  throw new GitError(['merge-base', '--is-ancestor'], r.exitCode, r.stderr);
}

/** Short names of the local branches whose history contains `commit`. */
export async function branchesContaining(g: GitRunner, commit: string): Promise<string[]> {
  assertOid(commit);
  const r = await g.raw(['for-each-ref', '--format=%(refname:short)', `--contains=${commit}`, 'refs/heads']);
  if (r.exitCode !== 0) return [];
  return r.stdout.toString('utf8').split('\n').filter(Boolean);
}

/** How many commits `range` (rev-list syntax, e.g. `@{upstream}..HEAD`) holds. Throws GitError. */
export async function countCommits(g: GitRunner, range: string): Promise<number> {
  return Number((await g.text(['rev-list', '--count', '--end-of-options', range, '--'])).trim());
}

/** The first-parent history of `tip`, newest first, at most `max` commits. Throws GitError. */
export async function firstParents(g: GitRunner, tip: string, max: number): Promise<string[]> {
  return (await g.text(['rev-list', '--first-parent', `--max-count=${max}`, '--end-of-options', tip, '--'])).split('\n').filter(Boolean);
}

/** The root commits of HEAD's history (sorted); [] when there is no commit yet. */
export async function rootCommits(g: GitRunner): Promise<string[]> {
  const r = await g.raw(['rev-list', '--max-parents=0', 'HEAD', '--']);
  if (r.exitCode !== 0) return [];
  return r.stdout.toString('utf8').split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l)).sort();
}

/** The branch HEAD is on (short name); null when HEAD is detached. */
export async function currentBranch(g: GitRunner): Promise<string | null> {
  const r = await g.raw(['symbolic-ref', '-q', '--short', 'HEAD']);
  return r.exitCode === 0 ? r.stdout.toString('utf8').trim() || null : null;
}

/** Refs git-lore writes are full names; anything else (an option, a newline) is a bug. */
function assertRefName(ref: string): void {
  if (!ref.startsWith('refs/') || /[\0\n\s]/.test(ref)) throw new GitError(['update-ref'], undefined, `not a full ref name: ${JSON.stringify(ref)}`);
}

function assertOid(oid: string): void {
  if (!/^[0-9a-f]{40,64}$/.test(oid)) throw new GitError(['for-each-ref'], undefined, `not an object id: ${JSON.stringify(oid)}`);
}
