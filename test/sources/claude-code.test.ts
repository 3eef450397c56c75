import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaudeCodeSource } from '../../src/sources/claude-code.js';

const SID = '11111111-2222-4333-8444-555555555555';
const line = (o: object) => JSON.stringify({ sessionId: SID, cwd: '/r', version: '2.1.0', gitBranch: 'main', ...o });
const parse = (lines: string[], extra: Array<{ path: string; text: string }> = []) =>
  new ClaudeCodeSource('/nowhere', { unreadable: () => undefined }).parse(SID, [
    { path: `claude/projects/-r/${SID}.jsonl`, data: Buffer.from(lines.join('\n')), mtimeMs: 0 },
    ...extra.map((e) => ({ path: e.path, data: Buffer.from(e.text), mtimeMs: 0 })),
  ]);

test('claude: an assistant reply split over lines sharing message.id counts once', () => {
  const s = parse([
    line({ type: 'user', uuid: 'u1', timestamp: '2026-01-01T00:00:00Z', message: { role: 'user', content: 'hi' } }),
    line({ type: 'assistant', uuid: 'a1', timestamp: '2026-01-01T00:00:01Z', message: { id: 'm1', role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }] } }),
    line({ type: 'assistant', uuid: 'a2', timestamp: '2026-01-01T00:00:02Z', message: { id: 'm1', role: 'assistant', content: [{ type: 'text', text: 'hello' }] } }),
  ]);
  assert.equal(s.messageCount, 2);
  assert.deepEqual(s.messages.map((m) => [m.turn, m.role, m.kind, m.text]), [
    [0, 'user', 'text', 'hi'],
    [1, 'assistant', 'thinking', 'hmm'],
    [1, 'assistant', 'text', 'hello'],
  ]);
  assert.equal(s.cwd, '/r');
  assert.equal(s.gitBranch, 'main');
  assert.equal(s.startedAt, '2026-01-01T00:00:00Z');
  assert.equal(s.updatedAt, '2026-01-01T00:00:02Z');
});

test('claude: edits from structuredPatch, from input when no patch, none when the tool failed', () => {
  const use = (id: string, name: string, input: object) =>
    line({ type: 'assistant', uuid: `a-${id}`, timestamp: '2026-01-01T00:00:01Z', message: { id: `m-${id}`, role: 'assistant', content: [{ type: 'tool_use', id, name, input }] } });
  const result = (id: string, toolUseResult: unknown, isError = false) =>
    line({ type: 'user', uuid: `r-${id}`, timestamp: '2026-01-01T00:00:02Z', toolUseResult, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok', is_error: isError }] } });
  const s = parse([
    use('t1', 'Edit', { file_path: '/r/a.ts', old_string: 'x = 1', new_string: 'x = 2\ny = 3' }),
    result('t1', { filePath: '/r/a.ts', structuredPatch: [{ oldStart: 1, oldLines: 1, newStart: 1, newLines: 2, lines: ['-x = 1', '+x = 2', '+y = 3', ' z'] }] }),
    use('t2', 'Write', { file_path: '/r/b.ts', content: 'one\ntwo\n' }),
    result('t2', { type: 'create', filePath: '/r/b.ts', content: 'one\ntwo\n', structuredPatch: [] }),
    use('t3', 'Edit', { file_path: '/r/c.ts', old_string: 'a', new_string: 'b' }),
    result('t3', 'Error: File has not been read yet.', true),
    use('t4', 'MultiEdit', { file_path: '/r/d.ts', edits: [{ old_string: 'p\nq', new_string: 'p\nQ' }, { old_string: 'r', new_string: 'R' }] }),
    result('t4', 'no structured result'),
    use('t5', 'Read', { file_path: '/r/a.ts' }),
  ]);
  assert.deepEqual(s.edits.map((e) => [e.path, e.op, e.added]), [
    ['/r/a.ts', 'edit', ['x = 2', 'y = 3']],
    ['/r/b.ts', 'write', ['one', 'two']],
    ['/r/d.ts', 'multiedit', ['Q', 'R']],
  ]);
});

test('claude: malformed, truncated, binary and unknown lines are counted and skipped', () => {
  const s = parse([
    line({ type: 'user', uuid: 'u1', message: { role: 'user', content: 'good' } }),
    '{"type": "assistant", "trunc',
    '\u0000\u0001\u00ff binary junk',
    '[1,2,3]',
    line({ type: 'brand-new-type', data: 1 }),
    line({ type: 'user', uuid: 'u2', message: { role: 'user', content: 'still read' } }),
  ]);
  assert.equal(s.malformedLines, 3);
  assert.equal(s.unknownLines, 1);
  assert.equal(s.messageCount, 2);
});

test('claude: subagent transcripts belong to their parent and are marked', () => {
  const s = parse([line({ type: 'user', uuid: 'u1', message: { role: 'user', content: 'go' } })], [
    { path: `claude/projects/-r/${SID}/subagents/agent-abc.jsonl`, text: line({ type: 'user', uuid: 's1', isSidechain: true, agentId: 'abc', message: { role: 'user', content: 'sub task' } }) },
    { path: 'claude/projects/-r/agent-old.jsonl', text: line({ type: 'assistant', uuid: 's2', isSidechain: true, message: { id: 'x', role: 'assistant', content: 'legacy' } }) },
  ]);
  assert.equal(s.subagentCount, 2);
  assert.equal(s.messageCount, 3);
  assert.deepEqual(s.messages.map((m) => m.agentId), [undefined, 'abc', 'old']);
});
