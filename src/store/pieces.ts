import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { StoreError } from '../errors.js';

/** A run of bytes of one native file, stored once under the SHA-256 of its content. */
export interface PieceRef {
  /** hex SHA-256 of the piece's bytes */
  sha: string;
  length: number;
}

/** One native file of a stored session: its size, digest and the pieces its bytes are made of. */
export interface StoredFile {
  /** Path relative to the agent's root, e.g. `claude/<id>.jsonl` (docs/FORMAT.md). */
  path: string;
  size: number;
  /** hex SHA-256 of the whole file */
  sha256: string;
  pieces: PieceRef[];
}

const RECORD = 36;

/** Pieces as stored in lore.db: 32 raw digest bytes and a 4-byte big-endian length each. */
export function encodePieces(pieces: readonly PieceRef[]): Buffer {
  const out = Buffer.alloc(pieces.length * RECORD);
  pieces.forEach((p, i) => {
    out.write(p.sha, i * RECORD, 32, 'hex');
    out.writeUInt32BE(p.length, i * RECORD + 32);
  });
  return out;
}

export function decodePieces(data: Buffer): PieceRef[] {
  if (data.length % RECORD !== 0) throw new StoreError('lore.db holds a malformed piece list', { hint: 'Run `git lore import` to capture the session again.' });
  const out: PieceRef[] = [];
  for (let o = 0; o < data.length; o += RECORD) out.push({ sha: data.toString('hex', o, o + 32), length: data.readUInt32BE(o + 32) });
  return out;
}

/**
 * The local piece store: `$LORE_HOME/chunks/<sha[0:2]>/<sha>` holds the raw bytes of each piece
 * (0600, folders 0700), content-addressed, so a transcript that grew adds only its new bytes and
 * pieces shared by sessions or versions are kept once. Crash safety comes from the order of writes:
 * pieces (temporary name, then rename) before the database rows that name them; a crash in
 * between leaves an unreferenced file, never a row without its piece.
 */
export class PieceFiles {
  private readonly madeDirs = new Set<string>();
  constructor(readonly dir: string) {}

  private file(sha: string): string {
    return path.join(this.dir, sha.slice(0, 2), sha);
  }

  /** Stores bytes (no-op when present); returns their reference. */
  put(data: Buffer): PieceRef {
    const sha = crypto.createHash('sha256').update(data).digest('hex');
    const file = this.file(sha);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.madeDirs.add(dir);
    }
    if (!fs.existsSync(file)) {
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, data, { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
    return { sha, length: data.length };
  }

  has(sha: string): boolean {
    return fs.existsSync(this.file(sha));
  }

  /** Reads a piece and checks its digest and length. Throws a StoreError when missing or corrupt. */
  get(ref: PieceRef): Buffer {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.file(ref.sha));
    } catch (err) {
      throw new StoreError(`a stored piece (${ref.sha.slice(0, 12)}) is missing from ${this.dir}`, {
        cause: err, hint: 'Run `git lore import` to capture the session again from the agent files, or `git lore sync` to fetch it again.',
      });
    }
    if (data.length !== ref.length || crypto.createHash('sha256').update(data).digest('hex') !== ref.sha) {
      throw new StoreError(`the stored piece ${this.file(ref.sha)} is corrupt`, {
        hint: 'Run `git lore import` to capture the session again from the agent files, or `git lore sync` to fetch it again.',
      });
    }
    return data;
  }

  /** The bytes of a file, piece by piece, from byte `from` on (streaming: one piece in memory at a time). */
  *read(file: Pick<StoredFile, 'pieces'>, from = 0): Generator<Buffer> {
    let at = 0;
    for (const p of file.pieces) {
      const end = at + p.length;
      if (end > from) {
        const data = this.get(p);
        yield from > at ? data.subarray(from - at) : data;
      }
      at = end;
    }
  }

  /**
   * Calls `fn` with the whole lines of a file from byte `from` on, block by block as the pieces are
   * read (each block ends with a newline); returns where the whole lines end and the last line
   * when it has no newline yet.
   */
  lineBlocks(file: Pick<StoredFile, 'pieces'>, from: number, fn: (offset: number, lines: Buffer) => void): { offset: number; tail: Buffer } {
    let carry: Buffer = Buffer.alloc(0);
    let offset = from;
    for (const block of this.read(file, from)) {
      const data = carry.length ? Buffer.concat([carry, block]) : block;
      const nl = data.lastIndexOf(10);
      if (nl < 0) {
        carry = data;
        continue;
      }
      fn(offset, data.subarray(0, nl + 1));
      offset += nl + 1;
      carry = data.subarray(nl + 1);
    }
    return { offset, tail: carry };
  }

  /**
   * The bytes of a file as blocks of whole lines (each ends with a newline, except the last block
   * when the file does not end with one), one piece or so in memory at a time; a line longer
   * than a piece is held whole.
   */
  *lines(file: Pick<StoredFile, 'pieces'>): Generator<Buffer> {
    let carry: Buffer = Buffer.alloc(0);
    for (const block of this.read(file)) {
      const data = carry.length ? Buffer.concat([carry, block]) : block;
      const nl = data.lastIndexOf(10);
      if (nl < 0) {
        carry = data;
        continue;
      }
      yield data.subarray(0, nl + 1);
      carry = data.subarray(nl + 1);
    }
    if (carry.length) yield carry;
  }

  /** A whole file in memory (for the few callers that need it whole: merges of diverged files, small files). */
  readAll(file: Pick<StoredFile, 'pieces'>): Buffer {
    return Buffer.concat([...this.read(file)]);
  }
}

/** One native file as the content hash sees it. */
export interface ContentFile {
  path: string;
  size: number;
  /** 64 lowercase hex: SHA-256 of the file's bytes */
  sha256: string;
}

/** Compares two paths in UTF-8 byte order (not UTF-16 code units, which differ above U+FFFF). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The content hash of a session (docs/FORMAT.md, "Session metadata"): the hex SHA-256 of its file list: one line `path \0 size \0 sha256 \n` per file, sorted
 * by path in byte order (this sorts a copy). Independent of chunk boundaries. Throws on a repeated path.
 */
export function contentHash(files: ReadonlyArray<ContentFile>): string {
  const sorted = [...files].sort((a, b) => comparePaths(a.path, b.path));
  const h = crypto.createHash('sha256');
  sorted.forEach((f, i) => {
    if (i > 0 && sorted[i - 1]!.path === f.path) throw new RangeError(`contentHash: the path ${JSON.stringify(f.path)} appears twice`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new RangeError(`contentHash: bad size ${f.size} for ${JSON.stringify(f.path)}`);
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new RangeError(`contentHash: bad sha256 for ${JSON.stringify(f.path)}`);
    h.update(`${f.path}\0${f.size}\0${f.sha256}\n`, 'utf8');
  });
  return h.digest('hex');
}

