import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from '../helpers/machine.js';
import { attributedRepo } from '../helpers/attributed.js';

type ToolResult = { isError?: boolean; content: Array<{ type: string; text: string }> };

test('git lore mcp through the SDK client over stdio: tools, scope, pages, blame with the prompt, commit attribution', async () => {
  const { m, repo, id, otherId, sessionCommit } = attributedRepo('mcp');
  const transport = new StdioClientTransport({ command: process.execPath, args: [path.join(BIN, 'git-lore'), 'mcp'], cwd: repo, env: m.vars, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'git-lore-test', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as ToolResult;
    const text = r.content[0]!.text;
    return { isError: r.isError === true, text, json: () => { assert.ok(!r.isError, text); return JSON.parse(text); } };
  };
  try {
    assert.equal(client.getServerVersion()?.name, 'git-lore');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['blame', 'list_sessions', 'search_sessions', 'sessions_for_commit', 'show_session']);
    assert.ok(tools.every((t) => t.annotations?.readOnlyHint === true), 'every tool is read-only');

    const found = (await call('search_sessions', { query: 'doubles helper' })).json();
    assert.deepEqual([...new Set(found.results.map((r: { id: string }) => r.id))], [id], 'the other repository\'s session is out of scope');
    assert.match(found.results[0].snippet, /\*\*doubles\*\*/);
    assert.equal(found.truncated, false, 'the agent is told whether every match was ranked');

    const listed = (await call('list_sessions', {})).json();
    assert.deepEqual([listed.total, listed.sessions[0].id, listed.nextOffset], [1, id, null]);

    const page1 = (await call('show_session', { id: id.slice(0, 8), limit: 2 })).json();
    assert.equal(page1.messages.length, 2);
    assert.equal(page1.messages[0].text, 'add a helper that doubles the answer');
    assert.equal(page1.nextOffset, 2);
    const last = (await call('show_session', { id, offset: page1.total - 1 })).json();
    assert.equal(last.nextOffset, null);
    const refused = await call('show_session', { id: otherId });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /does not belong to this repository/);
    assert.equal((await call('show_session', { id, limit: 1000 })).isError, true, 'pages are bounded');

    const blame = (await call('blame', { file: 'calc.js', start_line: 1, end_line: 4 })).json();
    assert.deepEqual(blame.lines.map((l: { session: string | null }) => l.session), [null, null, id, id]);
    assert.equal(blame.sessions.length, 1);
    assert.deepEqual(blame.sessions[0].lines, [3, 4]);
    assert.equal(blame.sessions[0].prompt.text, 'add a helper that doubles the answer');
    assert.ok(blame.sessions[0].reasoning.some((r: { kind: string; text: string }) => r.kind === 'thinking' && /multiply answer by two/.test(r.text)));
    assert.equal((await call('blame', { file: 'calc.js', start_line: 1, end_line: 500 })).isError, true);

    const commit = (await call('sessions_for_commit', { commit: 'HEAD' })).json();
    assert.equal(commit.commit, sessionCommit);
    assert.deepEqual(commit.sessions.map((s: { id: string; lines: number }) => [s.id, s.lines]), [[id, 2]]);
    assert.equal((await call('sessions_for_commit', { commit: '--output=/tmp/x' })).isError, true);
  } finally {
    await client.close();
  }
  assert.doesNotMatch(stderr, /internal error/, stderr);
});
