import { isToolName } from '../sources/registry.js';
import { CryptoError, LoreError } from '../errors.js';
import { hmacHex, open, seal, subkey } from '../crypto/primitives.js';
/** Format 1's payload envelope version and label (read for conversion). */
const V1 = 1;

/** Envelope: magic "LORE", version byte, then nonce || ciphertext || tag. */
const MAGIC = Buffer.from('LORE', 'latin1');

/** Plaintext metadata of one session on the ref: exactly these fields (docs/FORMAT.md). */
export interface SessionMeta {
  v: number;
  id: string;
  tool: string;
  startedAt: string | null;
  updatedAt: string | null;
  messageCount: number;
  originMachine: string;
  branch: string | null;
  /** HMAC-SHA256 (digest subkey) of the session id and the sha256 of its bundle. */
  digest: string;
}

const SESSION_ID = /^[0-9a-z][0-9a-z-]{3,80}$/;

/**
 * Where a session's files live in the tree: sharded by the id's last two characters (random in UUIDv4 and v7).
 * `payload` is the format-1 `.lore`, `idx` the format-2 index.
 */
export function sessionPaths(id: string): { meta: string; payload: string; idx: string } {
  const shard = id.slice(-2);
  return { meta: `sessions/${shard}/${id}.meta`, payload: `sessions/${shard}/${id}.lore`, idx: `sessions/${shard}/${id}.idx` };
}

/** Parses a tree path back to (session id, kind); null for anything else. */
export function parseSessionPath(p: string): { id: string; kind: 'meta' | 'payload' | 'index' } | null {
  const m = /^sessions\/([0-9a-z]{2})\/([0-9a-z-]+)\.(meta|lore|idx)$/.exec(p);
  if (!m || !m[2]!.endsWith(m[1]!) || !SESSION_ID.test(m[2]!)) return null;
  return { id: m[2]!, kind: m[3] === 'meta' ? 'meta' : m[3] === 'idx' ? 'index' : 'payload' };
}

/** Whether `id` is a session id the format allows: `[0-9a-z][0-9a-z-]{3,80}`. */
export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** Where a chunk lives in the tree: chunks/<cid[0:2]>/<cid>. Throws on anything but 64 lowercase hex. */
export function chunkPath(cid: string): string {
  if (!/^[0-9a-f]{64}$/.test(cid)) throw new RangeError(`not a chunk id: ${JSON.stringify(cid)}`);
  return `chunks/${cid.slice(0, 2)}/${cid}`;
}

/** Parses a tree path back to a chunk id; null for anything else (including a chunk in the wrong shard). */
export function parseChunkPath(p: string): string | null {
  const m = /^chunks\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(p);
  return m && m[2]!.startsWith(m[1]!) ? m[2]! : null;
}

/** The keyed content digest of a session (docs/FORMAT.md). Takes the digest subkey: `subkey(dataKey, 'digest')`. */
export function contentDigest(digestKey: Buffer, sessionId: string, bundleSha256: string): string {
  return hmacHex(digestKey, `git-lore/1 digest\0${sessionId}\0${bundleSha256}`);
}

/** Canonical bytes of metadata: fixed key order, so the same metadata always has the same blob. */
export function serializeMeta(m: SessionMeta): Buffer {
  const ordered: SessionMeta = {
    v: m.v, id: m.id, tool: m.tool, startedAt: m.startedAt, updatedAt: m.updatedAt, messageCount: m.messageCount,
    originMachine: m.originMachine, branch: m.branch, digest: m.digest,
  };
  return Buffer.from(`${JSON.stringify(ordered)}\n`, 'utf8');
}

/** The metadata version of a session stored as format 2. */
export const META_V2 = 2;
/** The largest `.meta` blob: 4 KiB (docs/FORMAT.md). */
export const META_MAX_BYTES = 4096;

export { comparePaths, contentHash, type ContentFile } from '../store/pieces.js';

/**
 * The keyed content digest of a format-2 session: HMAC-SHA256(K_digest, "git-lore/2 digest\0" || id || "\0" || contentHash).
 * Takes the digest subkey (`subkey(dataKey, 'digest')`, the same subkey as format 1) and the hex content hash.
 */
