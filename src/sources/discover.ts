import fs from 'node:fs';
import path from 'node:path';
import { log } from '../log.js';

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
export function walk(root: string, maxDepth: number, report: Reporter, filter?: (rel: string, isDir: boolean) => boolean): FoundFile[] {
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
