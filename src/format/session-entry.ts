import { CryptoError, LoreError } from '../errors.js';
import { hmacHex, open, seal, subkey } from '../crypto/primitives.js';
import { FORMAT_VERSION } from './descriptor.js';

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

/** Where a session's files live in the tree: sharded by the id's last two characters (random in UUIDv4 and v7). */
export function sessionPaths(id: string): { meta: string; payload: string } {
  const shard = id.slice(-2);
  return { meta: `sessions/${shard}/${id}.meta`, payload: `sessions/${shard}/${id}.lore` };
}

/** Parses a tree path back to (session id, kind); null for anything else. */
export function parseSessionPath(p: string): { id: string; kind: 'meta' | 'payload' } | null {
  const m = /^sessions\/([0-9a-z]{2})\/([0-9a-z-]+)\.(meta|lore)$/.exec(p);
  if (!m || !m[2]!.endsWith(m[1]!) || !SESSION_ID.test(m[2]!)) return null;
  return { id: m[2]!, kind: m[3] === 'meta' ? 'meta' : 'payload' };
}

/** The keyed content digest of a session (docs/FORMAT.md). Takes the digest subkey: `subkey(dataKey, 'digest')`. */
export function contentDigest(digestKey: Buffer, sessionId: string, bundleSha256: string): string {
  return hmacHex(digestKey, `git-lore/${FORMAT_VERSION} digest\0${sessionId}\0${bundleSha256}`);
}

/** Canonical bytes of metadata: fixed key order, so the same metadata always has the same blob. */
export function serializeMeta(m: SessionMeta): Buffer {
  const ordered: SessionMeta = {
    v: m.v, id: m.id, tool: m.tool, startedAt: m.startedAt, updatedAt: m.updatedAt, messageCount: m.messageCount,
    originMachine: m.originMachine, branch: m.branch, digest: m.digest,
  };
  return Buffer.from(`${JSON.stringify(ordered)}\n`, 'utf8');
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
  return Buffer.concat([Buffer.from(`git-lore/${FORMAT_VERSION} payload\0${storeId}\0${sessionId}\0`, 'utf8'), metaBytes]);
}

export function sealPayload(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, gz: Buffer): Buffer {
  const sealed = seal(subkey(dataKey, 'payload'), gz, payloadAad(storeId, sessionId, metaBytes));
  return Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION]), sealed]);
}

export function openPayload(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, blob: Buffer): Buffer {
  if (blob.length < 5 || !blob.subarray(0, 4).equals(MAGIC)) throw new CryptoError(`session ${sessionId}: payload is not a git-lore envelope`);
  if (blob[4] !== FORMAT_VERSION) throw new CryptoError(`session ${sessionId}: payload format version ${blob[4]} is not supported`);
  return open(subkey(dataKey, 'payload'), blob.subarray(5), payloadAad(storeId, sessionId, metaBytes), `session ${sessionId}`);
}
