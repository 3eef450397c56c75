import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { rng } from '../test/helpers/rng.js';

export { rng };


const WORDS = 'the a function value return const let if else for while state board piece move render update check test error file line code branch commit merge push fetch sync key cipher nonce session prompt reason edit because should would'.split(' ');
function words(r: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]!);
  return out.join(' ');
}
function codeLines(r: () => number, n: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`  const ${tag}_${i} = ${words(r, 3).replace(/ /g, '_')}(${Math.floor(r() * 1000)}); // ${words(r, 4)}`);
  return out;
}
export function uuidFrom(r: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Claude Code transcript of about `target` bytes, editing files under `cwd`. */
export function claudeSession(r: () => number, id: string, cwd: string, target: number, files: string[]): string {
  const lines: string[] = [];
  let size = 0;
  let t = Date.UTC(2026, 0, 1) + Math.floor(r() * 1e9);
  let parent: string | null = null;
  const env = (o: Record<string, unknown>) => {
    const uuid = crypto.randomUUID();
    t += 1000 + Math.floor(r() * 5000);
    const line = JSON.stringify({ parentUuid: parent, isSidechain: false, userType: 'external', cwd, sessionId: id, version: '2.1.15', gitBranch: 'main', uuid, timestamp: new Date(t).toISOString(), ...o });
    parent = uuid;
    lines.push(line);
    size += line.length + 1;
  };
  let k = 0;
  while (size < target) {
    env({ type: 'user', message: { role: 'user', content: `Please ${words(r, 20)}` } });
    const mid = `msg_${crypto.randomBytes(8).toString('hex')}`;
    env({ type: 'assistant', message: { id: mid, role: 'assistant', model: 'claude', content: [{ type: 'thinking', thinking: words(r, 60), signature: crypto.randomBytes(32).toString('base64') }] } });
    env({ type: 'assistant', message: { id: mid, role: 'assistant', model: 'claude', content: [{ type: 'text', text: words(r, 40) }] } });
    const toolId = `toolu_${crypto.randomBytes(8).toString('hex')}`;
    const file = `${cwd}/${files[Math.floor(r() * files.length)]}`;
    const added = codeLines(r, 3 + Math.floor(r() * 12), `v${k++}`);
    const old = '  // placeholder';
    env({ type: 'assistant', message: { id: mid, role: 'assistant', content: [{ type: 'tool_use', id: toolId, name: 'Edit', input: { file_path: file, old_string: old, new_string: added.join('\n') } }] } });
    env({
      type: 'user',
      message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: `The file ${file} has been updated.` }] },
      toolUseResult: { filePath: file, oldString: old, newString: added.join('\n'), structuredPatch: [{ oldStart: 10, oldLines: 1, newStart: 10, newLines: added.length, lines: [`-${old}`, ...added.map((a) => `+${a}`)] }] },
    });
    const bash = `toolu_${crypto.randomBytes(8).toString('hex')}`;
    env({ type: 'assistant', message: { id: `msg_${crypto.randomBytes(8).toString('hex')}`, role: 'assistant', content: [{ type: 'tool_use', id: bash, name: 'Bash', input: { command: 'npm test' } }] } });
    env({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: bash, content: words(r, 150) }] } });
  }
  return lines.join('\n') + '\n';
}

/** A Codex rollout of about `target` bytes. */
export function codexSession(r: () => number, id: string, cwd: string, target: number, files: string[]): string {
  const lines: string[] = [];
  let size = 0;
  let t = Date.UTC(2026, 0, 1) + Math.floor(r() * 1e9);
  const put = (type: string, payload: Record<string, unknown>) => {
    t += 500 + Math.floor(r() * 3000);
    const line = JSON.stringify({ timestamp: new Date(t).toISOString(), type, payload });
    lines.push(line);
    size += line.length + 1;
  };
  put('session_meta', { id, timestamp: new Date(t).toISOString(), cwd, originator: 'codex_cli_rs', cli_version: '0.60.1', instructions: null, source: 'cli', model_provider: 'openai' });
  let k = 0;
  while (size < target) {
    put('turn_context', { cwd, approval_policy: 'on-request', model: 'gpt-5.1-codex', effort: 'high', summary: 'auto' });
    const prompt = `Please ${words(r, 25)}`;
    put('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] });
    put('event_msg', { type: 'user_message', message: prompt, images: [] });
    const summary = words(r, 30);
    put('response_item', { type: 'reasoning', summary: [{ type: 'summary_text', text: summary }], content: null, encrypted_content: crypto.randomBytes(300).toString('base64') });
    put('event_msg', { type: 'agent_reasoning', text: summary });
    const call = `call_${crypto.randomBytes(8).toString('hex')}`;
    const file = files[Math.floor(r() * files.length)]!;
    const added = codeLines(r, 3 + Math.floor(r() * 12), `c${k++}`);
    put('response_item', { type: 'custom_tool_call', status: 'completed', call_id: call, name: 'apply_patch', input: `*** Begin Patch\n*** Update File: ${file}\n@@\n-  // placeholder\n${added.map((a) => `+${a}`).join('\n')}\n*** End Patch` });
    put('response_item', { type: 'custom_tool_call_output', call_id: call, output: JSON.stringify({ output: `Success. Updated the following files:\nM ${file}\n`, metadata: { exit_code: 0, duration_seconds: 0 } }) });
    const sh = `call_${crypto.randomBytes(8).toString('hex')}`;
    put('response_item', { type: 'function_call', name: 'shell_command', arguments: JSON.stringify({ command: 'npm test', workdir: cwd }), call_id: sh });
    put('response_item', { type: 'function_call_output', call_id: sh, output: words(r, 150) });
    put('event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: Math.floor(r() * 1e5) } } });
    const reply = words(r, 40);
    put('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: reply }] });
    put('event_msg', { type: 'agent_message', message: reply });
  }
  return lines.join('\n') + '\n';
}

export interface Corpus {
  count: number;
  bytes: number;
  ids: string[];
}

/**
 * Writes `count` sessions (half Claude Code, half Codex) with sizes log-uniform between 5 KB and
 * 2 MB at their native locations, all in repository `cwd`.
 */
export function generateCorpus(opts: { claudeDir: string; codexHome: string; cwd: string; count: number; seed?: number; minBytes?: number; maxBytes?: number; files?: string[] }): Corpus {
  const r = rng(opts.seed ?? 42);
  const min = opts.minBytes ?? 5_000;
  const max = opts.maxBytes ?? 2_000_000;
  const files = opts.files ?? Array.from({ length: 40 }, (_, i) => `src/module${i}/file${i}.ts`);
  const proj = path.join(opts.claudeDir, 'projects', opts.cwd.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(proj, { recursive: true });
  let bytes = 0;
  const ids: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const target = Math.floor(min * Math.pow(max / min, r()));
    if (i % 2 === 0) {
      const id = uuidFrom(r);
      const text = claudeSession(r, id, opts.cwd, target, files);
      fs.writeFileSync(path.join(proj, `${id}.jsonl`), text);
      bytes += text.length;
      ids.push(id);
    } else {
      const id = `019a${uuidFrom(r).slice(4)}`;
      const day = String(1 + (i % 28)).padStart(2, '0');
      const dir = path.join(opts.codexHome, 'sessions', '2026', '01', day);
      fs.mkdirSync(dir, { recursive: true });
      const text = codexSession(r, id, opts.cwd, target, files);
      fs.writeFileSync(path.join(dir, `rollout-2026-01-${day}T10-00-00-${id}.jsonl`), text);
      bytes += text.length;
      ids.push(id);
    }
  }
  return { count: opts.count, bytes, ids };
}
