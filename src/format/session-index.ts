import { CryptoError } from '../errors.js';
import { open, seal, subkey } from '../crypto/primitives.js';
import { frame, unframe } from './frame.js';
import { sealedHeader, stripSealedHeader } from './sealed-object.js';
import { CHUNK_MAX_BYTES, CID_PATTERN } from './chunk.js';
import { comparePaths, isSessionId } from './session-entry.js';
import { isNativePath, isToolName, isTranscriptPath } from '../sources/registry.js';
import type { ToolName } from '../sources/types.js';

/**
 * The format-2 session index (docs/FORMAT.md, "A session index"): what a session is (tool, times,
 * agent roots) and, per native file, its size, SHA-256 and chunks. Sealed under the index subkey
 * with a random nonce, bound to the store, the session id and the exact metadata bytes.
 */

/** One native file: its bytes are its chunks' data concatenated in order. */
export interface IndexFile {
  /** `<bundle prefix of its source>/<path under the agent's folder>` (docs/FORMAT.md lists the prefixes) */
  path: string;
  size: number;
  /** 64 lowercase hex: SHA-256 of the file */
  sha256: string;
  /** [cid, length of the chunk's data] in file order */
  chunks: Array<[string, number]>;
}

/** The plaintext of a `.idx` blob. */
export interface SessionIndex {
  v: 2;
  id: string;
  tool: ToolName;
  toolVersion: string | null;
  branch: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  messageCount: number;
  /** repository roots as the agents' recorded paths name them */
  agentRoots: string[];
  /** sorted by path (UTF-8 byte order), paths unique */
  files: IndexFile[];
}

/** The largest `.idx` blob a reader accepts: 16 MiB. Check the blob's size (from the tree) before reading it. */
export const INDEX_MAX_BLOB = 16 * 1024 * 1024;
/** The largest index plaintext (after decompression): 64 MiB. */
export const INDEX_MAX_DATA = 64 * 1024 * 1024;
/** At most this many native files per session. */
export const INDEX_MAX_FILES = 4096;
/** At most this many chunks per session, all files together. */
export const INDEX_MAX_CHUNKS = 262144;
/** The largest native file: 16 GiB. */
export const FILE_MAX_BYTES = 16 * 1024 * 1024 * 1024;

/**
 * The allowed path of a native file: under the bundle prefix of a registered source (docs/FORMAT.md
 * lists them), no NUL, and no `..`, `.` or empty segment.
 */
export { isNativePath };

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isStringOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';

/**
 * Validates a parsed index for session `sessionId` and returns it with exactly the known fields
 * (unknown fields are dropped). Counts are checked before anything is iterated. Throws CryptoError
 * naming the session: a member holding the key could still write garbage.
 */
export function validateIndex(x: unknown, sessionId: string): SessionIndex {
  const fail = (why: string): never => {
    throw new CryptoError(`session ${sessionId}: the index ${why}`);
  };
  if (!isObject(x)) return fail('is not a JSON object');
  if (x.v !== 2) fail(`has version ${JSON.stringify(x.v)}, not 2`);
  if (x.id !== sessionId) fail(`names another session (${JSON.stringify(x.id)})`);
  if (!isToolName(x.tool)) fail(`names an unknown tool ${JSON.stringify(x.tool)}`);
  for (const k of ['toolVersion', 'branch', 'startedAt', 'updatedAt'] as const) if (!isStringOrNull(x[k])) fail(`has a malformed ${k}`);
  if (!Number.isSafeInteger(x.messageCount) || (x.messageCount as number) < 0) fail('has a malformed messageCount');
  if (!Array.isArray(x.agentRoots) || !x.agentRoots.every((r) => typeof r === 'string')) fail('has malformed agentRoots');
  const files = x.files;
  if (!Array.isArray(files)) return fail('has no file list');
  if (files.length > INDEX_MAX_FILES) fail(`lists ${files.length} files, more than ${INDEX_MAX_FILES}`);
  let totalChunks = 0;
  for (const f of files) {
    if (!isObject(f) || !Array.isArray(f.chunks)) return fail('has a malformed file entry');
    totalChunks += f.chunks.length;
  }
  if (totalChunks > INDEX_MAX_CHUNKS) fail(`lists ${totalChunks} chunks, more than ${INDEX_MAX_CHUNKS}`);
  const out: IndexFile[] = [];
  let previous: string | null = null;
  for (const f of files as Array<Record<string, unknown>>) {
    const p = f.path;
    if (typeof p !== 'string' || !isNativePath(p)) return fail(`holds an unexpected path ${JSON.stringify(p)}`);
    if (previous !== null && comparePaths(previous, p) >= 0) fail(`is not sorted by path, or repeats one (${JSON.stringify(p)})`);
    previous = p;
    const size = f.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > FILE_MAX_BYTES) return fail(`states a bad size for ${JSON.stringify(p)}`);
    if (typeof f.sha256 !== 'string' || !SHA256_PATTERN.test(f.sha256)) return fail(`states a bad sha256 for ${JSON.stringify(p)}`);
    const chunks: Array<[string, number]> = [];
    let sum = 0;
    for (const c of f.chunks as unknown[]) {
      if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== 'string' || !CID_PATTERN.test(c[0])) return fail(`has a malformed chunk id in ${JSON.stringify(p)}`);
      const len = c[1] as unknown;
      if (typeof len !== 'number' || !Number.isInteger(len) || len < 1 || len > CHUNK_MAX_BYTES) return fail(`has a chunk length outside 1..${CHUNK_MAX_BYTES} in ${JSON.stringify(p)}`);
      sum += len;
      chunks.push([c[0], len]);
    }
    if (sum !== size) fail(`says ${JSON.stringify(p)} is ${size} bytes but its chunks hold ${sum}`);
    out.push({ path: p, size, sha256: f.sha256, chunks });
  }
  if (!out.some((f) => isTranscriptPath(f.path))) fail('holds no transcript');
  return {
    v: 2, id: sessionId, tool: x.tool as SessionIndex['tool'], toolVersion: x.toolVersion as string | null, branch: x.branch as string | null,
    startedAt: x.startedAt as string | null, updatedAt: x.updatedAt as string | null, messageCount: x.messageCount as number,
    agentRoots: [...(x.agentRoots as string[])], files: out,
  };
}

