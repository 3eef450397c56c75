import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodexSource } from '../../src/sources/codex.js';

const SID = '019aad50-0000-7000-8000-000000000001';
const l = (type: string, payload: object, ts = '2025-11-22T20:45:35Z') => JSON.stringify({ timestamp: ts, type, payload });
const parse = (lines: string[]) =>
  new CodexSource('/nowhere', { unreadable: () => undefined }).parse(SID, [{ path: `codex/sessions/2025/11/22/rollout-2025-11-22T21-45-35-${SID}.jsonl`, data: Buffer.from(lines.join('\n')), mtimeMs: 0 }]);

test('codex: a prompt present as response item and as event counts once; apply_patch edits kept only when applied', () => {
  const s = parse([
    l('session_meta', { id: SID, cwd: '/repo', cli_version: '0.60.1', timestamp: '2025-11-22T20:45:35Z', git: { branch: 'dev' } }),
    l('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'make it' }] }),
    l('event_msg', { type: 'user_message', message: 'make it' }),
    l('event_msg', { type: 'token_count', info: {} }),
    l('response_item', { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: '*** Begin Patch\n*** Add File: a.js\n+ok\n*** End Patch' }),
    l('response_item', { type: 'custom_tool_call_output', call_id: 'c1', output: '{"output":"Success.","metadata":{"exit_code":0}}' }),
    l('response_item', { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch\n*** Update File: a.js\n+never\n*** End Patch' }),
    l('response_item', { type: 'custom_tool_call_output', call_id: 'c2', output: 'apply_patch verification failed: Failed to find expected lines' }),
    l('event_msg', { type: 'agent_message', message: 'only as an event' }),
    l('mystery', { x: 1 }),
    '{"timestamp": "trunc',
  ]);
  assert.equal(s.cwd, '/repo');
  assert.equal(s.gitBranch, 'dev');
  assert.equal(s.toolVersion, '0.60.1');
  assert.equal(s.messages.filter((m) => m.role === 'user').length, 1);
  assert.equal(s.messageCount, 6);
  assert.deepEqual(s.edits.map((e) => [e.path, e.op, e.added]), [['/repo/a.js', 'add', ['ok']]]);
  assert.equal(s.unknownLines, 1);
  assert.equal(s.malformedLines, 1);
});