export function contentDigestV2(digestKey: Buffer, sessionId: string, contentHashHex: string): string {
  return hmacHex(digestKey, `git-lore/2 digest\0${sessionId}\0${contentHashHex}`);
}

/** Canonical bytes of format-2 metadata (`v` is 2; the field order of `serializeMeta`). Throws when over 4 KiB. */
export function serializeMetaV2(m: Omit<SessionMeta, 'v'>): Buffer {
  const out = serializeMeta({ ...m, v: META_V2 });
  if (out.length > META_MAX_BYTES) throw new RangeError(`session ${m.id}: metadata is ${out.length} bytes, more than ${META_MAX_BYTES}`);
  return out;
}

const META_FIELDS = ['v', 'id', 'tool', 'startedAt', 'updatedAt', 'messageCount', 'originMachine', 'branch', 'digest'];
const isTime = (x: unknown) => x === null || (typeof x === 'string' && x.length <= 64);

/**
 * Parses format-2 metadata strictly: at most 4 KiB, one JSON object with exactly the fields of
 * docs/FORMAT.md in order, `v` 2, the expected id, a known tool, 32-hex origin machine, 64-hex digest.
 * Format-1 metadata (`v` 1) goes through `parseMeta`. Throws LoreError naming the session.
 */
export function parseMetaV2(data: Buffer, expectId: string): SessionMeta {
  if (data.length > META_MAX_BYTES) throw new LoreError(`session ${expectId}: metadata is ${data.length} bytes, more than ${META_MAX_BYTES}`);
  let m: SessionMeta;
  try {
    m = JSON.parse(data.toString('utf8')) as SessionMeta;
  } catch (err) {
    throw new LoreError(`session ${expectId}: metadata is not valid JSON`, { cause: err });
  }
  const ok =
    m !== null && typeof m === 'object' && !Array.isArray(m) && Object.keys(m).join(',') === META_FIELDS.join(',') &&
    m.v === META_V2 && m.id === expectId && SESSION_ID.test(m.id) && isToolName(m.tool) &&
    isTime(m.startedAt) && isTime(m.updatedAt) && Number.isSafeInteger(m.messageCount) && m.messageCount >= 0 &&
    typeof m.originMachine === 'string' && /^[0-9a-f]{32}$/.test(m.originMachine) &&
    (m.branch === null || (typeof m.branch === 'string' && m.branch.length <= 1024)) &&
    typeof m.digest === 'string' && /^[0-9a-f]{64}$/.test(m.digest);
  if (!ok) throw new LoreError(`session ${expectId}: format-2 metadata is malformed`);
  return m;
}

export function parseMeta(data: Buffer, expectId: string): SessionMeta {
  let m: SessionMeta;
  try {
    m = JSON.parse(data.toString('utf8')) as SessionMeta;
  } catch (err) {
    throw new LoreError(`session ${expectId}: metadata is not valid JSON`, { cause: err });
  }
  if (!m || m.id !== expectId || typeof m.digest !== 'string' || typeof m.tool !== 'string' || typeof m.messageCount !== 'number') {
    throw new LoreError(`session ${expectId}: metadata is malformed`);
  }
  return m;
}

/**
 * The associated data of a payload: binds the store, the session id, the format version and the
 * exact metadata blob, so a payload moved to another session or store, or metadata edited, fails
 * authentication.
 */
function payloadAad(storeId: string, sessionId: string, metaBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`git-lore/1 payload\0${storeId}\0${sessionId}\0`, 'utf8'), metaBytes]);
}

export function sealPayload(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, gz: Buffer): Buffer {
  const sealed = seal(subkey(dataKey, 'payload'), gz, payloadAad(storeId, sessionId, metaBytes));
  return Buffer.concat([MAGIC, Buffer.from([V1]), sealed]);
}

export function openPayload(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, blob: Buffer): Buffer {
  if (blob.length < 5 || !blob.subarray(0, 4).equals(MAGIC)) throw new CryptoError(`session ${sessionId}: payload is not a git-lore envelope`);
  if (blob[4] !== V1) throw new CryptoError(`session ${sessionId}: payload format version ${blob[4]} is not supported`);
  return open(subkey(dataKey, 'payload'), blob.subarray(5), payloadAad(storeId, sessionId, metaBytes), `session ${sessionId}`);
}