/** The index's JSON bytes, fields in the order of docs/FORMAT.md. */
export function serializeIndex(index: SessionIndex): Buffer {
  const ordered: SessionIndex = {
    v: 2, id: index.id, tool: index.tool, toolVersion: index.toolVersion, branch: index.branch, startedAt: index.startedAt,
    updatedAt: index.updatedAt, messageCount: index.messageCount, agentRoots: index.agentRoots,
    files: index.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, chunks: f.chunks })),
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

function indexAad(storeId: string, sessionId: string, metaBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`git-lore/2 index\0${storeId}\0${sessionId}\0`, 'utf8'), metaBytes]);
}

function checkIds(storeId: string, sessionId: string): void {
  if (!/^[0-9a-f]{32}$/.test(storeId)) throw new RangeError(`not a store id: ${JSON.stringify(storeId)}`);
  if (!isSessionId(sessionId)) throw new RangeError(`not a session id: ${JSON.stringify(sessionId)}`);
}

/**
 * Seals the index of session `sessionId` (fresh random nonce), bound to the store and the exact
 * bytes of its `.meta`. Validates it first, so a writer never stores what readers refuse.
 */
export function sealIndex(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, index: SessionIndex, epoch = 0): Buffer {
  checkIds(storeId, sessionId);
  const data = serializeIndex(validateIndex(JSON.parse(serializeIndex(index).toString('utf8')), sessionId));
  if (data.length > INDEX_MAX_DATA) throw new CryptoError(`session ${sessionId}: the index is ${data.length} bytes, more than ${INDEX_MAX_DATA}`);
  const blob = Buffer.concat([sealedHeader('I', epoch), seal(subkey(dataKey, 'index'), frame(data, { compress: true }), indexAad(storeId, sessionId, metaBytes))]);
  if (blob.length > INDEX_MAX_BLOB) throw new CryptoError(`session ${sessionId}: the sealed index is ${blob.length} bytes, more than ${INDEX_MAX_BLOB}`);
  return blob;
}

/**
 * Opens and validates the index of session `sessionId`: size limit, header (kind 'I', `epoch`: that of `dataKey`),
 * authentication (store, session id, exact metadata bytes), framing, UTF-8 JSON, and every rule of
 * `validateIndex`. Throws CryptoError naming the session.
 */
export function openIndex(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, blob: Buffer, epoch = 0): SessionIndex {
  checkIds(storeId, sessionId);
  const what = `session ${sessionId}: index`;
  if (blob.length > INDEX_MAX_BLOB) throw new CryptoError(`${what}: ${blob.length} bytes, more than ${INDEX_MAX_BLOB}`);
  const sealed = stripSealedHeader(blob, 'I', what, epoch);
  const data = unframe(open(subkey(dataKey, 'index'), sealed, indexAad(storeId, sessionId, metaBytes), what), INDEX_MAX_DATA, what);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw new CryptoError(`${what}: not valid UTF-8 JSON`, { cause: err });
  }
  return validateIndex(parsed, sessionId);
}
