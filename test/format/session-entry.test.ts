import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  chunkPath, contentDigest, contentDigestV2, contentHash, META_MAX_BYTES, parseChunkPath, parseMetaV2, parseSessionPath, serializeMeta,
  serializeMetaV2, sessionPaths,
} from '../../src/format/session-entry.js';
import { subkey } from '../../src/crypto/primitives.js';
import { chunkKeys, sealChunk } from '../../src/format/chunk.js';

const id = '5f0c1c9e-3a2b-4c1d-8e9f-0a1b2c3d4e5f';
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

test('session and chunk paths: format-1 ones unchanged, .idx and chunks/ recognised', () => {
  assert.deepEqual(sessionPaths(id), { meta: `sessions/5f/${id}.meta`, payload: `sessions/5f/${id}.lore`, idx: `sessions/5f/${id}.idx` });
  assert.deepEqual(parseSessionPath(`sessions/5f/${id}.meta`), { id, kind: 'meta' });
  assert.deepEqual(parseSessionPath(`sessions/5f/${id}.lore`), { id, kind: 'payload' });
  assert.deepEqual(parseSessionPath(`sessions/5f/${id}.idx`), { id, kind: 'index' });
  assert.equal(parseSessionPath(`sessions/ab/${id}.idx`), null);
  assert.equal(parseSessionPath(`sessions/5f/${id}.index`), null);
  const cid = 'ab'.repeat(32);
  assert.equal(chunkPath(cid), `chunks/ab/${cid}`);
  assert.equal(parseChunkPath(`chunks/ab/${cid}`), cid);
  for (const bad of [`chunks/ac/${cid}`, `chunks/ab/${cid}x`, `chunks/AB/${cid.toUpperCase()}`, `chunks/ab/${cid.slice(1)}`, `chunks/${cid}`, `x/chunks/ab/${cid}`]) {
    assert.equal(parseChunkPath(bad), null, bad);
  }
  assert.throws(() => chunkPath('AB'.repeat(32)), RangeError);
  assert.throws(() => chunkPath('../x'), RangeError);
});

test('contentHash: the line format of docs/FORMAT.md, sorted by byte order, duplicates refused', () => {
  const files = [
    { path: 'claude/x/\u{1F600}.jsonl', size: 3, sha256: 'a'.repeat(64) },
    { path: 'claude/x/\uFF01.jsonl', size: 10, sha256: 'b'.repeat(64) },
    { path: 'claude/a.jsonl', size: 0, sha256: 'c'.repeat(64) },
  ];
  // Byte order puts U+FF01 (EF BC 81) before U+1F600 (F0 9F 98 80); UTF-16 order would not.
  const expected = sha(Buffer.from(
    `claude/a.jsonl\0${0}\0${'c'.repeat(64)}\nclaude/x/\uFF01.jsonl\0${10}\0${'b'.repeat(64)}\nclaude/x/\u{1F600}.jsonl\0${3}\0${'a'.repeat(64)}\n`, 'utf8'));
  assert.equal(contentHash(files), expected);
  assert.equal(contentHash([...files].reverse()), expected);
  assert.throws(() => contentHash([...files, files[0]!]), /appears twice/);
  assert.throws(() => contentHash([{ path: 'claude/a.jsonl', size: -1, sha256: 'c'.repeat(64) }]), RangeError);
  assert.throws(() => contentHash([{ path: 'claude/a.jsonl', size: 1, sha256: 'C'.repeat(64) }]), RangeError);
});

test('meta v2 digest: keyed, labelled git-lore/2, independent of chunk boundaries', () => {
  const dataKey = crypto.randomBytes(32);
  const digestKey = subkey(dataKey, 'digest');
  const file = Buffer.from('{"type":"user"}\n'.repeat(3000));
  const keys = chunkKeys(dataKey);
  const store = 'c3'.repeat(16);
  const cut = (sizes: number[]) => {
    const chunks: Array<[string, number]> = [];
    let at = 0;
    for (const n of [...sizes, file.length - sizes.reduce((a, b) => a + b, 0)]) {
      chunks.push([sealChunk(keys, store, file.subarray(at, at + n)).cid, n]);
      at += n;
    }
    return chunks;
  };
  const a = cut([16384, 16384]);
  const b = cut([1000, 30000, 5]);
  assert.notDeepEqual(a, b);
  // The digest sees path, size and sha256 only: whatever the chunks, the same.
  const list = (chunks: Array<[string, number]>) => [{ path: `claude/${id}.jsonl`, size: chunks.reduce((s, c) => s + c[1], 0), sha256: sha(file), chunks }];
  const d = contentDigestV2(digestKey, id, contentHash(list(a)));
  assert.equal(contentDigestV2(digestKey, id, contentHash(list(b))), d);
  assert.equal(d, crypto.createHmac('sha256', digestKey).update(`git-lore/2 digest\0${id}\0${contentHash(list(a))}`).digest('hex'));
  assert.notEqual(contentDigestV2(digestKey, id, contentHash(list(a))), contentDigest(digestKey, id, contentHash(list(a))), 'not the format-1 digest');
  assert.notEqual(contentDigestV2(subkey(crypto.randomBytes(32), 'digest'), id, contentHash(list(a))), d);
  assert.notEqual(contentDigestV2(digestKey, id, contentHash([{ ...list(a)[0]!, size: file.length + 1 }])), d);
});

test('meta v2: serialization (field order, v 2, one line), strict parse, 4 KiB cap', () => {
  const meta = {
    id, tool: 'claude-code', startedAt: '2025-10-01T10:00:00.000Z', updatedAt: null, messageCount: 12,
    originMachine: '0123456789abcdef0123456789abcdef', branch: 'main', digest: 'd'.repeat(64),
  };
  const bytes = serializeMetaV2(meta);
  assert.equal(bytes.toString(), `{"v":2,"id":"${id}","tool":"claude-code","startedAt":"2025-10-01T10:00:00.000Z","updatedAt":null,"messageCount":12,"originMachine":"0123456789abcdef0123456789abcdef","branch":"main","digest":"${'d'.repeat(64)}"}\n`);
  assert.deepEqual(parseMetaV2(bytes, id), { v: 2, ...meta });
  assert.deepEqual(serializeMeta({ v: 1, ...meta }).toString(), bytes.toString().replace('"v":2', '"v":1'), 'format-1 serialization untouched');
  assert.throws(() => serializeMetaV2({ ...meta, branch: 'b'.repeat(META_MAX_BYTES) }), RangeError);
  const bad = (m: unknown, re = /format-2 metadata is malformed/) => assert.throws(() => parseMetaV2(Buffer.from(JSON.stringify(m)), id), re);
  bad({ v: 1, ...meta });
  bad({ ...meta, v: 2 }); // wrong field order
  bad({ v: 2, ...meta, extra: 1 });
  bad({ v: 2, ...meta, id: `${id}0` });
  bad({ v: 2, ...meta, tool: 'gpt' });
  bad({ v: 2, ...meta, originMachine: 'host.example.com' });
  bad({ v: 2, ...meta, digest: 'x' });
  bad({ v: 2, ...meta, messageCount: -1 });
  assert.throws(() => parseMetaV2(Buffer.from('{'), id), /not valid JSON/);
  assert.throws(() => parseMetaV2(Buffer.alloc(META_MAX_BYTES + 1, 0x20), id), /more than 4096/);
});
