import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { run } from '../process/spawn.js';
import { childEnv } from '../process/child-env.js';
import { FILE_FORMAT, listingFindArgs } from './find-args.js';
import type { EarlyFind } from '../env.js';
import { log } from '../log.js';

/** A file found under a capture root by the listing: `rel` is relative to the root. */
export interface ListedFile {
  rel: string;
  /** `f` a regular file, `l` a symbolic link (the walk stats its target). */
  type: 'f' | 'l';
  size: number;
  mtimeMs: number;
}

/** Every file under the capture roots, from one `find` process. */
export interface Listing {
  readonly byRoot: ReadonlyMap<string, ListedFile[]>;
  /**
   * sha256 of the whole listing: path, type, size, mtime (ns) and mode of every file; null when
   * it holds a symbolic link, whose target can change while the link's own data stays the same.
   */
  readonly digest: string | null;
  /** find's output as it came (NUL-terminated records). */
  readonly text: string;
  /** A listing of only these records (no digest). */
  subset(recs: readonly string[]): Listing;
  /** The folders under the roots, roots included, as "<inode> <path>" (sorted). */
  readonly dirs: readonly string[];
  /**
   * True when the listing holds only the files whose status changed since a reference time (see
   * `ListSince`), every symbolic link, and every file of a folder the last listing did not have;
   * false when it holds every file.
   */
  readonly changesOnly: boolean;
}

/**
 * What a listing of changes compares with: files whose status-change time (ctime) is after `ref`
 * (seconds since the epoch, "<sec>.<nsec>"), and the folders ("<inode> <path>") of the listing
 * `ref` was taken with.
 */
export interface ListSince {
  ref: string;
  dirs: ReadonlySet<string>;
}

/** The roots that exist, in the order given: a listing's key (another set of roots lists everything again). */
export function existingRoots(roots: readonly string[]): string[] {
  return roots.filter((r) => fs.existsSync(r));
}

/** The path of a listing record ("<type> <size> <mtime> <mode> <path>"). */
export function recordPath(rec: string): string {
  let at = -1;
  for (let i = 0; i < 4; i++) at = rec.indexOf(' ', at + 1);
  return rec.slice(at + 1);
}

/**
 * The listing record of one file as find prints it ("<type> <size> <sec.nsec> <mode> <path>", of
 * the file itself, not a link's target), or null when it is gone or neither a file nor a link.
 */
export function recordOf(absPath: string): string | null {
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(absPath, { bigint: true });
  } catch {
    return null;
  }
  const type = st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : null;
  if (!type) return null;
  const ns = st.mtimeNs;
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `${type} ${st.size} ${sec}.${String(frac < 0n ? -frac : frac).padStart(9, '0')}0 ${(st.mode & 0o7777n).toString(8)} ${absPath}`;
}

/** The records of a listing's text (find's NUL-terminated output). */
export function records(text: string): string[] {
  const out = text.split('\0');
  if (out.at(-1) === '') out.pop();
  return out;
}

/**
 * Lists every file under `roots` (at most `maxDepth` levels below each) with one `find -printf`
 * (GNU findutils), which runs outside Node and costs a few milliseconds per thousand files where
 * Node's readdir + stat costs about ten times that. Capture uses the listing in place of its own
 * walk, and its digest to learn, without reading its own table, that nothing changed since the
 * last capture. Returns null when it cannot list exactly (no GNU find, an unreadable folder,
 * anything on stderr): the caller then walks with Node, as before.
 *
 * With `since`, find still looks at every file but prints only those whose ctime is after the
 * reference (ctime moves on every write, rename, link or chmod, and no program can set it back,
 * unlike mtime), every symbolic link (its target can change under it), and, from a second find,
 * every file of each folder `since` did not list: a folder moved in from elsewhere keeps its
 * files' old ctimes. The output then holds the few files that changed, not one record per file.
 */
export async function listRoots(roots: readonly string[], maxDepth: number, vars: Readonly<Record<string, string | undefined>>, since?: ListSince, early?: EarlyFind): Promise<Listing | null> {
  const existing = existingRoots(roots);
  if (!existing.length) return makeListing('', existing, roots, createHash('sha256').update('empty').digest('hex'), [], false);
  const args = listingFindArgs(existing, maxDepth, since?.ref);
  const first = await findRecords(args, vars, early?.take(args) ?? undefined);
  if (!first) return null;
  const dirs: string[] = [];
  const files: string[] = [];
  for (const rec of records(first)) {
    if (rec.startsWith('d ')) dirs.push(rec.slice(2));
    else files.push(rec);
  }
  dirs.sort();
  if (since) {
    const extra = await filesOfNewDirs(existing, maxDepth, vars, dirs, since.dirs);
    if (!extra) return null;
    const have = new Set(files);
    for (const rec of extra) if (!have.has(rec)) files.push(rec);
  }
  const text = files.length ? `${files.join('\0')}\0` : '';
  const hasLinks = text.startsWith('l ') || text.includes('\0l ');
  const digest = since || hasLinks ? null : createHash('sha256').update(existing.join('\0')).update('\0').update(text).digest('hex');
  return makeListing(text, existing, roots, digest, dirs, Boolean(since));
}

