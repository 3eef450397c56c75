import { GitError } from '../errors.js';
import { deleteRef } from './refs.js';
import type { GitRunner } from './runner.js';

/** Objects and trees: ls-tree, diff-tree, cat-file blob, fast-import. */

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

/**
 * Lists a tree recursively (blobs only, with sizes). Returns [] for the empty tree. With
 * `paths`, only those (git reads just the subtrees on their way; ls-tree takes no `--`: after
 * --end-of-options every argument past the tree is a path). Throws GitError.
 */
export async function lsTree(g: GitRunner, treeish: string, paths?: readonly string[]): Promise<TreeEntry[]> {
  const out = await g.exec(['--literal-pathspecs', 'ls-tree', '-r', '-z', '-l', '--full-tree', '--end-of-options', treeish, ...(paths ?? [])]);
  return parseLsTree(out);
}

/** Parses `git ls-tree -r -z -l`: `<mode> <type> <oid> <size>\t<path>\0` records (size `-` for non-blobs). */
export function parseLsTree(out: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const rec of out.toString('utf8').split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    if (tab < 0) throw new GitError(['ls-tree'], 0, `unexpected output: ${JSON.stringify(rec.slice(0, 200))}`);
    const [mode, type, oid, size] = rec.slice(0, tab).split(/ +/);
    entries.push({ mode: mode!, type: type!, oid: oid!, size: Number(size) || 0, path: rec.slice(tab + 1) });
  }
  return entries;
}

/** What changed between two trees (blobs, recursive, no rename detection), optionally under some paths only. Throws GitError. */
export async function diffTree(g: GitRunner, from: string, to: string, paths?: readonly string[]): Promise<TreeChange[]> {
  return parseDiffTree(await g.exec(['--literal-pathspecs', 'diff-tree', '-r', '-z', '--no-renames', '--end-of-options', from, to, ...(paths ? ['--', ...paths] : [])]));
}

/** Parses `git diff-tree -r -z --no-renames`: `:<modes> <oids> <status>\0<path>\0` records. */
export function parseDiffTree(out: Buffer): TreeChange[] {
  const parts = out.toString('utf8').split('\0');
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
 * The content of the blob at `path` in `treeish` (`<treeish>:<path>`); null when there is none.
 * For small objects (a descriptor); bulk reads go through CatFile.
 */
export async function readBlob(g: GitRunner, treeish: string, path: string): Promise<Buffer | null> {
  const r = await g.raw(['cat-file', 'blob', '--end-of-options', `${treeish}:${path}`]);
  return r.exitCode === 0 ? r.stdout : null;
}

/**
 * Writes objects and one commit with `git fast-import` in a single pack, without zlib effort
 * (ciphertext does not compress). Returns the new commit id. The commit is written to a scratch
 * ref that is deleted afterwards; publishing is the caller's compare-and-swap.
 */
export async function fastImportCommit(g: GitRunner, spec: FastImportCommit): Promise<string> {
  const { oid, scratch } = await fastImportScratch(g, spec);
  await deleteRef(g, scratch);
  return oid;
}

/**
 * fastImportCommit, leaving the scratch ref in place for the caller to delete in the same
 * transaction as its compare-and-swap (`updateRef`'s `alsoDelete`): one git process fewer.
 */
export async function fastImportScratch(g: GitRunner, spec: FastImportCommit): Promise<{ oid: string; scratch: string }> {
  const scratch = `refs/lore/tmp/import-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const chunks: Buffer[] = [];
  const push = (s: string | Buffer) => chunks.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  let mark = 0;
  const blobMarks = new Map<string, number>();
  for (const f of spec.files) assertImportPath(f.path);
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
  const out = await g.exec(
    ['-c', 'core.compression=0', '-c', 'pack.compression=0', 'fast-import', '--quiet', '--force', '--done', '--date-format=raw'],
    { input: Buffer.concat(chunks) },
  );
  const oid = out.toString('utf8').trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{40}$/.test(oid)) {
    await deleteRef(g, scratch);
    throw new GitError(['fast-import'], 0, `unexpected output: ${out.toString('utf8').slice(0, 200)}`);
  }
  return { oid, scratch };
}

/** fast-import reads paths up to the end of the line: git-lore's on-ref paths are plain, anything else is a bug. */
function assertImportPath(p: string): void {
  if (!/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/.test(p)) throw new GitError(['fast-import'], undefined, `unexpected path ${JSON.stringify(p)}`);
}
