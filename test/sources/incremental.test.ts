import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClaudeCodeSource } from '../../src/sources/claude-code.js';
import { CodexSource } from '../../src/sources/codex.js';
import { GeminiSource } from '../../src/sources/gemini-cli.js';
import { CopilotSource } from '../../src/sources/copilot-cli.js';
import { CursorSource } from '../../src/sources/cursor.js';
import { AiderSource, aiderSessionId } from '../../src/sources/aider.js';
import type { FileEdit, NormalizedSession, SessionParser, Source } from '../../src/sources/types.js';
import type { NativeFile } from '../../src/store/bundle.js';
import { FIXTURES, SKIP_NO_FIXTURES } from '../helpers/machine.js';
import { rng } from '../helpers/rng.js';
import { claudeSession, codexSession } from '../helpers/sessions.js';

const report = { unreadable: () => undefined };
const claude = new ClaudeCodeSource('/nowhere', report);
const codex = new CodexSource('/nowhere', report);
const gemini = new GeminiSource('/nowhere', report);
const copilot = new CopilotSource('/nowhere', report);
const cursor = new CursorSource('/nowhere', report);
const aider = new AiderSource(null, null, null, report);
const CLAUDE_SID = '11111111-2222-4333-8444-555555555555';
const CODEX_SID = '019aad50-0000-7000-8000-000000000001';

/** The summary fields of a full parse, with absent fields left out. */
function summaryOf(s: NormalizedSession): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['tool', 'toolVersion', 'cwd', 'gitBranch', 'startedAt', 'updatedAt', 'title', 'messageCount', 'subagentCount', 'malformedLines', 'unknownLines'] as const) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  return out;
}

/** Edits as a sorted list of their JSON without seq (a multiset). */
function editSet(edits: FileEdit[]): string[] {
  return edits.map(({ seq: _seq, ...e }) => JSON.stringify(e, Object.keys(e).sort())).sort();
}

/** Whole lines of a file, each with its '\n' (the last may lack one). */
function linesOf(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(10, start);
    const end = nl < 0 ? data.length : nl + 1;
    out.push(data.subarray(start, end));
    start = end;
  }
  return out;
}

/**
 * Feeds a session's files cut at random line boundaries, in a random interleaving, saving the state
 * through JSON and resuming from it now and then; returns what the parser ended with.
 */
function feedRandomly(source: Source, sid: string, files: NativeFile[], seed: number): { summary: unknown; edits: FileEdit[]; pending: FileEdit[]; saves: number } {
  const r = rng(seed);
  const queues = files.map((f) => {
    const lines = linesOf(f.data);
    const pieces: Buffer[] = [];
    let i = 0;
    while (i < lines.length) {
      const n = r() < 0.3 ? lines.length - i : 1 + Math.floor(r() * 4);
      pieces.push(Buffer.concat(lines.slice(i, i + n)));
      i += n;
    }
    if (r() < 0.2) pieces.push(Buffer.alloc(0));
    return { path: f.path, pieces };
  });
  let p: SessionParser = source.parser(sid, r() < 0.5 ? null : undefined);
  const edits: FileEdit[] = [];
  let saves = 0;
  for (;;) {
    const open = queues.filter((q) => q.pieces.length);
    if (!open.length) break;
    const q = open[Math.floor(r() * open.length)]!;
    p.feed(q.path, q.pieces.shift()!);
    if (r() < 0.2) {
      p.summary();
      p.pendingEdits();
    }
    if (r() < 0.35) {
      edits.push(...p.takeEdits());
      p = source.parser(sid, JSON.parse(JSON.stringify(p.save())));
      saves += 1;
    }
  }
  edits.push(...p.takeEdits());
  return { summary: p.summary(), edits, pending: p.pendingEdits(), saves };
}

function assertEquivalent(source: Source, sid: string, files: NativeFile[], seed: number): void {
  const full = source.parse(sid, files, { text: false });
  const got = feedRandomly(source, sid, files, seed);
  assert.deepEqual(got.summary, summaryOf(full), `summary (seed ${seed})`);
  assert.deepEqual(editSet([...got.edits, ...got.pending]), editSet(full.edits), `edits (seed ${seed})`);
  if (source.tool === 'claude-code') {
    const seqs = [...got.edits, ...got.pending].map((e) => e.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'one edit per seq');
  }
}

test('incremental parse of generated Claude sessions equals the full parse, for any cut, interleaving and resume', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
    assertEquivalent(claude, CLAUDE_SID, claudeSession(rng(seed), CLAUDE_SID), seed ^ 0x5bd1e995);
  }), { seed: 20261122, numRuns: 300 });
});

test('incremental parse of generated Codex sessions equals the full parse, for any cut, interleaving and resume', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
    assertEquivalent(codex, CODEX_SID, codexSession(rng(seed), CODEX_SID), seed ^ 0x5bd1e995);
  }), { seed: 20261122, numRuns: 300 });
});

/** Feeds whole files in the order parse reads them and returns the edits, seq included. */
function feedWhole(source: Source, sid: string, files: NativeFile[]): FileEdit[] {
  const messages = source.parse(sid, files).messages;
  const main = `claude/${sid}.jsonl`;
  const byPath = (x: NativeFile, y: NativeFile) => (x.path < y.path ? -1 : 1);
  const ordered = source === claude ? [...files.filter((f) => f.path === main), ...files.filter((f) => f.path !== main).sort(byPath)] : [...files].sort(byPath);
  const p = source.parser(sid);
  for (const f of ordered) p.feed(f.path, f.data);
  const edits = [...p.takeEdits(), ...p.pendingEdits()].sort((x, y) => x.seq - y.seq);
  for (const e of edits) assert.equal(messages[e.seq]?.kind === 'tool_call' && messages[e.seq]?.toolName, e.toolName, `seq ${e.seq} is the tool call of ${e.path}`);
  return edits;
}

