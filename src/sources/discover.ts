import fs from 'node:fs';
import path from 'node:path';
import { log } from '../log.js';
import type { ListedFile, Listing } from './listing.js';

/** Where discovery reports what it could not read. */
export interface Reporter {
  unreadable(path: string, reason: string): void;
}

/** A regular file under a root, with stat data. */
export interface FoundFile {
  abs: string;
  rel: string;
  size: number;
  mtimeMs: number;
}

/**
 * Walks `root` down to `maxDepth` levels and stats regular files; symlinked files are followed,
 * symlinked folders are not (no cycles). A missing root yields nothing; unreadable folders are
 * reported and skipped.
 */
export function walk(root: string, maxDepth: number, report: Reporter, filter?: (rel: string, isDir: boolean) => boolean, listing?: Listing | null): FoundFile[] {
  const listed = listing?.byRoot.get(root);
  if (listed) return fromListing(root, listed, maxDepth, report, filter);
  const out: FoundFile[] = [];
  const visit = (dir: string, rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || depth > 0) report.unreadable(dir, String(code ?? err));
      return;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < maxDepth && (!filter || filter(r, true))) visit(abs, r, depth + 1);
        continue;
      }
      if (!(e.isFile() || e.isSymbolicLink())) continue;
      if (filter && !filter(r, false)) continue;
      try {
        const st = fs.statSync(abs);
        if (!st.isFile()) continue;
        out.push({ abs, rel: r, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      } catch (err) {
        report.unreadable(abs, String((err as NodeJS.ErrnoException).code ?? err));
      }
    }
  };
  visit(root, '', 0);
  log.import('walked %s: %d files', root, out.length);
  return out;
}

/** The same walk answered from a `find` listing: same depth limit, same filter, symlinked files followed. */
function fromListing(root: string, listed: ListedFile[], maxDepth: number, report: Reporter, filter?: (rel: string, isDir: boolean) => boolean): FoundFile[] {
  const out: FoundFile[] = [];
  const dirOk = new Map<string, boolean>();
  const folderPasses = (rel: string): boolean => {
    let ok = dirOk.get(rel);
    if (ok === undefined) {
      const slash = rel.lastIndexOf('/');
      ok = (slash < 0 || folderPasses(rel.slice(0, slash))) && filter!(rel, true);
      dirOk.set(rel, ok);
    }
    return ok;
  };
  for (const f of listed) {
    const slash = f.rel.lastIndexOf('/');
    if (f.rel.split('/').length > maxDepth + 1) continue;
    if (filter && ((slash >= 0 && !folderPasses(f.rel.slice(0, slash))) || !filter(f.rel, false))) continue;
    const abs = `${root}/${f.rel}`;
    if (f.type === 'f') {
      out.push({ abs, rel: f.rel, size: f.size, mtimeMs: f.mtimeMs });
      continue;
    }
    try {
      const st = fs.statSync(abs);
      if (st.isFile()) out.push({ abs, rel: f.rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
    } catch (err) {
      report.unreadable(abs, String((err as NodeJS.ErrnoException).code ?? err));
    }
  }
  log.import('listed %s: %d files', root, out.length);
  return out;
}

/** Reads the first `max` bytes of a file (to find a session id in a header line). */
export function readHead(file: string, max = 65536): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
