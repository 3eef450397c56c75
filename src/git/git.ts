import path from 'node:path';
import type { Env } from '../env.js';
import { GitError, UsageError } from '../errors.js';
import { childEnv, run, spawnLong, type RunResult } from '../process/spawn.js';
import { log } from '../log.js';

/**
 * Package git: every invocation of the system `git` binary made by git-lore goes through this
 * module, one function per operation, using plumbing and machine formats only.
 */

export const ZERO_OID = '0000000000000000000000000000000000000000';

/** Where a repository lives. `mainRoot` is the main worktree's root (linked worktrees share it). */
export interface RepoInfo {
  root: string;
  gitDir: string;
  commonDir: string;
  mainRoot: string;
}

export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  size: number;
  path: string;
}

export interface TreeChange {
  status: string;
  path: string;
  oldOid: string;
  newOid: string;
}

export interface PushRefResult {
  flag: string;
  src: string;
  dst: string;
  summary: string;
  reason: string;
}

/** git's own reason from its stderr: the first `fatal:`/`error:` line, else the last line ('' for none). */
export function gitReason(stderr: string, opts: { stripPrefix?: boolean } = {}): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const line = lines.find((l) => /^(fatal|error): /.test(l)) ?? lines.slice(-1)[0] ?? '';
  return opts.stripPrefix ? line.replace(/^(fatal|error): /, '') : line;
}

/** Refuses user-typed names that git would take for options. */
export function assertSafeName(kind: string, value: string): void {
  if (!value || value.startsWith('-') || /[\0\n]/.test(value)) {
    throw new UsageError(`invalid ${kind}: ${JSON.stringify(value)}`, { hint: `Give a ${kind} that does not start with '-'.` });
  }
}

/** A handle on one repository (or a bare git dir): all operations run with `-C dir`. */
export class Git {
  readonly dir: string;
  private readonly env: Env;
  private readonly extraEnv: Record<string, string>;

  constructor(env: Env, dir: string, extraEnv: Record<string, string> = {}) {
    this.env = env;
    this.dir = dir;
    this.extraEnv = extraEnv;
  }

  /** The scrubbed environment git children get (no passphrase, no inherited GIT_DIR). */
  childEnv(extra: Record<string, string> = {}): Record<string, string> {
    return childEnv(this.env.vars, { ...this.extraEnv, ...extra });
  }