test('whole files fed in parse order give the same edits as parse, seq included (Codex: with no event repeated by a later item)', () => {
  const events = /"type":"event_msg","payload":\{"type":"(user_message|agent_message|agent_reasoning)"/;
  for (let seed = 1; seed <= 150; seed++) {
    const claudeFiles = claudeSession(rng(seed), CLAUDE_SID);
    assert.deepEqual(feedWhole(claude, CLAUDE_SID, claudeFiles), claude.parse(CLAUDE_SID, claudeFiles, { text: false }).edits, `claude seed ${seed}`);
    const codexFiles = codexSession(rng(seed), CODEX_SID).map((f) => ({ ...f, data: Buffer.from(f.data.toString('utf8').split('\n').filter((l) => !events.test(l)).join('\n')) }));
    assert.deepEqual(feedWhole(codex, CODEX_SID, codexFiles), codex.parse(CODEX_SID, codexFiles, { text: false }).edits, `codex seed ${seed}`);
  }
});

/** The real sessions in ../shared/fixtures, as parse receives them from a bundle. */
function fixtureSessions(): Array<{ source: Source; sid: string; files: NativeFile[] }> {
  const out: Array<{ source: Source; sid: string; files: NativeFile[] }> = [];
  const dir = path.join(FIXTURES, 'claude-code');
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    const sid = name.slice(0, -'.jsonl'.length);
    const files: NativeFile[] = [{ path: `claude/${name}`, data: fs.readFileSync(path.join(dir, name)), mtimeMs: 0 }];
    const sub = path.join(dir, sid, 'subagents');
    if (fs.existsSync(sub)) for (const s of fs.readdirSync(sub).sort()) files.push({ path: `claude/${sid}/subagents/${s}`, data: fs.readFileSync(path.join(sub, s)), mtimeMs: 0 });
    out.push({ source: claude, sid, files });
  }
  for (const name of fs.readdirSync(path.join(FIXTURES, 'codex')).sort()) {
    const sid = /([0-9a-f-]{36})\.jsonl$/.exec(name)![1]!;
    out.push({ source: codex, sid, files: [{ path: `codex/sessions/2025/11/22/${name}`, data: fs.readFileSync(path.join(FIXTURES, 'codex', name)), mtimeMs: 0 }] });
  }
  for (const id of fs.readdirSync(path.join(FIXTURES, 'copilot', 'session-state')).sort()) {
    out.push({ source: copilot, sid: id, files: [{ path: `copilot/session-state/${id}/events.jsonl`, data: fs.readFileSync(path.join(FIXTURES, 'copilot', 'session-state', id, 'events.jsonl')), mtimeMs: 0 }] });
  }
  // Gemini CLI's JSONL chats (appended to); its legacy `.json` is rewritten whole, so capture re-parses it instead.
  for (const name of fs.readdirSync(path.join(FIXTURES, 'gemini')).filter((n) => n.endsWith('.jsonl')).sort()) {
    const sid = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'gemini', name), 'utf8').split('\n')[0]!).sessionId as string;
    out.push({ source: gemini, sid, files: [{ path: `gemini/chats/${name}`, data: fs.readFileSync(path.join(FIXTURES, 'gemini', name)), mtimeMs: 0 }] });
  }
  // Aider's chat history (Markdown, appended to by every run).
  const chat = fs.readFileSync(path.join(FIXTURES, 'aider', '.aider.chat.history.md'));
  out.push({ source: aider, sid: aiderSessionId(chat.toString('utf8'))!, files: [{ path: 'aider/.aider.chat.history.md', data: chat, mtimeMs: 0 }] });
  return out;
}

test('incremental parse of the real fixture sessions equals the full parse, for any cut, interleaving and resume', { skip: SKIP_NO_FIXTURES }, () => {
  const sessions = fixtureSessions();
  assert.ok(sessions.some((s) => s.source === codex) && sessions.some((s) => s.files.length > 1), 'fixtures hold a codex session and subagent files');
  for (const { source, sid, files } of sessions) {
    assert.ok(source.parse(sid, files, { text: false }).edits.length > 0 || source === claude || sid === '07c40cd0-ff51-4d6e-bdcd-ac2f90877203' /* no edits */, `${sid} has edits`);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => assertEquivalent(source, sid, files, seed)), { seed: 7, numRuns: 8 });
    assert.deepEqual(feedWhole(source, sid, files), source.parse(sid, files, { text: false }).edits, `${sid}: seq as parse's when fed whole`);
  }
});

test('the saved state of a real session is far smaller than the session', { skip: SKIP_NO_FIXTURES }, () => {
  for (const { source, sid, files } of fixtureSessions()) {
    const p = source.parser(sid);
    for (const f of files) p.feed(f.path, f.data);
    const bytes = files.reduce((n, f) => n + f.data.length, 0);
    const state = JSON.stringify(p.save()).length;
    const count = p.summary().messageCount;
    assert.ok(state * 20 < bytes, `${sid}: state ${state} bytes for a session of ${bytes} bytes`);
    assert.ok(state < 500 * files.length + 20 * count, `${sid}: state ${state} bytes for ${count} messages in ${files.length} files`);
  }
});

test('a parser refuses a state it did not write', () => {
  for (const source of [claude, codex, gemini, copilot, cursor, aider]) {
    const other = { ...(source.parser('s').save() as object), v: 2 };
    for (const bad of [{}, other, 'x', 42, []]) assert.throws(() => source.parser('s', bad), /saved state/);
    assert.doesNotThrow(() => source.parser('s', JSON.parse(JSON.stringify(source.parser('s').save()))));
  }
});
