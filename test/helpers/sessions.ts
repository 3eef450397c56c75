import type { NativeFile } from '../../src/store/bundle.js';

/**
 * Generated agent sessions for property tests: small pools of ids, texts and paths so that lines
 * repeat and pair up (shared message ids, tool calls and their results, events repeating items),
 * plus the awkward lines real files hold (no id, no timestamp, errors, junk, unknown types).
 */

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number): boolean => r() < p;
const ts = (r: Rng): string | undefined => (chance(r, 0.1) ? undefined : chance(r, 0.03) ? '' : `2026-01-01T00:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}Z`);
const TEXTS = ['fix the bug', 'add a test', '', '  \n\nsecond line is the title', 'x'.repeat(150), 'done', 'line one\nline two'];
const JUNK = ['{"type": "assistant", "trunc', '\u0000\u00ff junk', '[1,2,3]', 'null', '   '];

function text(lines: string[], lastNewline: boolean): Buffer {
  return Buffer.from(lines.join('\n') + (lastNewline && lines.length ? '\n' : ''));
}

/** A Claude Code session: the main file, subagent files (current and legacy layout) and a file the parser ignores. */
export function claudeSession(r: Rng, sid: string): NativeFile[] {
  const toolIds = ['t1', 't2', 't3', 't4', 't5'];
  const paths = ['/r/a.ts', '/r/b.ts', 'rel/c.ts'];
  const file = (agent: string | undefined, n: number): Buffer => {
    const lines: string[] = [];
    const base = (): Record<string, unknown> => ({
      sessionId: sid, ...(chance(r, 0.8) ? { cwd: pick(r, ['/r', '/other']) } : {}), ...(chance(r, 0.8) ? { version: pick(r, ['2.0.1', '2.1.0']) } : {}),
      ...(chance(r, 0.8) ? { gitBranch: pick(r, ['main', '', 'dev']) } : {}), ...(agent !== undefined && chance(r, 0.8) ? { agentId: chance(r, 0.1) ? '' : agent } : {}),
      ...(chance(r, 0.9) ? { uuid: `u${Math.floor(r() * 40)}` } : {}), timestamp: ts(r),
    });
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.25) {
        const t = pick(r, TEXTS);
        const content = chance(r, 0.5) ? t : [{ type: 'text', text: t }, ...(chance(r, 0.2) ? [{ type: 'image', source: {} }] : [])];
        lines.push(JSON.stringify({ ...base(), type: 'user', ...(chance(r, 0.15) ? { isMeta: true } : {}), message: { role: 'user', content } }));
      } else if (k < 0.55) {
        const blocks: unknown[] = [];
        for (let b = Math.floor(r() * 3); b > 0; b--) {
          const bk = r();
          if (bk < 0.3) blocks.push({ type: 'text', text: pick(r, TEXTS) });
          else if (bk < 0.4) blocks.push({ type: 'thinking', thinking: 'hmm' });
          else {
            const name = pick(r, ['Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'Read']);
            const input = name === 'Edit' ? { file_path: pick(r, paths), old_string: 'a\nb', new_string: 'a\nB\nc' }
              : name === 'Write' ? (chance(r, 0.8) ? { file_path: pick(r, paths), content: 'one\ntwo\n' } : { file_path: pick(r, paths) })
              : name === 'MultiEdit' ? { file_path: pick(r, paths), edits: [{ old_string: 'p', new_string: 'P' }, { old_string: 'q', new_string: 'q\nQ' }] }
              : name === 'NotebookEdit' ? (chance(r, 0.8) ? { notebook_path: pick(r, paths), new_source: 'cell' } : { new_source: 'nowhere' })
              : { file_path: pick(r, paths) };
            blocks.push({ type: 'tool_use', ...(chance(r, 0.95) ? { id: pick(r, toolIds) } : {}), name, input });
          }
        }
        const content = chance(r, 0.1) ? 'plain reply' : blocks;
        const message = { ...(chance(r, 0.85) ? { id: `m${Math.floor(r() * 8)}` } : {}), role: 'assistant', content };
        const line = base();
        if (chance(r, 0.3)) delete line.uuid;
        lines.push(JSON.stringify({ ...line, type: 'assistant', message }));
      } else if (k < 0.78) {
        const id = pick(r, toolIds);
        const result = chance(r, 0.3) ? 'Error: not read yet' : chance(r, 0.5)
          ? { filePath: chance(r, 0.9) ? pick(r, paths) : '/elsewhere', structuredPatch: chance(r, 0.8) ? [{ lines: ['-a', '+A', ' b', '+new'] }] : [], content: 'from result\n' }
          : { type: 'create', filePath: pick(r, paths), content: 'created\n' };
        lines.push(JSON.stringify({
          ...base(), type: 'user', toolUseResult: result,
          message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: 'ok' }], ...(chance(r, 0.2) ? { is_error: true } : {}) }] },
        }));
      } else if (k < 0.85) {
        const v = pick(r, [undefined, '', '   ', 'A title', 'Multi\nline title']);
        const t = pick(r, ['summary', 'custom-title', 'ai-title']);
        lines.push(JSON.stringify(t === 'summary' ? { type: t, summary: v, leafUuid: 'x' } : { type: t, ...(chance(r, 0.5) ? { title: v } : { customTitle: v }), sessionId: sid }));
      } else if (k < 0.9) lines.push(JSON.stringify({ ...base(), type: pick(r, ['system', 'progress', 'brand-new-type', 'file-history-snapshot']) }));
      else if (k < 0.93) lines.push(JSON.stringify({ ...base(), type: pick(r, ['user', 'assistant']) }));
      else lines.push(pick(r, JUNK));
    }
    return text(lines, chance(r, 0.7));
  };
  const files: NativeFile[] = [{ path: `claude/${sid}.jsonl`, data: file(undefined, 5 + Math.floor(r() * 40)), mtimeMs: 0 }];
  for (let a = Math.floor(r() * 3); a > 0; a--) {
    const id = `a${Math.floor(r() * 5)}`;
    const p = chance(r, 0.7) ? `claude/${sid}/subagents/agent-${id}.jsonl` : `claude/agent-${id}.jsonl`;
    if (!files.some((f) => f.path === p)) files.push({ path: p, data: file(id, Math.floor(r() * 20)), mtimeMs: 0 });
  }
  if (chance(r, 0.3)) files.push({ path: `claude/${sid}/tool-results/toolu_1.txt`, data: Buffer.from('not a transcript\n'), mtimeMs: 0 });
  return files;
}

