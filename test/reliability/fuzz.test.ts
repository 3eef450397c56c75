import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import zlib from 'node:zlib';
import { Machine } from '../helpers/machine.js';
import { LoreError } from '../../src/errors.js';
import { decodePayload } from '../../src/core/sync/pull.js';
import { openPayload, sealPayload } from '../../src/format/session-entry.js';
import { packBundle } from '../../src/store/bundle.js';
import { chunkKeys, openChunk, sealChunk } from '../../src/format/chunk.js';
import { openIndex, sealIndex } from '../../src/format/session-index.js';
import { frame } from '../../src/format/frame.js';
import { sealedHeader } from '../../src/format/sealed-object.js';
import { sealWithNonce, subkey } from '../../src/crypto/primitives.js';
import { createHash, randomBytes as cryptoRandom } from 'node:crypto';
import { ClaudeCodeSource } from '../../src/sources/claude-code.js';
import { CodexSource } from '../../src/sources/codex.js';
import { parseApplyPatch } from '../../src/sources/apply-patch.js';
import { runHelper } from '../../src/remote/helper.js';
import { makeEnv } from '../../src/env.js';
import { PROFILE, rng, summary } from './profile.js';

/** Resolves or rejects within `ms`, else fails: a hang is a defect. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('HANG')) throw err;
    return err as Error;
  } finally {
    clearTimeout(timer);
  }
}

function mutate(r: () => number, buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n && out.length; i++) {
    const at = Math.floor(r() * out.length);
    const kind = r();
    if (kind < 0.5) out[at] = Math.floor(r() * 256);
    else if (kind < 0.75) return Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(r() * 64))]);
    else return out.subarray(0, at);
  }
  return out;
}

/** Seals any JSON as an index, without the writer's validation (what a hostile member could send). */
function sealIndexUnchecked(dataKey: Buffer, storeId: string, sessionId: string, metaBytes: Buffer, value: unknown): Buffer {
  const aad = Buffer.concat([Buffer.from(`git-lore/2 index\0${storeId}\0${sessionId}\0`, 'utf8'), metaBytes]);
  const sealed = sealWithNonce(subkey(dataKey, 'index'), cryptoRandom(12), frame(Buffer.from(JSON.stringify(value), 'utf8'), { compress: true }), aad);
  return Buffer.concat([sealedHeader('I'), sealed]);
}

const randomBytes = (r: () => number, n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));

