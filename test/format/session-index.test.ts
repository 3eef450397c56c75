import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  INDEX_MAX_BLOB, INDEX_MAX_CHUNKS, INDEX_MAX_FILES, isNativePath, openIndex, sealIndex, serializeIndex, validateIndex, type SessionIndex,
} from '../../src/format/session-index.js';
import { frame } from '../../src/format/frame.js';
import { sealedHeader } from '../../src/format/sealed-object.js';
import { seal, subkey } from '../../src/crypto/primitives.js';
import { CryptoError } from '../../src/errors.js';

const id = '0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b';
const store = 'd4'.repeat(16);
const dataKey = crypto.createHash('sha256').update('index test key').digest();
const meta = Buffer.from(`{"v":2,"id":"${id}"}\n`);
const cid = (i: number) => crypto.createHash('sha256').update(String(i)).digest('hex');

function sample(): SessionIndex {
  return {
    v: 2, id, tool: 'codex', toolVersion: '0.46.0', branch: null, startedAt: '2025-10-01T10:00:00Z', updatedAt: '2025-10-01T10:05:00Z', messageCount: 4,
    agentRoots: ['/home/ann/src/app'],
    files: [
      { path: 'claude/agent-x.jsonl', size: 0, sha256: 'e'.repeat(64), chunks: [] },
      { path: 'codex/sessions/2025/10/01/rollout-2025-10-01T10-00-00-x.jsonl', size: 300_000, sha256: 'a'.repeat(64), chunks: [[cid(1), 262144], [cid(2), 300_000 - 262144]] },
    ],
  };
}

/** Seals arbitrary JSON as an index, the way a member holding the key could. */
const sealRaw = (json: unknown, sessionId = id) =>
  Buffer.concat([sealedHeader('I'), seal(subkey(dataKey, 'index'), frame(Buffer.from(JSON.stringify(json)), { compress: true }), Buffer.concat([Buffer.from(`git-lore/2 index\0${store}\0${sessionId}\0`), meta]))]);
const refused = (json: unknown, re: RegExp) =>
  assert.throws(() => openIndex(dataKey, store, id, meta, sealRaw(json)), (e: unknown) => e instanceof CryptoError && e.message.startsWith(`session ${id}: `) && re.test(e.message), String(re));

test('index round trip; random nonce per write; canonical field order; unknown fields dropped', () => {
  const idx = sample();
  const a = sealIndex(dataKey, store, id, meta, idx);
  const b = sealIndex(dataKey, store, id, meta, idx);
  assert.deepEqual(a.subarray(0, 10), Buffer.from([0x4c, 0x4f, 0x52, 0x45, 2, 0x49, 0, 0, 0, 0]));
  assert.notDeepEqual(a.subarray(10, 22), b.subarray(10, 22));
  assert.deepEqual(openIndex(dataKey, store, id, meta, a), idx);
  assert.deepEqual(Object.keys(JSON.parse(serializeIndex(idx).toString())), ['v', 'id', 'tool', 'toolVersion', 'branch', 'startedAt', 'updatedAt', 'messageCount', 'agentRoots', 'files']);
  assert.deepEqual(openIndex(dataKey, store, id, meta, sealRaw({ ...idx, future: { x: 1 } })), idx);
});

test('index authentication: another session, store, metadata, key; tampered bits; kind and epoch', () => {
  const blob = sealIndex(dataKey, store, id, meta, sample());
  const fails = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CryptoError && e.message.includes(`session `) && re.test(e.message), String(re));
  const other = '0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1c';
  fails(() => openIndex(dataKey, store, other, meta, blob), /authentication failed/);
  fails(() => openIndex(dataKey, 'e5'.repeat(16), id, meta, blob), /authentication failed/);
  fails(() => openIndex(dataKey, store, id, Buffer.from(meta.toString().replace('"v":2', '"v":2 ')), blob), /authentication failed/);
  fails(() => openIndex(crypto.randomBytes(32), store, id, meta, blob), /authentication failed/);
  for (let i = 0; i < blob.length; i += 7) {
    const t = Buffer.from(blob);
    t[i]! ^= 0x10;
    assert.throws(() => openIndex(dataKey, store, id, meta, t), CryptoError, `byte ${i}`);
  }
  const kind = Buffer.from(blob);
  kind[5] = 0x43;
  fails(() => openIndex(dataKey, store, id, meta, kind), new RegExp(`^session ${id}: index: the object is of kind 0x43`));
  const epoch = Buffer.from(blob);
  epoch[9] = 1;
  fails(() => openIndex(dataKey, store, id, meta, epoch), /sealed under key epoch 1, expected 0/);
  fails(() => openIndex(dataKey, store, id, meta, blob.subarray(0, 30)), /too short/);
  fails(() => openIndex(dataKey, store, id, meta, Buffer.alloc(INDEX_MAX_BLOB + 1)), /more than 16777216/);
  // The index of one session renamed onto another: its id inside names the first.
  fails(() => openIndex(dataKey, store, other, meta, sealRaw(sample(), other)), /names another session/);
});