/** A Codex session: one rollout file, sometimes an archived second one and a file the parser ignores. */
export function codexSession(r: Rng, sid: string): NativeFile[] {
  const texts = ['make it', 'done', '', 'line one\nline two', '<environment_context>cwd</environment_context>'];
  const callIds = ['c1', 'c2', 'c3'];
  const patch = () => [
    '*** Begin Patch',
    pick(r, ['*** Add File: a.js', '*** Update File: /abs/b.js', '*** Delete File: gone.js', '*** Update File: c.js\n*** Move to: d.js']),
    '+added',
    ...(chance(r, 0.4) ? ['*** Add File: e.js', '+e'] : []),
    '*** End Patch',
  ].join('\n');
  const file = (n: number): Buffer => {
    const lines: string[] = [];
    const l = (type: string, payload: unknown) => lines.push(JSON.stringify({ ...(chance(r, 0.9) ? { timestamp: ts(r) } : {}), type, payload }));
    if (chance(r, 0.8)) l('session_meta', { id: sid, ...(chance(r, 0.8) ? { cwd: pick(r, ['/repo', '/other']) } : {}), ...(chance(r, 0.8) ? { timestamp: ts(r) } : {}), cli_version: '0.60.1', ...(chance(r, 0.5) ? { git: { branch: pick(r, ['dev', 'main']) } } : {}) });
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.08) l('turn_context', chance(r, 0.8) ? { cwd: pick(r, ['/repo', '/repo/sub', '/other']) } : {});
      else if (k < 0.25) l('response_item', { type: 'message', role: pick(r, ['user', 'user', 'assistant', 'developer', undefined]), content: [{ type: 'input_text', text: pick(r, texts) }] });
      else if (k < 0.42) l('event_msg', { type: pick(r, ['user_message', 'agent_message']), message: pick(r, texts) });
      else if (k < 0.5) l('event_msg', { type: 'agent_reasoning', text: pick(r, ['think', 'ponder', '']) });
      else if (k < 0.56) l('response_item', { type: 'reasoning', summary: [{ type: 'summary_text', text: pick(r, ['think', 'ponder', '']) }] });
      else if (k < 0.68) {
        const id = chance(r, 0.9) ? { call_id: pick(r, callIds) } : {};
        const kind = r();
        if (kind < 0.5) l('response_item', { type: 'custom_tool_call', ...id, name: 'apply_patch', input: patch() });
        else if (kind < 0.7) l('response_item', { type: 'function_call', ...id, name: 'apply_patch', arguments: JSON.stringify({ input: patch() }) });
        else if (kind < 0.85) l('response_item', { type: 'function_call', ...id, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', `apply_patch <<'EOF'\n${patch()}\nEOF`] }) });
        else l('response_item', { type: 'function_call', ...id, name: 'shell', arguments: JSON.stringify({ command: ['ls'] }) });
      } else if (k < 0.8) {
        const id = chance(r, 0.9) ? { call_id: pick(r, callIds) } : {};
        const output = pick(r, ['{"output":"Success.","metadata":{"exit_code":0}}', '{"output":"x","metadata":{"exit_code":1}}', 'Success. Updated files', 'apply_patch verification failed']);
        l('response_item', { type: pick(r, ['custom_tool_call_output', 'function_call_output']), ...id, output });
      } else if (k < 0.86) l('event_msg', { type: pick(r, ['token_count', 'task_started']) });
      else if (k < 0.9) l('response_item', { type: pick(r, ['ghost_snapshot', 'web_search_call', 'brand_new_item']) });
      else if (k < 0.93) l(pick(r, ['compacted', 'mystery']), {});
      else if (k < 0.95) lines.push(JSON.stringify({ type: 'response_item' }));
      else lines.push(pick(r, JUNK));
    }
    return text(lines, chance(r, 0.7));
  };
  const name = `rollout-2025-11-22T21-45-35-${sid}.jsonl`;
  const files: NativeFile[] = [{ path: `codex/sessions/2025/11/22/${name}`, data: file(5 + Math.floor(r() * 50)), mtimeMs: 0 }];
  if (chance(r, 0.25)) files.push({ path: `codex/archived_sessions/${name}`, data: file(Math.floor(r() * 20)), mtimeMs: 0 });
  if (chance(r, 0.2)) files.push({ path: 'codex/sessions/2025/11/22/notes.txt', data: Buffer.from('not a rollout\n'), mtimeMs: 0 });
  return files;
}
