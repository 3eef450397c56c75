import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaudeCodeSource } from '../../src/sources/claude-code.js';
import { CodexSource } from '../../src/sources/codex.js';
import type { NormalizedMessage, Source } from '../../src/sources/types.js';
import type { NativeFile } from '../../src/store/bundle.js';
import { rng } from '../helpers/rng.js';
import { claudeSession, codexSession } from '../helpers/sessions.js';

/**
 * Source.streamMessages (what `git lore show` reads through, piece by piece) gives exactly the
 * messages `parse` gives, whatever the blocks: generated sessions with awkward lines, cut into
 * random blocks of whole lines, the last line sometimes without its newline.
 */
const report = { unreadable: () => undefined };
const CLAUDE_SID = '11111111-2222-4333-8444-555555555555';
const CODEX_SID = '019aad50-0000-7000-8000-000000000001';

/** The bytes of one file in random blocks of whole lines (the tail, if any, last), as the piece store's reader gives them. */
function blocks(data: Buffer, r: () => number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let at = 0;
  while (at < data.length) {
    const nl = data.indexOf(0x0a, at);
    if (nl < 0) break;
    at = nl + 1;
    if (r() < 0.3) {
      out.push(data.subarray(start, at));
      start = at;
    }
  }
  if (at > start) out.push(data.subarray(start, at));
  if (at < data.length) out.push(data.subarray(at));
  return out;
}

function streamed(source: Source, id: string, files: NativeFile[], seed: number): NormalizedMessage[] {
  const r = rng(seed);
  const byPath = new Map(files.map((f) => [f.path, f.data]));
  const got: NormalizedMessage[] = [];
  source.streamMessages!(id, [...byPath.keys()].reverse(), (p, fn) => {
    for (const b of blocks(byPath.get(p) ?? Buffer.alloc(0), r)) fn(b);
  }, (m) => got.push(m));
  return got;
}

for (const [name, source, id, make] of [
  ['Claude Code', new ClaudeCodeSource('/nowhere', report), CLAUDE_SID, claudeSession],
  ['Codex', new CodexSource('/nowhere', report), CODEX_SID, codexSession],
] as const) {
  test(`${name}: streamed messages equal parse's, for any cut into blocks (200 generated sessions)`, () => {
    let messages = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const files = make(rng(seed), id);
      const whole = source.parse(id, files).messages;
      messages += whole.length;
      assert.deepEqual(streamed(source, id, files, seed * 7919), whole, `seed ${seed}`);
    }
    assert.ok(messages > 1000, `the generated sessions hold messages (${messages})`);
  });
}