test('index validation: every rule', () => {
  const s = sample();
  const f1 = s.files[1]!;
  const withFile = (patch: Record<string, unknown>) => ({ ...s, files: [s.files[0], { ...f1, ...patch }] });
  refused({ ...s, v: 1 }, /version 1, not 2/);
  refused({ ...s, id: 'someone-else' }, /names another session/);
  refused({ ...s, tool: 'nosuchagent' }, /unknown tool/);
  refused({ ...s, branch: 3 }, /malformed branch/);
  refused({ ...s, messageCount: -1 }, /malformed messageCount/);
  refused({ ...s, messageCount: 1.5 }, /malformed messageCount/);
  refused({ ...s, agentRoots: ['/a', 1] }, /malformed agentRoots/);
  refused([s], /not a JSON object/);
  refused({ ...s, files: {} }, /no file list/);
  refused({ ...s, files: [...s.files, null] }, /malformed file entry/);
  // Absurd counts, refused before any entry is looked at.
  refused({ ...s, files: Array.from({ length: INDEX_MAX_FILES + 1 }, () => 0) }, /lists 4097 files, more than 4096/);
  const many = Array.from({ length: INDEX_MAX_CHUNKS / 2 + 1 }, () => 0);
  refused({ ...s, files: [{ ...s.files[0], chunks: many }, { ...f1, chunks: many }] }, /lists 262146 chunks, more than 262144/);
  // Paths.
  for (const p of ['claude/../x.jsonl', 'claude/./x.jsonl', 'claude//x.jsonl', 'claude/x.jsonl/', 'claude/x\0.jsonl', '/claude/x.jsonl', 'other/x.jsonl', 'claude/', 'claude', 'claude/..', 7]) {
    refused({ ...s, files: [{ ...f1, path: p }] }, /unexpected path/);
  }
  // Order and uniqueness (byte order: U+FF01 before U+1F600).
  refused({ ...s, files: [s.files[1], s.files[0]] }, /not sorted/);
  refused({ ...s, files: [s.files[0], s.files[0], s.files[1]] }, /not sorted by path, or repeats one/);
  const a = { ...f1, path: 'claude/\uFF01.jsonl' };
  const b = { ...f1, path: 'claude/\u{1F600}.jsonl' };
  assert.equal(openIndex(dataKey, store, id, meta, sealRaw({ ...s, files: [a, b] })).files.length, 2);
  refused({ ...s, files: [b, a] }, /not sorted/);
  // Sizes, hashes, chunks.
  refused(withFile({ size: f1.size + 1 }), /is 300001 bytes but its chunks hold 300000/);
  refused(withFile({ size: -1 }), /bad size/);
  refused(withFile({ size: 2 ** 34 + 1 }), /bad size/);
  refused(withFile({ size: '300000' }), /bad size/);
  refused(withFile({ sha256: 'A'.repeat(64) }), /bad sha256/);
  refused(withFile({ sha256: 'a'.repeat(63) }), /bad sha256/);
  refused(withFile({ chunks: [[cid(1), 262144], [cid(2).toUpperCase(), 37856]] }), /malformed chunk id/);
  refused(withFile({ chunks: [[cid(1), 262144], [cid(2), 37856, 'x']] }), /malformed chunk id/);
  refused(withFile({ chunks: [[cid(1), 262145], [cid(2), 37855]] }), /chunk length outside 1\.\.262144/);
  refused(withFile({ size: 262144, chunks: [[cid(1), 262144], [cid(2), 0]] }), /chunk length outside/);
  refused(withFile({ chunks: [[cid(1), 262144], [cid(2), 37855.5]] }), /chunk length outside/);
  refused({ ...s, files: [{ ...f1, path: 'codex/sessions/x.json' }] }, /holds no transcript/);
  // Not JSON, not UTF-8.
  const raw = (data: Buffer) => Buffer.concat([sealedHeader('I'), seal(subkey(dataKey, 'index'), frame(data, { compress: false }), Buffer.concat([Buffer.from(`git-lore/2 index\0${store}\0${id}\0`), meta]))]);
  assert.throws(() => openIndex(dataKey, store, id, meta, raw(Buffer.from('{"v":2'))), /not valid UTF-8 JSON/);
  assert.throws(() => openIndex(dataKey, store, id, meta, raw(Buffer.concat([Buffer.from('{"v":2,"x":"'), Buffer.from([0xff]), Buffer.from('"}')]))), /not valid UTF-8 JSON/);
  // A writer cannot seal what a reader refuses.
  assert.throws(() => sealIndex(dataKey, store, id, meta, { ...s, files: [s.files[1]!, s.files[0]!] }), /not sorted/);
  assert.throws(() => sealIndex(dataKey, store, 'X', meta, s), RangeError);
  // The rules hold without sealing too.
  assert.deepEqual(validateIndex(JSON.parse(serializeIndex(s).toString()), id), s);
});

test('isNativePath: the rule of the format-1 payload decoder', () => {
  for (const p of ['claude/a.jsonl', 'claude/a/subagents/agent-x.jsonl', 'claude/a/tool-results/t 1.txt', 'codex/sessions/2025/10/01/rollout-x.jsonl', 'codex/archived_sessions/r.jsonl', 'claude/..x', 'claude/.hidden']) {
    assert.ok(isNativePath(p), p);
  }
  for (const p of ['', 'claude', 'claude/', 'codex//x', 'claude/../x', 'claude/./x', './claude/x', 'nosuchagent/x', 'claude/x\0y', 'Claude/x']) assert.ok(!isNativePath(p), JSON.stringify(p));
});