test(`fuzzing: payload decoder, format-2 chunks and indexes, agent parsers and the remote-helper protocol reader (${PROFILE.fuzzCases} cases each, seed ${PROFILE.seed})`, async () => {
  const r = rng(PROFILE.seed);
  let crashes = 0;
  let hangs = 0;
  const unclear: string[] = [];
  const expectClear = (res: unknown, what: string) => {
    if (res instanceof Error && !(res instanceof LoreError)) {
      crashes += 1;
      unclear.push(`${what}: ${res.name}: ${res.message}`);
    }
  };

  // 1. Payload envelope and plaintext: random bytes, mutated envelopes, mutated gzip/tar inside a valid envelope.
  const key = Buffer.alloc(32, 7);
  const storeId = 'ab'.repeat(16);
  const meta = Buffer.from('{"v":1}\n');
  const goodTar = await packBundle([
    { path: 'claude/aaaaaaaa-0000-4000-8000-000000000001.jsonl', data: Buffer.from('{"type":"user","uuid":"u1","message":{"role":"user","content":"hi"}}\n'), mtimeMs: 0 },
    { path: 'manifest.json', data: Buffer.from('{"v":1,"agentRoots":["/r"]}'), mtimeMs: 0 },
  ]);
  const goodGz = zlib.gzipSync(goodTar);
  const envelope = sealPayload(key, storeId, 's1', meta, goodGz);
  for (let i = 0; i < PROFILE.fuzzCases; i++) {
    const which = i % 4;
    const input = which === 0 ? randomBytes(r, Math.floor(r() * 300)) : which === 1 ? mutate(r, envelope) : which === 2 ? mutate(r, goodGz) : zlib.gzipSync(mutate(r, goodTar));
    try {
      const res = await bounded(
        (async () => {
          const gz = which <= 1 ? openPayload(key, storeId, 's1', meta, input) : input;
          return decodePayload(gz, 's1', 1 << 20);
        })(),
        5000,
        `payload case ${i}`,
      );
      expectClear(res, `payload case ${i} (kind ${which})`);
    } catch (err) {
      hangs += 1;
      unclear.push(String(err));
    }
  }

  // 1b. Format 2: mutated sealed chunks and indexes, and indexes whose plaintext is mutated JSON
  // sealed with the right key (a member holding the key sending garbage).
  const ckeys = chunkKeys(key);
  const data = Buffer.from('{"type":"user","uuid":"u1","message":{"role":"user","content":"hi"}}\n'.repeat(40));
  const chunk = sealChunk(ckeys, storeId, data);
  const sid = 'aaaaaaaa-0000-4000-8000-000000000001';
  const meta2 = Buffer.from('{"v":2}\n');
  const good = { v: 2, id: sid, tool: 'claude-code', toolVersion: null, branch: null, startedAt: null, updatedAt: null, messageCount: 1, agentRoots: ['/r'], files: [{ path: `claude/${sid}.jsonl`, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), chunks: [[chunk.cid, data.length]] }] };
  const index = sealIndex(key, storeId, sid, meta2, good as never);
  for (let i = 0; i < PROFILE.fuzzCases; i++) {
    const which = i % 3;
    try {
      if (which === 0) openChunk(ckeys, storeId, chunk.cid, mutate(r, chunk.blob), data.length);
      else if (which === 1) openIndex(key, storeId, sid, meta2, mutate(r, index));
      else {
        // The JSON mutated, then framed and sealed properly: only validation stands in the way.
        const text = mutate(r, Buffer.from(JSON.stringify(good))).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        openIndex(key, storeId, sid, meta2, sealIndexUnchecked(key, storeId, sid, meta2, parsed));
      }
    } catch (err) {
      expectClear(err, `format-2 case ${i} (kind ${which})`);
    }
  }

  // 2. Agent file parsers: mutated real-shaped lines and junk; parse must never throw.
  const claude = new ClaudeCodeSource('/nowhere', { unreadable: () => undefined });
  const codex = new CodexSource('/nowhere', { unreadable: () => undefined });
  const claudeLine = JSON.stringify({ type: 'assistant', sessionId: 's', uuid: 'a', timestamp: '2026-01-01T00:00:00Z', message: { id: 'm', role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Edit', input: { file_path: '/r/a', old_string: 'x', new_string: 'y' } }] } });
  const resultLine = JSON.stringify({ type: 'user', uuid: 'b', toolUseResult: { filePath: '/r/a', structuredPatch: [{ lines: ['+y'] }] }, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok' }] } });
  const codexLine = JSON.stringify({ timestamp: 't', type: 'response_item', payload: { type: 'custom_tool_call', call_id: 'c', name: 'apply_patch', input: '*** Begin Patch\n*** Add File: a\n+x\n*** End Patch' } });
  for (let i = 0; i < PROFILE.fuzzCases; i++) {
    const text = Buffer.concat([mutate(r, Buffer.from(`${claudeLine}\n${resultLine}\n${codexLine}\n`)), r() < 0.3 ? randomBytes(r, 100) : Buffer.alloc(0)]);
    for (const [src, p] of [[claude, 'claude/s.jsonl'], [codex, 'codex/sessions/2026/01/01/rollout-x-019a0000-0000-7000-8000-000000000001.jsonl']] as const) {
      try {
        src.parse('s', [{ path: p, data: text, mtimeMs: 0 }]);
      } catch (err) {
        crashes += 1;
        unclear.push(`${src.tool} parser: ${(err as Error).message}`);
      }
    }
    try {
      parseApplyPatch(text.toString('utf8'));
    } catch (err) {
      crashes += 1;
      unclear.push(`apply_patch parser: ${(err as Error).message}`);
    }
  }

  // 3. The remote-helper protocol reader: random command sequences against a real (empty) repository.
  const m = new Machine('fuzzhelper');
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const words = ['capabilities', 'option progress true', 'option verbosity 1', 'option nonsense 1', 'option dry-run true', 'list', 'list for-push', 'fetch 0000 refs/heads/main', 'push refs/heads/main:refs/heads/main', '', 'garbage', '\u0000\u00ff', 'option', 'fetch', 'push'];
  const helperCases = Math.max(20, Math.floor(PROFILE.fuzzCases / 20));
  for (let i = 0; i < helperCases; i++) {
    const lines = Array.from({ length: 1 + Math.floor(r() * 6) }, () => (r() < 0.8 ? words[Math.floor(r() * words.length)]! : randomBytes(r, 12).toString('latin1')));
    let k = 0;
    const written: string[] = [];
    const env = makeEnv({ cwd: repo, vars: { ...m.vars, GIT_DIR: path.join(repo, '.git') } });
    try {
      const res = await bounded(
        runHelper({ env, reader: { next: async () => (k < lines.length ? lines[k++]! : null) }, write: (t) => void written.push(t), warn: () => undefined }, ['origin', path.join(m.home, 'no-such-remote.git')]),
        10000,
        `helper case ${i}: ${JSON.stringify(lines)}`,
      );
      expectClear(res, `helper case ${i}: ${JSON.stringify(lines)}`);
    } catch (err) {
      hangs += 1;
      unclear.push(String(err));
    }
  }
  summary('fuzzing', { 'payload cases': PROFILE.fuzzCases, 'parser cases': PROFILE.fuzzCases * 3, 'helper cases': helperCases, hangs, crashes });
  assert.deepEqual(unclear.slice(0, 10), []);
  assert.equal(hangs, 0);
  assert.equal(crashes, 0);
});
