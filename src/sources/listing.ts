import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { childEnv, run } from '../process/spawn.js';
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
}

/** The path of a listing record ("<type> <size> <mtime> <mode> <path>"). */
export function recordPath(rec: string): string {
  let at = -1;
  for (let i = 0; i < 4; i++) at = rec.indexOf(' ', at + 1);
  return rec.slice(at + 1);
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
 */
export async function listRoots(roots: readonly string[], maxDepth: number, vars: Readonly<Record<string, string | undefined>>): Promise<Listing | null> {
  const existing = roots.filter((r) => fs.existsSync(r));
  if (!existing.length) return makeListing('', existing, roots, createHash('sha256').update('empty').digest('hex'));
  const r = await run('find', ['-H', ...existing, '-maxdepth', String(maxDepth), '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%y %s %T@ %m %p\\0'], {
    cwd: '/',
    env: childEnv(vars, { LC_ALL: 'C' }),
  });
  if (r.failed || r.exitCode !== 0 || r.stderr.trim()) {
    log.import('find listing unavailable (%s); walking with node', r.stderr.trim().split('\n')[0] ?? r.exitCode);
    return null;
  }
  const text = r.stdout.toString('utf8');
  const hasLinks = text.startsWith('l ') || text.includes('\0l ');
  const digest = hasLinks ? null : createHash('sha256').update(existing.join('\0')).update('\0').update(r.stdout).digest('hex');
  return makeListing(text, existing, roots, digest);
}

function makeListing(text: string, existing: readonly string[], roots: readonly string[], digest: string | null): Listing {
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
    subset: (recs) => makeListing(recs.length ? `${recs.join('\0')}\0` : '', existing, roots, null),
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
