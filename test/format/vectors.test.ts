import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseDescriptor, unlock, verifyKey } from '../../src/format/descriptor.js';
import { chunkKeys, openChunk } from '../../src/format/chunk.js';
import { INDEX_MAX_BLOB, openIndex } from '../../src/format/session-index.js';
import { chunkPath, contentDigestV2, contentHash, META_MAX_BYTES, parseChunkPath, parseMetaV2, parseSessionPath, sessionPaths } from '../../src/format/session-entry.js';
import { subkey } from '../../src/crypto/primitives.js';

// The checked-in vectors (test/vectors/format2/README.md), read from the source tree.
const root = fileURLToPath(new URL('../../../test/vectors/format2/', import.meta.url));
const store = path.join(root, 'store');
const keysFile = JSON.parse(fs.readFileSync(path.join(root, 'expected/keys.json'), 'utf8')) as { passphrase: string; dataKey: string; storeId: string };
const treeFiles = () => (fs.readdirSync(store, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).filter((p) => fs.statSync(path.join(store, p)).isFile()).sort();
const read = (p: string) => fs.readFileSync(path.join(store, p));
const expectedFiles = (id: string) => {
  const dir = path.join(root, 'expected', id);
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort();
};

test('format-2 vectors: decoded with git-lore\'s functions (passphrase -> data key -> indexes -> chunks -> files, digests)', async () => {
  const d = parseDescriptor(read('lore.json'));
  assert.equal(d.version, 2);
  assert.equal(d.storeId, keysFile.storeId);
  const dataKey = await unlock(d, keysFile.passphrase);
  assert.equal(dataKey.toString('hex'), keysFile.dataKey);
  verifyKey(d, dataKey);
  const keys = chunkKeys(dataKey);
  const digestKey = subkey(dataKey, 'digest');
  const paths = treeFiles();
  const ids = [...new Set(paths.map((p) => parseSessionPath(p)?.id).filter((x): x is string => !!x))].sort();
  assert.deepEqual(ids, ['0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b', '5f0c1c9e-3a2b-4c1d-8e9f-0a1b2c3d4e5f']);
  const used = new Set<string>();
  for (const id of ids) {
    const sp = sessionPaths(id);
    const metaBytes = read(sp.meta);
    assert.ok(metaBytes.length <= META_MAX_BYTES);
    const meta = parseMetaV2(metaBytes, id);
    const idxBlob = read(sp.idx);
    assert.ok(idxBlob.length <= INDEX_MAX_BLOB);
    const index = openIndex(dataKey, d.storeId, id, metaBytes, idxBlob);
    assert.deepEqual(index, JSON.parse(fs.readFileSync(path.join(root, 'expected', `${id}.index.json`), 'utf8')));
    assert.equal(index.tool, meta.tool);
    assert.deepEqual(index.files.map((f) => f.path), expectedFiles(id));
    for (const f of index.files) {
      const data = Buffer.concat(f.chunks.map(([cid, len]) => {
        used.add(cid);
        return openChunk(keys, d.storeId, cid, read(chunkPath(cid)), len, `session ${id}`);
      }));
      assert.deepEqual(data, fs.readFileSync(path.join(root, 'expected', id, f.path)), f.path);
      assert.equal(data.length, f.size);
      assert.equal(crypto.createHash('sha256').update(data).digest('hex'), f.sha256);
    }
    assert.equal(meta.digest, contentDigestV2(digestKey, id, contentHash(index.files)));
  }
  assert.ok(index0HasSeveralChunks(), 'the Claude transcript spans several chunks');
  const chunksInTree = paths.map(parseChunkPath).filter((x): x is string => !!x).sort();
  assert.deepEqual(chunksInTree, [...used].sort(), 'every chunk in the tree is used, every used chunk is there');
  assert.deepEqual(paths.filter((p) => !parseChunkPath(p) && !parseSessionPath(p)), ['lore.json']);
});

function index0HasSeveralChunks(): boolean {
  const idx = JSON.parse(fs.readFileSync(path.join(root, 'expected', '5f0c1c9e-3a2b-4c1d-8e9f-0a1b2c3d4e5f.index.json'), 'utf8')) as { files: Array<{ path: string; chunks: unknown[] }> };
  return idx.files.find((f) => f.path.endsWith('4e5f.jsonl'))!.chunks.length >= 3;
}

/** Stand-alone: what docs/FORMAT.md says, with node:crypto and node:zlib only (the data key from keys.json). */
test('format-2 vectors: decoded by a stand-alone reader of docs/FORMAT.md', () => {
  const dataKey = Buffer.from(keysFile.dataKey, 'hex');
  const storeId = keysFile.storeId;
  const hkdf = (label: string) => Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), label, 32));
  const hmac = (key: Buffer, ...parts: Array<Buffer | string>) => parts.reduce((h, p) => h.update(p), crypto.createHmac('sha256', key)).digest();
  const desc = JSON.parse(read('lore.json').toString()) as { storeId: string; keyCheck: string };
  assert.equal(desc.keyCheck, hmac(hkdf('git-lore/1 check'), `git-lore/1 key-check\0${storeId}`).toString('hex'));
  const openSealed = (blob: Buffer, kind: number, key: Buffer, aad: Buffer): Buffer => {
    assert.deepEqual(blob.subarray(0, 10), Buffer.from([0x4c, 0x4f, 0x52, 0x45, 0x02, kind, 0, 0, 0, 0]));
    const dec = crypto.createDecipheriv('aes-256-gcm', key, blob.subarray(10, 22));
    dec.setAAD(aad);
    dec.setAuthTag(blob.subarray(blob.length - 16));
    const p = Buffer.concat([dec.update(blob.subarray(22, blob.length - 16)), dec.final()]);
    const len = p.readUInt32BE(1);
    assert.ok(p.subarray(5 + len).every((b) => b === 0));
    const body = p.subarray(5, 5 + len);
    assert.ok(p[0] === 0 || p[0] === 1);
    return p[0] === 1 ? zlib.inflateRawSync(body) : body;
  };
  let chunksSeen = 0;
  for (const p of treeFiles().filter((x) => x.endsWith('.idx'))) {
    const id = path.basename(p, '.idx');
    const metaBytes = read(p.replace(/\.idx$/, '.meta'));
    const index = JSON.parse(openSealed(read(p), 0x49, hkdf('git-lore/2 index'), Buffer.concat([Buffer.from(`git-lore/2 index\0${storeId}\0${id}\0`), metaBytes])).toString('utf8')) as {
      id: string; files: Array<{ path: string; size: number; sha256: string; chunks: Array<[string, number]> }>;
    };
    assert.equal(index.id, id);
    let lines = '';
    for (const f of index.files) {
      const data = Buffer.concat(f.chunks.map(([cid, len]) => {
        chunksSeen++;
        const blob = read(`chunks/${cid.slice(0, 2)}/${cid}`);
        const c = openSealed(blob, 0x43, hkdf('git-lore/2 chunk'), Buffer.from(`git-lore/2 chunk\0${storeId}\0${cid}`, 'ascii'));
        assert.equal(hmac(hkdf('git-lore/2 chunk-id'), crypto.createHash('sha256').update(c).digest()).toString('hex'), cid);
        assert.equal(c.length, len);
        // The nonce is SIV-style: HMAC(K_chunk-nonce, cid || P)[0:12], P being the whole padded plaintext.
        const dec = crypto.createDecipheriv('aes-256-gcm', hkdf('git-lore/2 chunk'), blob.subarray(10, 22));
        const padded = dec.update(blob.subarray(22, blob.length - 16));
        assert.deepEqual(blob.subarray(10, 22), hmac(hkdf('git-lore/2 chunk-nonce'), cid, padded).subarray(0, 12));
        return c;
      }));
      assert.deepEqual(data, fs.readFileSync(path.join(root, 'expected', id, f.path)));
      assert.equal(crypto.createHash('sha256').update(data).digest('hex'), f.sha256);
      lines += `${f.path}\0${f.size}\0${f.sha256}\n`;
    }
    const ch = crypto.createHash('sha256').update(lines).digest('hex');
    const meta = JSON.parse(metaBytes.toString()) as { v: number; digest: string };
    assert.equal(meta.v, 2);
    assert.equal(meta.digest, hmac(hkdf('git-lore/1 digest'), `git-lore/2 digest\0${id}\0${ch}`).toString('hex'));
  }
  assert.equal(chunksSeen, 6);
});

test('format-2 vectors stay small (< 200 KB)', () => {
  const all = (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => path.join(root, p)).filter((p) => fs.statSync(p).isFile());
  assert.ok(all.reduce((s, p) => s + fs.statSync(p).size, 0) < 200_000);
});