/**
 * find's NUL-terminated output for `args`, or null when it cannot list exactly. `started`: the
 * same command already running (the launcher's early listing), whose result is used instead.
 */
async function findRecords(args: readonly string[], vars: Readonly<Record<string, string | undefined>>, started?: ReturnType<EarlyFind['take']>): Promise<string | null> {
  if (started) log.import('find started early by the launcher');
  const r = await (started ?? run('find', args, { cwd: '/', env: childEnv(vars, { LC_ALL: 'C' }) }));
  if (r.failed || r.exitCode !== 0 || r.stderr.trim()) {
    log.import('find listing unavailable (%s); walking with node', r.stderr.trim().split('\n')[0] ?? r.exitCode);
    return null;
  }
  const text = r.stdout.toString('utf8');
  return text && !text.endsWith('\0') ? null : text;
}

/**
 * Every file (and link) of the folders in `dirs` that `before` does not hold, or holds with
 * another inode; folders inside such a folder come with it. One find per depth left.
 */
async function filesOfNewDirs(roots: readonly string[], maxDepth: number, vars: Readonly<Record<string, string | undefined>>, dirs: readonly string[], before: ReadonlySet<string>): Promise<string[] | null> {
  const fresh = dirs.filter((d) => !before.has(d)).map((d) => d.slice(d.indexOf(' ') + 1));
  const top = fresh.filter((d) => !fresh.some((o) => d !== o && d.startsWith(`${o}/`)));
  const byDepth = new Map<number, string[]>();
  for (const dir of top) {
    const root = roots.filter((x) => dir === x || dir.startsWith(`${x}/`)).sort((a, b) => b.length - a.length)[0];
    if (root === undefined) return null;
    const left = maxDepth - (dir === root ? 0 : dir.slice(root.length + 1).split('/').length);
    if (left < 1) continue;
    byDepth.set(left, [...(byDepth.get(left) ?? []), dir]);
  }
  if (top.length) log.import('%d folders new since the last listing: listed whole', top.length);
  const out: string[] = [];
  for (const [left, group] of byDepth) {
    const text = await findRecords(['-H', ...group, '-maxdepth', String(left), '-mindepth', '1', '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', FILE_FORMAT], vars);
    if (text === null) return null;
    out.push(...records(text));
  }
  return out;
}

function makeListing(text: string, existing: readonly string[], roots: readonly string[], digest: string | null, dirs: readonly string[], changesOnly: boolean): Listing {
  let parsed: Map<string, ListedFile[]> | undefined;
  // Parsed on first use: when the digest says nothing changed, nobody asks. Output of another
  // shape lists no root, so the walk falls back to Node for each.
  return {
    digest,
    text,
    get byRoot() {
      parsed ??= parseListing(text, existing, new Map(roots.map((x) => [x, []]))) ?? new Map();
      return parsed;
    },
    subset: (recs) => makeListing(recs.length ? `${recs.join('\0')}\0` : '', existing, roots, null, dirs, changesOnly),
    dirs,
    changesOnly,
  };
}

/** Splits find's NUL-terminated records by root; null if a record is not in the expected shape. */
function parseListing(text: string, roots: readonly string[], byRoot: Map<string, ListedFile[]>): Map<string, ListedFile[]> | null {
  if (text && !text.endsWith('\0')) return null;
  const sorted = [...roots].sort((a, b) => b.length - a.length);
  for (const rec of records(text)) {
    // "<type> <size> <sec.nsec> <mode> <path>": the path may hold spaces, the rest cannot.
    const m = /^([fl]) (\d+) (-?\d+)(?:\.(\d+))? \d+ (.*)$/s.exec(rec);
    if (!m) return null;
    const abs = m[5]!;
    // A root may be a file (Aider's history in a work tree): listed alone, with the empty path.
    const root = sorted.find((x) => abs === x || abs.startsWith(`${x}/`));
    if (!root) return null;
    const frac = (m[4] ?? '').padEnd(3, '0').slice(0, 3);
    const mtimeMs = m[3]!.startsWith('-') ? Math.floor(Number(`${m[3]}.${m[4] ?? 0}`) * 1000) : Number(m[3]) * 1000 + Number(frac);
    byRoot.get(root)!.push({ rel: abs === root ? '' : abs.slice(root.length + 1), type: m[1] as 'f' | 'l', size: Number(m[2]), mtimeMs });
  }
  log.import('listed %d files with find', [...byRoot.values()].reduce((n, l) => n + l.length, 0));
  return byRoot;
}