  /** Runs git; returns the raw result without judging the exit code. */
  async raw(args: readonly string[], opts: { input?: string | Uint8Array; env?: Record<string, string>; inheritStderr?: boolean } = {}): Promise<RunResult> {
    return run('git', ['-C', this.dir, ...args], {
      cwd: this.dir,
      env: this.childEnv(opts.env),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.inheritStderr ? { inheritStderr: true } : {}),
    });
  }

  /** Runs git and throws GitError on a non-zero exit; returns stdout as a Buffer. */
  async exec(args: readonly string[], opts: { input?: string | Uint8Array; env?: Record<string, string>; inheritStderr?: boolean } = {}): Promise<Buffer> {
    const r = await this.raw(args, opts);
    if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
    return r.stdout;
  }

  async text(args: readonly string[], opts: { input?: string | Uint8Array; env?: Record<string, string> } = {}): Promise<string> {
    return (await this.exec(args, opts)).toString('utf8');
  }

  /**
   * Describes the repository containing `this.dir`. Returns null when the folder is not inside a
   * git repository (or does not exist).
   */
  async repoInfo(): Promise<RepoInfo | null> {
    const r = await this.raw(['rev-parse', '--path-format=absolute', '--show-toplevel', '--absolute-git-dir', '--git-common-dir']).catch(() => null);
    if (!r || r.exitCode !== 0) return null;
    const [root, gitDir, commonDir] = r.stdout.toString('utf8').trim().split('\n');
    if (!root || !gitDir || !commonDir) return null;
    const mainRoot = commonDir !== gitDir && path.basename(commonDir) === '.git' ? path.dirname(commonDir) : root;
    return { root, gitDir, commonDir, mainRoot };
  }

  /** The root commits of HEAD's history (sorted); [] when there is no commit yet. */
  async rootCommits(): Promise<string[]> {
    const r = await this.raw(['rev-list', '--max-parents=0', 'HEAD', '--']);
    if (r.exitCode !== 0) return [];
    return r.stdout.toString('utf8').split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l)).sort();
  }

  /** Whether the repository is a shallow clone. */
  async isShallow(): Promise<boolean> {
    const r = await this.raw(['rev-parse', '--is-shallow-repository']);
    return r.exitCode === 0 && r.stdout.toString('utf8').trim() === 'true';
  }

  /** The absolute git dir (works for bare repositories). Throws when not a repository. */
  async gitDir(): Promise<string> {
    return (await this.text(['rev-parse', '--absolute-git-dir'])).trim();
  }

  /** Resolves a ref or revision to an object id; returns null when it does not exist. */
  async resolve(rev: string): Promise<string | null> {
    const r = await this.raw(['rev-parse', '-q', '--verify', '--end-of-options', rev]);
    if (r.exitCode !== 0) return null;
    return r.stdout.toString('utf8').trim() || null;
  }

  /**
   * Lists a tree recursively (blobs only, with sizes). Returns [] for the empty tree. With
   * `paths`, only those (git reads just the subtrees on their way).
   */
  async lsTree(treeish: string, paths?: readonly string[]): Promise<TreeEntry[]> {
    const out = await this.exec(['ls-tree', '-r', '-z', '-l', '--full-tree', treeish, ...(paths ? ['--', ...paths] : [])]);
    const entries: TreeEntry[] = [];
    for (const rec of out.toString('utf8').split('\0')) {
      if (!rec) continue;
      const tab = rec.indexOf('\t');
      const [mode, type, oid, size] = rec.slice(0, tab).split(/ +/);
      entries.push({ mode: mode!, type: type!, oid: oid!, size: Number(size) || 0, path: rec.slice(tab + 1) });
    }
    return entries;
  }

  /** True when `ancestor` is an ancestor of (or equal to) `rev`. */
  async isAncestor(ancestor: string, rev: string): Promise<boolean> {
    const r = await this.raw(['merge-base', '--is-ancestor', ancestor, rev]);
    if (r.exitCode === 0) return true;
    if (r.exitCode === 1) return false;
    throw new GitError(['merge-base', '--is-ancestor'], r.exitCode, r.stderr);
  }

  /**
   * The object id a remote's ref points at, without fetching; null when the remote lacks it.
   * Throws GitError (with git's own message) when the remote cannot be reached.
   */
  async lsRemote(remote: string, ref: string): Promise<string | null> {
    const r = await this.raw(['ls-remote', '--', remote, ref], { env: { GIT_TERMINAL_PROMPT: this.env.stdinIsTTY ? '1' : '0' } });
    if (r.exitCode !== 0) throw new GitError(['ls-remote', remote], r.exitCode, r.stderr);
    for (const line of r.stdout.toString('utf8').split('\n')) {
      const [oid, name] = line.split('\t');
      if (name === ref && oid) return oid;
    }
    return null;
  }

  /** What changed between two trees (blobs, recursive, no rename detection), optionally under some paths only. */
  async diffTree(from: string, to: string, paths?: readonly string[]): Promise<TreeChange[]> {
    const out = (await this.exec(['diff-tree', '-r', '-z', '--no-renames', from, to, ...(paths ? ['--', ...paths] : [])])).toString('utf8');
    const parts = out.split('\0');
    const changes: TreeChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const head = parts[i]!;
      if (!head.startsWith(':')) { i -= 1; continue; }
      const [, , oldOid, newOid, status] = head.slice(1).split(' ');
      changes.push({ status: status!, oldOid: oldOid!, newOid: newOid!, path: parts[i + 1]! });
    }
    return changes;
  }

  /**
   * Compare-and-swap ref update: moves `ref` to `newOid` only if it currently points at `oldOid`
   * (null: only if it does not exist). Returns false when someone else moved the ref.
   */
  async updateRef(ref: string, newOid: string, oldOid: string | null, message = 'lore', alsoDelete?: string): Promise<boolean> {
    // With alsoDelete, one transaction: both happen or neither.
    const r = alsoDelete
      ? await this.raw(['update-ref', '-m', message, '--stdin'], { input: `update ${ref} ${newOid} ${oldOid ?? ZERO_OID}\ndelete ${alsoDelete}\n` })
      : await this.raw(['update-ref', '-m', message, ref, newOid, oldOid ?? ZERO_OID]);
    if (r.exitCode === 0) return true;
    if (/cannot lock ref|is at .* but expected|reference already exists|unable to resolve/.test(r.stderr)) return false;
    throw new GitError(['update-ref', ref], r.exitCode, r.stderr);
  }

  /** The ids of those refs that exist, by name, from one process. */
  async resolveRefs(refs: readonly string[]): Promise<Map<string, string>> {
    const out = await this.text(['for-each-ref', '--format=%(objectname) %(refname)', ...refs]);
    return new Map(out.split('\n').filter(Boolean).map((l) => [l.slice(l.indexOf(' ') + 1), l.slice(0, l.indexOf(' '))] as [string, string]));
  }

  async deleteRef(ref: string): Promise<void> {
    await this.raw(['update-ref', '-d', ref]);
  }

  /** Reads one config value; null when unset. `file` reads a config file instead of the repository's. */
  async configGet(key: string, file?: string): Promise<string | null> {
    const r = await this.raw(['config', ...(file ? ['-f', file] : []), '--get', key]);
    if (r.exitCode === 1) return null;
    if (r.exitCode !== 0) throw new GitError(['config', '--get', key], r.exitCode, r.stderr);
    return r.stdout.toString('utf8').replace(/\n$/, '');
  }

  /**
   * The pager git itself would use here (`git var GIT_PAGER`: GIT_PAGER, core.pager, PAGER, then
   * git's built-in default); null when that is `cat` or empty, or git cannot say.
   */
  async pagerCommand(): Promise<string | null> {
    const r = await this.raw(['var', 'GIT_PAGER']);
    const cmd = r.exitCode === 0 ? r.stdout.toString('utf8').trim() : '';
    return cmd && cmd !== 'cat' ? cmd : null;
  }

  /** Whether git would colour output for `name` (`git config --get-colorbool`: color.ui and friends; auto means "on a terminal"). */
  async colorBool(name: string, stdoutIsTTY: boolean): Promise<boolean> {
    const r = await this.raw(['config', '--get-colorbool', name, stdoutIsTTY ? 'true' : 'false']);
    return r.exitCode === 0 ? r.stdout.toString('utf8').trim() === 'true' : stdoutIsTTY;
  }

  /** A boolean config value the way git reads it (true/yes/on/1, false/no/off/0); null when unset or not a boolean. */
  async configGetBool(key: string): Promise<boolean | null> {
    const r = await this.raw(['config', '--type=bool', '--get', key]);
    if (r.exitCode !== 0) return null;
    return r.stdout.toString('utf8').trim() === 'true';
  }

  async configGetAll(key: string, file?: string): Promise<string[]> {
    const r = await this.raw(['config', ...(file ? ['-f', file] : []), '--get-all', key]);
    if (r.exitCode === 1) return [];
    if (r.exitCode !== 0) throw new GitError(['config', '--get-all', key], r.exitCode, r.stderr);
    return r.stdout.toString('utf8').split('\n').filter((l) => l.length > 0);
  }

  /** Lists `key=value` pairs of a config file (null-separated machine format). */
  async configList(file: string): Promise<Array<[string, string]>> {
    const r = await this.raw(['config', '-f', file, '--list', '-z']);
    if (r.exitCode !== 0) return [];
    return r.stdout.toString('utf8').split('\0').filter(Boolean).map((rec) => {
      const nl = rec.indexOf('\n');
      return nl < 0 ? [rec, ''] : [rec.slice(0, nl), rec.slice(nl + 1)];
    });
  }

  async configSet(key: string, value: string, file?: string): Promise<void> {
    await this.exec(['config', ...(file ? ['-f', file] : []), key, value]);
  }

  async configAdd(key: string, value: string, file?: string): Promise<void> {
    await this.exec(['config', ...(file ? ['-f', file] : []), '--add', key, value]);
  }

  async configUnset(key: string, file?: string): Promise<void> {
    const r = await this.raw(['config', ...(file ? ['-f', file] : []), '--unset-all', key]);
    if (r.exitCode !== 0 && r.exitCode !== 5) throw new GitError(['config', '--unset-all', key], r.exitCode, r.stderr);
  }

  /** Removes the values of a multi-valued key that equal `value` exactly (none: no-op). */
  async configUnsetValue(key: string, value: string): Promise<void> {
    const r = await this.raw(['config', '--fixed-value', '--unset-all', key, value]);
    if (r.exitCode !== 0 && r.exitCode !== 5) throw new GitError(['config', '--unset-all', key], r.exitCode, r.stderr);
  }

  /** Names of configured remotes. */
  async remotes(): Promise<string[]> {
    return (await this.text(['remote'])).split('\n').filter(Boolean);
  }

  /**
   * Fetches refspecs from a remote (a name or an address, passed after `--`, so one that starts
   * with '-' is never an option). Returns the failure (stderr) instead of throwing when the
   * remote cannot be reached, so callers can decide how loud to be.
   */
  async fetch(remote: string, refspecs: string[], opts: { quiet?: boolean } = {}): Promise<RunResult> {
    // core.bigFileThreshold: a huge blob on a hostile ref is streamed by index-pack, not inflated in memory.
    return this.raw(['-c', 'core.bigFileThreshold=1m', 'fetch', '--no-write-fetch-head', '--no-auto-gc', '--no-recurse-submodules', ...(opts.quiet ? ['-q'] : []), '--', remote, ...refspecs], {
      env: { GIT_TERMINAL_PROMPT: this.env.stdinIsTTY ? '1' : '0' },
    });
  }

  /**
   * Pushes refspecs without force (unless a refspec says so) and without running hooks; the
   * remote goes after `--`. Returns git's per-ref porcelain results and the raw run.
   */
  async push(remote: string, refspecs: string[], opts: { extraArgs?: string[] } = {}): Promise<{ run: RunResult; refs: PushRefResult[] }> {
    const r = await this.raw(['push', '--porcelain', '--no-verify', ...(opts.extraArgs ?? []), '--', remote, ...refspecs], {
      env: { GIT_TERMINAL_PROMPT: this.env.stdinIsTTY ? '1' : '0' },
    });
    return { run: r, refs: parsePushPorcelain(r.stdout.toString('utf8')) };
  }

  /**
   * `git blame --porcelain` of a file, parsed (commit headers are sent once per commit, so the
   * output is a fraction of --line-porcelain's). `flags` may hold -w, -M, -C (passed through);
   * `range` is `-L` syntax. Throws GitError with git's message (no such path, bad revision);
   * UsageError for a revision that starts with '-' (git 2.39's blame has no --end-of-options).
   */
  async blame(file: string, opts: { rev?: string; range?: string; flags?: string[] } = {}): Promise<BlameLine[]> {
    if (opts.rev !== undefined) assertSafeName('revision', opts.rev);
    const args = ['blame', '--porcelain', ...(opts.flags ?? []), ...(opts.range ? ['-L', opts.range] : []), ...(opts.rev ? [opts.rev] : []), '--', file];
    const text = (await this.exec(args)).toString('utf8');
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
        const m = /^([0-9a-f]{40}) (\d+) (\d+)/.exec(line);
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
        // "filename" comes with every group whose commit or path differs from the previous one.
        out.push({ commit: cur.commit, origLine: cur.origLine, line: cur.line, ...info, text: line.slice(1) });
        cur = null;
      } else if (line.startsWith('author ')) info.author = line.slice(7);
      else if (line.startsWith('author-time ')) info.authorTime = Number(line.slice(12));
      else if (line.startsWith('committer-time ')) info.committerTime = Number(line.slice(15));
      else if (line.startsWith('filename ')) info.filename = line.slice(9);
      else if (line.startsWith('summary ')) info.summary = line.slice(8);
      else if (line === 'boundary') info.boundary = true;
    }
    return out;
  }

  /** Starts a long-lived `git cat-file --batch` reader. Close it when done. */
  catFile(): CatFile {
    return new CatFile(this);
  }

  /**
   * Writes objects and one commit with `git fast-import` in a single pack, without zlib effort
   * (ciphertext does not compress). Returns the new commit id. The commit is written to a scratch
   * ref that is deleted afterwards; publishing is the caller's compare-and-swap.
   */
  async fastImportCommit(spec: FastImportCommit): Promise<string> {
    const { oid, scratch } = await this.fastImportScratch(spec);
    await this.deleteRef(scratch);
    return oid;
  }

  /**
   * fastImportCommit, leaving the scratch ref in place for the caller to delete in the same
   * transaction as its compare-and-swap (`updateRef`'s `alsoDelete`): one git process fewer.
   */
  async fastImportScratch(spec: FastImportCommit): Promise<{ oid: string; scratch: string }> {
    const scratch = `refs/lore/tmp/import-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const chunks: Buffer[] = [];
    const push = (s: string | Buffer) => chunks.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
    let mark = 0;
    const blobMarks = new Map<string, number>();
    for (const f of spec.files) {
      if (f.data === undefined) continue;
      mark += 1;
      blobMarks.set(f.path, mark);
      push(`blob\nmark :${mark}\ndata ${f.data.length}\n`);
      push(f.data);
      push('\n');
    }
    mark += 1;
    const commitMark = mark;
    const when = `${Math.floor(spec.time.getTime() / 1000)} +0000`;
    const msg = Buffer.from(spec.message, 'utf8');
    push(`commit ${scratch}\nmark :${commitMark}\ncommitter ${spec.committer} ${when}\ndata ${msg.length}\n`);
    push(msg);
    push('\n');
    if (spec.parents[0]) push(`from ${spec.parents[0]}\n`);
    for (const p of spec.parents.slice(1)) push(`merge ${p}\n`);
    if (spec.replaceAll) push('deleteall\n');
    for (const f of spec.files) {
      if (f.data === undefined && f.oid === undefined) push(`D ${f.path}\n`);
      else if (f.oid !== undefined) push(`M 100644 ${f.oid} ${f.path}\n`);
      else push(`M 100644 :${blobMarks.get(f.path)} ${f.path}\n`);
    }
    push('\n');
    push(`get-mark :${commitMark}\n`);
    push('done\n');
    const out = await this.exec(
      ['-c', 'core.compression=0', '-c', 'pack.compression=0', 'fast-import', '--quiet', '--force', '--done', '--date-format=raw'],
      { input: Buffer.concat(chunks) },
    );
    const oid = out.toString('utf8').trim().split('\n').pop() ?? '';
    if (!/^[0-9a-f]{40}$/.test(oid)) {
      await this.deleteRef(scratch);
      throw new GitError(['fast-import'], 0, `unexpected output: ${out.toString('utf8').slice(0, 200)}`);
    }
    return { oid, scratch };
  }
}

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

/** One file to write (data), keep by id (oid) or delete (neither) in a fast-import commit. */
export interface FastImportFile {
  path: string;
  data?: Buffer;
  oid?: string;
}

export interface FastImportCommit {
  parents: string[];
  files: FastImportFile[];
  /** Start from an empty tree instead of the first parent's. */
  replaceAll?: boolean;
  message: string;
  committer: string;
  time: Date;
}

/** Parses `git push --porcelain` output into per-ref results. */
export function parsePushPorcelain(out: string): PushRefResult[] {
  const refs: PushRefResult[] = [];
  for (const line of out.split('\n')) {
    const m = /^([ +\-*=!])\t([^\t]*)\t(.*)$/.exec(line);
    if (!m) continue;
    const [src, dst] = m[2]!.split(':');
    const rest = m[3]!;
    const paren = /^(.*?) \((.*)\)$/.exec(rest);
    refs.push({ flag: m[1]!, src: src ?? '', dst: dst ?? '', summary: paren ? paren[1]! : rest, reason: paren ? paren[2]! : '' });
  }
  return refs;
}

/** One object read through CatFile; `tooLarge` when it is bigger than the reader allowed (its data is not read). */
export interface CatObject {
  type: string;
  size: number;
  data: Buffer;
}

/**
 * A long-lived `git cat-file --batch-command` process. Each read asks the object's size first
 * (`info`) and its content (`contents`) only when it is within the caller's limit, so a huge blob
 * on a hostile ref is never read into memory. Requests are pipelined: replies come in the order
 * the commands were written, and a FIFO of handlers matches them. Reading is linear in the
 * object's size (pieces are collected, not re-concatenated per chunk of output).
 */
export class CatFile {
  private readonly proc: ReturnType<typeof spawnLong>;
  private parts: Buffer[] = [];
  private have = 0;
  // A FIFO with a head index: tens of thousands of pipelined requests must not cost an O(n) shift each.
  private handlers: Array<{ kind: 'info' | 'contents'; resolve: (v: { header: string[] | null; data?: Buffer }) => void; reject: (e: unknown) => void }> = [];
  private head = 0;
  private closed = false;

  constructor(git: Git) {
    this.proc = spawnLong('git', ['-C', git.dir, 'cat-file', '--batch-command'], { cwd: git.dir, env: git.childEnv() });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      this.parts.push(chunk);
      this.have += chunk.length;
      this.drain();
    });
    void this.proc.done.then(() => this.failAll(new GitError(['cat-file', '--batch-command'], undefined, 'cat-file exited')));
  }

  private failAll(err: unknown): void {
    this.closed = true;
    while (this.head < this.handlers.length) this.next().reject(err);
  }

  /** Removes the oldest handler (compacting the array now and then). */
  private next() {
    const h = this.handlers[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.handlers.length) {
      this.handlers = this.handlers.slice(this.head);
      this.head = 0;
    }
    return h;
  }

  /** Takes `n` bytes off the front of the received output. */
  private take(n: number): Buffer {
    const first = this.parts[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const p = this.parts[0]!;
        const k = Math.min(p.length, n - at);
        p.copy(out, at, 0, k);
        at += k;
        if (k === p.length) this.parts.shift();
        else this.parts[0] = p.subarray(k);
      }
    }
    this.have -= n;
    return out;
  }

  /** Position of the first newline in the received output, or -1. */
  private newline(): number {
    let base = 0;
    for (const p of this.parts) {
      const i = p.indexOf(10);
      if (i >= 0) return base + i;
      base += p.length;
    }
    return -1;
  }

  private drain(): void {
    while (this.head < this.handlers.length) {
      const nl = this.newline();
      if (nl < 0) return;
      const h = this.handlers[this.head]!;
      // The header line: "<oid> <type> <size>", or "<name> missing" / "ambiguous".
      const headerText = this.peekText(nl);
      const header = headerText.split(' ');
      if (header.length !== 3 || !/^\d+$/.test(header[2]!)) {
        this.take(nl + 1);
        this.next();
        h.resolve({ header: null });
        continue;
      }
      if (h.kind === 'info') {
        this.take(nl + 1);
        this.next();
        h.resolve({ header });
        continue;
      }
      const size = Number(header[2]);
      if (this.have < nl + 1 + size + 1) return;
      this.take(nl + 1);
      const data = Buffer.from(this.take(size));
      this.take(1);
      this.next();
      h.resolve({ header, data });
    }
  }

  private peekText(n: number): string {
    if (this.parts[0]!.length >= n) return this.parts[0]!.toString('utf8', 0, n);
    return Buffer.concat(this.parts).toString('utf8', 0, n);
  }

  private send(kind: 'info' | 'contents', rev: string): Promise<{ header: string[] | null; data?: Buffer }> {
    if (this.closed) return Promise.reject(new GitError(['cat-file', '--batch-command'], undefined, 'reader closed'));
    if (/[\n\r]/.test(rev)) return Promise.reject(new GitError(['cat-file'], undefined, 'object name with a newline'));
    return new Promise((resolve, reject) => {
      this.handlers.push({ kind, resolve, reject });
      this.proc.stdin.write(`${kind} ${rev}\n`);
    });
  }

  /** The type and size of an object, without reading it; null when it does not exist. */
  async info(rev: string): Promise<{ type: string; size: number } | null> {
    const r = await this.send('info', rev);
    return r.header ? { type: r.header[1]!, size: Number(r.header[2]) } : null;
  }

  /**
   * The id, type and size of an object named any way cat-file accepts (e.g. `<commit>:<path>`),
   * without reading it; null when it does not exist. Lets a caller look a few paths of a tree up
   * through this one process instead of starting `ls-tree`.
   */
  async stat(rev: string): Promise<{ oid: string; type: string; size: number } | null> {
    const r = await this.send('info', rev);
    return r.header ? { oid: r.header[0]!, type: r.header[1]!, size: Number(r.header[2]) } : null;
  }

  /**
   * Reads one object; null when it does not exist. With `maxSize`, an object larger than that is
   * not read: the result has `tooLarge` set and empty data.
   */
  async get(rev: string, maxSize = Infinity): Promise<(CatObject & { tooLarge?: boolean }) | null> {
    const i = await this.info(rev);
    if (!i) return null;
    if (i.size > maxSize) return { type: i.type, size: i.size, data: Buffer.alloc(0), tooLarge: true };
    const r = await this.send('contents', rev);
    if (!r.header || !r.data) return null;
    return { type: r.header[1]!, size: r.data.length, data: r.data };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.proc.stdin.end();
    await this.proc.done;
    log.git('cat-file closed');
  }
}
