import { GitError } from '../errors.js';
import { log } from '../log.js';
import type { LongChild } from '../process/spawn.js';
import type { GitRunner } from './runner.js';

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
  private readonly proc: LongChild;
  private parts: Buffer[] = [];
  private have = 0;
  // A FIFO with a head index: tens of thousands of pipelined requests must not cost an O(n) shift each.
  private handlers: Array<{ kind: 'info' | 'contents'; resolve: (v: { header: string[] | null; data?: Buffer }) => void; reject: (e: unknown) => void }> = [];
  private head = 0;
  private closed = false;

  constructor(g: GitRunner) {
    this.proc = g.long(['cat-file', '--batch-command']);
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
