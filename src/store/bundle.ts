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
