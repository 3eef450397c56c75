/**
 * Writes the format-2 test vectors (test/vectors/format2/, docs/FORMAT.md): a tiny store with a known
 * passphrase, a data key and store id derived from a fixed seed, two small sessions, the store's tree
 * as plain files, the expected plaintext, and a README. Run after a build:
 *
 *   npm run build && node dist/scripts/make-format2-vectors.js
 *
 * Chunks and metadata are the same bytes on every run; lore.json (random salt, slot id, wrapping
 * nonce) and the .idx blobs (random nonces) differ from run to run, as the format wants.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subkey } from '../src/crypto/primitives.js';
import { descriptorForKey, serializeDescriptor } from '../src/format/descriptor.js';
import { chunkKeys, sealChunk } from '../src/format/chunk.js';
import { sealIndex, type IndexFile, type SessionIndex } from '../src/format/session-index.js';
import { chunkPath, comparePaths, contentDigestV2, contentHash, serializeMetaV2, sessionPaths } from '../src/format/session-entry.js';
import { rng } from '../test/helpers/rng.js';

export const PASSPHRASE = 'correct horse battery staple';
export const SEED = 'git-lore format-2 test vectors';
/** `SHA-256(SEED || "\0" || label)`: the data key (all 32 bytes), store id and machine id (first 16 bytes, hex). */
const fromSeed = (label: string) => crypto.createHash('sha256').update(`${SEED}\0${label}`).digest();
const CUT = 16384; // fixed-offset chunk boundaries: a writer's choice, readers never need them

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/vectors/format2');

interface Session {
  meta: { id: string; tool: 'claude-code' | 'codex'; toolVersion: string; branch: string | null; startedAt: string; updatedAt: string; messageCount: number; agentRoots: string[] };
  files: Array<{ path: string; data: Buffer }>;
}

function claudeTranscript(id: string, target: number): { data: Buffer; messages: number } {
  const r = rng(1);
  const words = ['the', 'parser', 'fails', 'on', 'empty', 'input', 'so', 'we', 'add', 'a', 'guard', 'and', 'a', 'test', 'for', 'it', 'then', 'rerun', 'suite'];
  const lines: string[] = [];
  let parent: string | null = null;
  for (let i = 0; lines.join('\n').length < target; i++) {
    const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const text = Array.from({ length: 20 + Math.floor(r() * 60) }, () => words[Math.floor(r() * words.length)]).join(' ');
    const ts = new Date(Date.UTC(2025, 9, 1, 10, 0, i * 7)).toISOString();
    const type = i % 2 === 0 ? 'user' : 'assistant';
    lines.push(JSON.stringify({
      parentUuid: parent, isSidechain: false, cwd: '/home/ann/src/app', sessionId: id, version: '2.0.31', gitBranch: 'main', type,
      message: type === 'user' ? { role: 'user', content: text } : { role: 'assistant', content: [{ type: 'text', text }] }, uuid, timestamp: ts,
    }));
    parent = uuid;
  }
  return { data: Buffer.from(`${lines.join('\n')}\n`), messages: lines.length };
}

