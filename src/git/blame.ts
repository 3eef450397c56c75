import { GitError, UsageError } from '../errors.js';
import { unquotePath } from './quote.js';
import type { GitRunner } from './runner.js';

/** One line of `git blame`, with its commit's headers. Times are Unix seconds. */
export interface BlameLine {
  commit: string;
  origLine: number;
  line: number;
  author: string;
  authorTime: number;
  committerTime: number;
  /** The path of the file in the commit that introduced the line (follows renames with -M/-C). */
  filename: string;
  summary: string;
  boundary: boolean;
  text: string;
}

/**
 * `git blame --porcelain` of a file, parsed (commit headers are sent once per commit, so the
 * output is a fraction of --line-porcelain's). `flags` may hold -w, -M, -C (passed through);
 * `range` is `-L` syntax. Throws GitError with git's message (no such path, bad revision);
 * UsageError for a revision that starts with '-' (git 2.39's blame has no --end-of-options).
 */
export async function blame(g: GitRunner, file: string, opts: { rev?: string; range?: string; flags?: readonly string[] } = {}): Promise<BlameLine[]> {
  if (opts.rev !== undefined && (!opts.rev || opts.rev.startsWith('-') || /[\0\n]/.test(opts.rev))) {
    throw new UsageError(`invalid revision: ${JSON.stringify(opts.rev)}`, { hint: "Give a revision that does not start with '-'." });
  }
  for (const f of opts.flags ?? []) if (!/^-[wMC]\d*$/.test(f)) throw new UsageError(`unsupported blame option ${JSON.stringify(f)}`);
  const args = ['blame', '--porcelain', ...(opts.flags ?? []), ...(opts.range ? ['-L', opts.range] : []), ...(opts.rev ? [opts.rev] : []), '--', file];
  return parseBlamePorcelain((await g.exec(args)).toString('utf8'), file);
}

/**
 * Parses `git blame --porcelain`: per group a `<commit> <orig> <final> [<count>]` line, the
 * commit's headers the first time it appears (`filename` whenever the commit or path changes,
 * C-quoted when the path has unusual characters), then the line itself after a tab. `file` is the
 * name used until a `filename` header says otherwise. Throws GitError on a malformed filename.
 */
export function parseBlamePorcelain(text: string, file: string): BlameLine[] {
  type CommitInfo = Pick<BlameLine, 'author' | 'authorTime' | 'committerTime' | 'filename' | 'summary' | 'boundary'>;
  const commits = new Map<string, CommitInfo>();
  const out: BlameLine[] = [];
  let cur: { commit: string; origLine: number; line: number; info: CommitInfo } | null = null;
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (cur === null) {
      const m = /^([0-9a-f]{40,64}) (\d+) (\d+)/.exec(line);
      if (!m) continue;
      let info = commits.get(m[1]!);
      if (!info) {
        info = { author: '', authorTime: 0, committerTime: 0, filename: file, summary: '', boundary: false };
        commits.set(m[1]!, info);
      }
      cur = { commit: m[1]!, origLine: Number(m[2]), line: Number(m[3]), info };
      continue;
    }
    const info = cur.info;
    if (line.startsWith('\t')) {
      out.push({ commit: cur.commit, origLine: cur.origLine, line: cur.line, ...info, text: line.slice(1) });
      cur = null;
    } else if (line.startsWith('author ')) info.author = line.slice(7);
    else if (line.startsWith('author-time ')) info.authorTime = Number(line.slice(12));
    else if (line.startsWith('committer-time ')) info.committerTime = Number(line.slice(15));
    else if (line.startsWith('filename ')) info.filename = unquoted(line.slice(9));
    else if (line.startsWith('summary ')) info.summary = line.slice(8);
    else if (line === 'boundary') info.boundary = true;
  }
  return out;
}

function unquoted(field: string): string {
  try {
    return unquotePath(field);
  } catch (err) {
    throw new GitError(['blame', '--porcelain'], 0, `unexpected filename ${JSON.stringify(field)}`, { cause: err });
  }
}
