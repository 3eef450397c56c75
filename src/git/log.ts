import { GitError } from '../errors.js';
import { unquotePath } from './quote.js';
import type { GitRunner } from './runner.js';

/** History with its added lines: `git log --raw -z -p -U0`, parsed without trusting any path in the patch text. */

/** A line a commit added: its number in the commit's version of the file, and its text. */
export interface AddedLine {
  line: number;
  text: string;
}

/** One changed file of a commit (no merges). `status` is git's raw letter(s): A, M, D, T, R<score>, C<score>. */
export interface LogFile {
  status: string;
  path: string;
  /** The source of a rename or copy; null otherwise. */
  oldPath: string | null;
  /** Lines added to `path` (none for deletions, binary files, mode changes and submodules). */
  added: AddedLine[];
}

export interface LogCommit {
  commit: string;
  /** Committer time, Unix seconds. */
  time: number;
  subject: string;
  files: LogFile[];
}

/**
 * The commits of `range` (rev-list syntax; newest first, at most `max` when given), each with its
 * changed files and the lines it added, renames followed (-M). Merges list no files. Every option
 * a user's configuration could change is pinned (prefixes, colour, external diff, textconv,
 * relative paths, signatures, submodule format, encoding). Throws GitError with git's message (a
 * bad range) or on output that does not parse.
 */
export async function logPatches(g: GitRunner, range: string, opts: { max?: number } = {}): Promise<LogCommit[]> {
  const args = [
    'log', '-z', '--format=%x01%H%x00%ct%x00%s', '--encoding=UTF-8', '--no-show-signature',
    '--raw', '--no-abbrev', '-p', '--unified=0', '-M', '--diff-merges=off',
    '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--submodule=short', '--src-prefix=a/', '--dst-prefix=b/',
    ...(opts.max ? [`--max-count=${opts.max}`] : []),
    '--end-of-options', range, '--',
  ];
  return parseLogPatches(await g.exec(args));
}

/**
 * Parses the output of `logPatches`' command. Per commit: `\x01<hash>\0<time>\0<subject>\0`;
 * when it changed files, `\n`, the raw records (`:<modes> <oids> <status>\0<path>\0[<path>\0]`,
 * paths as they are, never quoted), a `\0`, then one `diff --git` section per record (two for a
 * type change: the deletion, then the creation) in the same order. Paths come from the raw
 * records only; a section's `+++` line (C-quoted when the path is unusual) is checked against
 * its record. Hunks are read by their counts (-U0: removed lines, then added ones), so no line of
 * content is ever taken for a header.
 */
export function parseLogPatches(out: Buffer): LogCommit[] {
  let pos = 0;
  const fail = (what: string): never => {
    throw new GitError(['log', '-p'], 0, `unexpected output at byte ${pos}: expected ${what}, found ${JSON.stringify(out.subarray(pos, pos + 60).toString('utf8'))}`);
  };
  const upTo = (byte: number, what: string): Buffer => {
    const end = out.indexOf(byte, pos);
    if (end < 0) fail(what);
    const b = out.subarray(pos, end);
    pos = end + 1;
    return b;
  };
  const line = (): Buffer => {
    let end = out.indexOf(10, pos);
    if (end < 0) end = out.length;
    const b = out.subarray(pos, end);
    pos = end + 1;
    return b;
  };
  const commits: LogCommit[] = [];
  while (pos < out.length) {
    if (out[pos] !== 1) fail('a commit header');
    pos += 1;
    const commit = upTo(0, 'a commit id').toString('latin1');
    const time = Number(upTo(0, 'a commit time').toString('latin1'));
    const subject = upTo(0, 'a subject').toString('utf8');
    if (!/^[0-9a-f]{40,64}$/.test(commit) || !Number.isFinite(time)) fail('a commit id and time');
    const files: Array<LogFile & { gitlink: boolean }> = [];
    if (out[pos] === 10) pos += 1;
    while (out[pos] === 0x3a) {
      const head = upTo(0, 'a raw diff record').toString('latin1');
      const [, dstMode, , , status] = head.slice(1).split(' ');
      if (!status || !dstMode) fail('a raw diff record');
      const first = upTo(0, 'a path').toString('utf8');
      const two = status![0] === 'R' || status![0] === 'C';
      const second = two ? upTo(0, 'a second path').toString('utf8') : null;
      files.push({ status: status!, path: second ?? first, oldPath: two ? first : null, added: [], gitlink: dstMode === '160000' });
    }
    if (files.length) {
      if (out[pos] !== 0) fail('the end of the raw records');
      pos += 1;
    }
    const sections = files.flatMap((f) => (f.status === 'T' ? [f, f] : [f]));
    let k = -1;
    while (pos < out.length && out[pos] !== 1) {
      const l = line();
      if (startsWith(l, 'diff --git ')) {
        k += 1;
        if (k >= sections.length) fail(`at most ${sections.length} diff sections`);
        continue;
      }
      const f = sections[k] ?? fail('a diff section');
      if (startsWith(l, '+++ ')) {
        // git ends the name with a tab when it holds a space (for GNU patch).
        let name = l.subarray(4).toString('utf8');
        if (name.endsWith('\t') && name.includes(' ')) name = name.slice(0, -1);
        if (name !== '/dev/null' && pathOf(name) !== `b/${f.path}`) fail(`the section of ${JSON.stringify(f.path)}`);
      } else if (startsWith(l, '@@ ')) {
        const m = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(l.toString('latin1')) ?? fail('a hunk header');
        let removed = m[1] === undefined ? 1 : Number(m[1]);
        let added = m[3] === undefined ? 1 : Number(m[3]);
        let lineNo = Number(m[2]);
        while (removed > 0 || added > 0 || out[pos] === 0x5c) {
          if (pos >= out.length) fail('a hunk line');
          const h = line();
          if (h[0] === 0x5c) continue; // "\ No newline at end of file"
          if (h[0] === 0x2d && removed > 0) removed -= 1;
          else if (h[0] === 0x2b && added > 0) {
            added -= 1;
            if (!f.gitlink) f.added.push({ line: lineNo, text: h.subarray(1).toString('utf8') });
            lineNo += 1;
          } else fail('a hunk line');
        }
      }
      // Other lines are the section's extended headers (index, mode, similarity, Binary files ...).
    }
    if (k + 1 !== sections.length) fail(`${sections.length} diff sections, not ${k + 1}`);
    commits.push({ commit, time, subject, files: files.map(({ gitlink: _, ...f }) => f) });
  }
  return commits;
}

function startsWith(b: Buffer, s: string): boolean {
  return b.length >= s.length && b.toString('latin1', 0, s.length) === s;
}

function pathOf(field: string): string {
  try {
    return unquotePath(field);
  } catch {
    return field; // not a path git would print: fails the comparison
  }
}
