import { pack as tarPack, extract as tarExtract } from 'tar-stream';

/** One native file of a session, with its path relative to the agent's root folder. */
export interface NativeFile {
  /** e.g. `claude/<id>.jsonl`, `claude/<id>/subagents/agent-x.jsonl` or `codex/sessions/2025/11/22/rollout-….jsonl` */
  path: string;
  data: Buffer;
  mtimeMs: number;
}

/**
 * Packs files into a tar archive (the lossless copy of a session). Deterministic for the same
 * input: entries sorted by path, fixed owner, mode and time (mtime 0), so two machines holding
 * the same files hold the same bundle digest.
 */
export async function packBundle(files: NativeFile[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ name: f.path, size: f.data.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' }, f.data, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Unpacks a tar archive made by packBundle. Throws on a malformed archive. */
export async function unpackBundle(tar: Buffer): Promise<NativeFile[]> {
  const ex = tarExtract();
  const files: NativeFile[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') files.push({ path: header.name, data: Buffer.concat(chunks), mtimeMs: (header.mtime ?? new Date(0)).getTime() });
        next();
      });
      stream.on('error', reject);
      stream.resume();
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return files;
}

/**
 * Reads a tar archive made by packBundle synchronously (ustar with name prefixes, and pax `path`
 * records for longer names): the one use is converting format-1 bundles when lore.db migrates,
 * inside a synchronous open. Throws on anything malformed.
 */
export function readTarSync(tar: Buffer): NativeFile[] {
  const files: NativeFile[] = [];
  const field = (b: Buffer, off: number, len: number) => {
    const s = b.subarray(off, off + len);
    const z = s.indexOf(0);
    return s.subarray(0, z < 0 ? len : z).toString('utf8');
  };
  let off = 0;
  let paxPath: string | null = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0 || off + 512 + size > tar.length) throw new Error('truncated tar archive');
    const type = String.fromCharCode(h[156] || 48);
    const data = tar.subarray(off + 512, off + 512 + size);
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = m ? m[1]! : null;
    } else if (type === '0') {
      const prefix = field(h, 345, 155);
      const name = paxPath ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      files.push({ path: name, data: Buffer.from(data), mtimeMs: parseInt(field(h, 136, 12).trim() || '0', 8) * 1000 });
      paxPath = null;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