function sessions(): Session[] {
  const cid = '5f0c1c9e-3a2b-4c1d-8e9f-0a1b2c3d4e5f';
  const transcript = claudeTranscript(cid, 40_000);
  const r = rng(2);
  const binary = Buffer.from(Array.from({ length: 300 }, () => Math.floor(r() * 256)));
  const sub = `${JSON.stringify({ parentUuid: null, isSidechain: true, agentId: 'a1b2c3', sessionId: cid, type: 'user', message: { role: 'user', content: 'Find the parser tests.' }, uuid: '00000000-0000-4000-9000-000000000001', timestamp: '2025-10-01T10:01:00.000Z' })}\n`;
  const xid = '0199a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b';
  const rollout = [
    { timestamp: '2025-10-01T12:00:00.000Z', type: 'session_meta', payload: { id: xid, timestamp: '2025-10-01T12:00:00.000Z', cwd: '/home/ann/src/app', originator: 'codex_cli_rs', cli_version: '0.46.0', git: { branch: 'main' } } },
    { timestamp: '2025-10-01T12:00:05.000Z', type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Rename parse() to parseConfig().' }] } },
    { timestamp: '2025-10-01T12:00:20.000Z', type: 'response_item', payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Renamed it in src/config.ts and its two callers.' }] } },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n';
  return [
    {
      meta: { id: cid, tool: 'claude-code', toolVersion: '2.0.31', branch: 'main', startedAt: '2025-10-01T10:00:00.000Z', updatedAt: '2025-10-01T10:30:00.000Z', messageCount: transcript.messages, agentRoots: ['/home/ann/src/app'] },
      files: [
        { path: `claude/${cid}.jsonl`, data: transcript.data },
        { path: `claude/${cid}/subagents/agent-a1b2c3.jsonl`, data: Buffer.from(sub) },
        { path: `claude/${cid}/tool-results/toolu_01.bin`, data: binary },
      ],
    },
    {
      meta: { id: xid, tool: 'codex', toolVersion: '0.46.0', branch: 'main', startedAt: '2025-10-01T12:00:00.000Z', updatedAt: '2025-10-01T12:00:20.000Z', messageCount: 2, agentRoots: ['/home/ann/src/app'] },
      files: [{ path: `codex/sessions/2025/10/01/rollout-2025-10-01T12-00-00-${xid}.jsonl`, data: Buffer.from(rollout) }],
    },
  ];
}

function write(rel: string, data: Buffer | string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

async function main(): Promise<void> {
  const dataKey = fromSeed('data-key');
  const storeId = fromSeed('store-id').subarray(0, 16).toString('hex');
  const originMachine = fromSeed('machine-id').subarray(0, 16).toString('hex');
  fs.rmSync(path.join(root, 'store'), { recursive: true, force: true });
  fs.rmSync(path.join(root, 'expected'), { recursive: true, force: true });

  write('store/lore.json', serializeDescriptor(await descriptorForKey(storeId, dataKey, PASSPHRASE)));
  const keys = chunkKeys(dataKey);
  const digestKey = subkey(dataKey, 'digest');
  const readme: string[] = [];
  for (const s of sessions()) {
    const files: IndexFile[] = [];
    for (const f of [...s.files].sort((a, b) => comparePaths(a.path, b.path))) {
      const chunks: Array<[string, number]> = [];
      for (let at = 0; at < f.data.length; at += CUT) {
        const piece = f.data.subarray(at, Math.min(at + CUT, f.data.length));
        const { cid, blob } = sealChunk(keys, storeId, piece);
        write(`store/${chunkPath(cid)}`, blob);
        chunks.push([cid, piece.length]);
        const codec = zlib.deflateRawSync(piece, { level: 6 }).length < piece.length ? 1 : 0;
        readme.push(`| \`${chunkPath(cid)}\` | \`${f.path}\` bytes ${at} to ${at + piece.length} (${piece.length} bytes), codec ${codec} |`);
      }
      files.push({ path: f.path, size: f.data.length, sha256: crypto.createHash('sha256').update(f.data).digest('hex'), chunks });
      write(`expected/${s.meta.id}/${f.path}`, f.data);
    }
    const metaBytes = serializeMetaV2({
      id: s.meta.id, tool: s.meta.tool, startedAt: s.meta.startedAt, updatedAt: s.meta.updatedAt, messageCount: s.meta.messageCount, originMachine,
      branch: s.meta.branch, digest: contentDigestV2(digestKey, s.meta.id, contentHash(files)),
    });
    const index: SessionIndex = { v: 2, ...s.meta, files };
    const paths = sessionPaths(s.meta.id);
    write(`store/${paths.meta}`, metaBytes);
    write(`store/${paths.idx}`, sealIndex(dataKey, storeId, s.meta.id, metaBytes, index));
    write(`expected/${s.meta.id}.index.json`, `${JSON.stringify(index, null, 2)}\n`);
  }
  write('README.md', README(storeId, dataKey, originMachine, readme));
  write('expected/keys.json', `${JSON.stringify({ passphrase: PASSPHRASE, seed: SEED, dataKey: dataKey.toString('hex'), storeId, originMachine }, null, 2)}\n`);
  process.stdout.write(`wrote ${root}\n`);
}

const README = (storeId: string, dataKey: Buffer, originMachine: string, chunks: string[]) => `# Format-2 test vectors

A tiny git-lore store in format 2 (docs/FORMAT.md), its expected plaintext, and how to decode it.
Written by \`scripts/make-format2-vectors.ts\` (\`npm run build && node dist/scripts/make-format2-vectors.js\`);
decoded by \`test/format/vectors.test.ts\`, once with git-lore's own functions and once with a
stand-alone decoder that uses nothing but node:crypto and node:zlib. Do not edit these files by hand:
the metadata and indexes authenticate exact bytes.

## Keys

- Passphrase: \`${PASSPHRASE}\` (it unlocks the one key slot of \`store/lore.json\`, Argon2id 64 MiB, 3 passes).
- Data key: \`SHA-256("${SEED}" || 0x00 || "data-key")\` = \`${dataKey.toString('hex')}\`.
- Store id: the first 16 bytes of \`SHA-256("${SEED}" || 0x00 || "store-id")\`, hex = \`${storeId}\`.
- Origin machine in the metadata: likewise with \`"machine-id"\` = \`${originMachine}\`.
- \`expected/keys.json\` holds the same values.

The chunks and the metadata are the same bytes on every run of the script. The key slot (random
salt, slot id and nonce) and the indexes (random nonce per write) change on every run.

## Files

| path | what |
|---|---|
| \`store/lore.json\` | the descriptor, version 2, one slot |
| \`store/sessions/5f/5f0c1c9e-….meta\`, \`.idx\` | a Claude Code session: a ~40 KB transcript cut at fixed 16 KiB offsets (3 chunks), a subagent transcript, a 300-byte binary tool result (stored raw, codec 0) |
| \`store/sessions/1b/0199a1b2-….meta\`, \`.idx\` | a Codex session: one rollout file, one chunk |
| \`store/chunks/<cid[0:2]>/<cid>\` | the chunks (below) |
| \`expected/<session id>/<path>\` | each native file's plaintext, at the path the index names |
| \`expected/<session id>.index.json\` | each index's plaintext JSON (pretty-printed here; the sealed one is one line) |

${chunks.length} chunks (under \`store/\`):

| chunk | data |
|---|---|
${chunks.join('\n')}

Chunk boundaries are the writer's choice; this one cuts at fixed offsets, so each file's last chunk
is short.

## Decoding by hand

1. Parse \`store/lore.json\`. Derive \`KEK = Argon2id(passphrase, base64-decoded salt, memory, iterations,
   parallelism, 32 bytes)\`; \`wrapped\` is \`nonce(12) || ciphertext || tag(16)\`; open it with
   AES-256-GCM under KEK, AAD \`"git-lore/1 key-slot\\0" || storeId || "\\0" || slotId || "\\0" ||
   JSON.stringify([name, salt, memory, iterations, parallelism])\`. The plaintext is the data key.
   Check: \`keyCheck == hex(HMAC-SHA256(HKDF(dataKey, "git-lore/1 check"), "git-lore/1 key-check\\0" || storeId))\`.
2. Subkeys: \`HKDF-SHA256(ikm = dataKey, salt = empty, info = label, 32 bytes)\` with labels
   \`git-lore/2 index\`, \`git-lore/2 chunk\`, \`git-lore/2 chunk-id\`, \`git-lore/1 digest\`.
3. An \`.idx\` blob: bytes 0..9 are \`LORE 02 49 00000000\`; then nonce(12), ciphertext, tag(16).
   AES-256-GCM under K_index, AAD \`"git-lore/2 index\\0" || storeId || "\\0" || sessionId || "\\0" ||\`
   the exact bytes of the \`.meta\` file (with its final newline). The plaintext P is
   \`codec(1) || L(4, big-endian) || body(L) || zero padding\`; codec 1 means raw DEFLATE
   (\`zlib.inflateRawSync\`, Python \`zlib.decompress(body, -15)\`). The data is the index JSON.
4. A chunk \`chunks/ab/<cid>\`: header \`LORE 02 43 00000000\`, then as above under K_chunk with AAD
   \`"git-lore/2 chunk\\0" || storeId || "\\0" || cid\` (cid as 64 ASCII hex). Check
   \`hex(HMAC-SHA256(K_chunk-id, SHA-256(data))) == cid\` (HMAC over the 32 raw bytes) and the length.
5. A file is its chunks' data in index order; its SHA-256 is the index's \`sha256\`.
6. \`contentHash\` = hex SHA-256 of \`path \\0 size \\0 sha256 \\n\` per file, sorted by path; the
   metadata's \`digest\` is \`hex(HMAC-SHA256(K_digest, "git-lore/2 digest\\0" || id || "\\0" || contentHash))\`.
`;

await main();
