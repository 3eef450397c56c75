import { SOURCES, agentFolder } from '../src/sources/registry.js';
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

const COMMON = 'the of and to a in is it that for on with as this be are by not or from at we but if can will you an which should would so then when there its use all one new because also just only into more than each here now'.split(' ');
const SYLLABLES = 'ba co de fi gu ha je ki lo mu na pe qui ra se ti vo wa xe yo zu ar en il or un st tr pl ch sh th ing er ed ly tion ment able ous'.split(' ');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ID = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * An endless Claude Code transcript, one JSONL line at a time, that compresses about 4.4:1 with
 * zlib like real transcripts (4.3-4.6 depending on the seed; growth.bench.ts prints the ratio it
 * got). Prose is drawn from a Zipf-weighted vocabulary of made-up words and a pool of recurring
 * phrases; code from a pool of recurring lines; every line carries Claude Code's envelope (uuids,
 * parent uuid, timestamp) and ids, and thinking blocks carry a random base64 signature.
 * Lines are 0.3-15 KB (median ~1.2 KB): prompts, thinking, replies, Edit and Bash tool calls, Read
 * results of 20-200 numbered code lines, test output. Everything comes from the seeded PRNG.
 */
export class TranscriptGenerator {
  private readonly r: () => number;
  private readonly vocab: string[] = [];
  private readonly phrases: string[] = [];
  private readonly codePool: string[] = [];
  private readonly files: string[];
  private t = Date.UTC(2026, 0, 5, 9);
  private parent: string | null = null;

  constructor(seed: number, private readonly session: { id: string; cwd: string }) {
    const r = (this.r = rng(seed));
    for (let i = 0; i < 4000; i++) {
      let w = '';
      for (let j = 1 + Math.floor(r() * 3); j > 0; j--) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
      this.vocab.push(w);
    }
    for (let i = 0; i < 400; i++) this.phrases.push(Array.from({ length: 2 + Math.floor(r() * 4) }, () => this.word()).join(' '));
    for (let i = 0; i < 800; i++) this.codePool.push(this.codeLine());
    this.files = Array.from({ length: 60 }, (_, i) => `src/${this.word()}/${this.word()}${i}.ts`);
  }

  private pick<T>(xs: T[], skew = 1): T {
    return xs[Math.floor(xs.length * Math.pow(this.r(), skew))]!;
  }
  private word(): string {
    return this.r() < 0.45 ? this.pick(COMMON) : this.pick(this.vocab, 1.6);
  }
  private words(n: number): string {
    const out: string[] = [];
    for (let k = 0; k < n; ) {
      if (this.r() < 0.8) {
        out.push(this.pick(this.phrases, 3));
        k += 3;
      } else {
        out.push(this.word());
        k++;
      }
    }
    return out.join(' ');
  }
  private sentences(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.words(6 + Math.floor(this.r() * 14));
      out.push(`${s[0]!.toUpperCase()}${s.slice(1)}${this.r() < 0.1 ? '?' : '.'}`);
    }
    return out.join(' ');
  }
  private chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.r() * alphabet.length)];
    return s;
  }
  private uuid(): string {
    const h = this.chars('0123456789abcdef', 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
  }
  private ident(): string {
    const b = this.word();
    return `${this.word()}${b[0]!.toUpperCase()}${b.slice(1)}`;
  }
  private codeLine(): string {
    const x = this.r();
    if (x < 0.25) return `const ${this.ident()} = ${this.ident()}(${this.ident()}, ${Math.floor(this.r() * 1000)});`;
    if (x < 0.4) return `if (${this.ident()}.${this.word()} ${this.r() < 0.5 ? '===' : '!=='} ${this.ident()}) {`;
    if (x < 0.5) return '}';
    if (x < 0.65) return `return ${this.ident()}.${this.ident()}(${this.ident()});`;
    if (x < 0.8) return `// ${this.words(5 + Math.floor(this.r() * 8))}`;
    return `${this.ident()}.${this.word()} = '${this.words(3)}';`;
  }
  private code(n: number): string {
    const out: string[] = [];
    let indent = 2;
    for (let i = 0; i < n; i++) {
      const l = this.r() < 0.9 ? this.pick(this.codePool, 3) : this.codeLine();
      out.push(' '.repeat(indent) + l);
      if (l.endsWith('{')) indent += 2;
      else if (l === '}' && indent > 2) indent -= 2;
    }
    return out.join('\n');
  }
  private envelope(o: Record<string, unknown>): string {
    const uuid = this.uuid();
    this.t += 800 + Math.floor(this.r() * 9000);
    const line = JSON.stringify({ parentUuid: this.parent, isSidechain: false, userType: 'external', cwd: this.session.cwd, sessionId: this.session.id, version: '2.1.15', gitBranch: 'main', ...o, uuid, timestamp: new Date(this.t).toISOString() });
    this.parent = uuid;
    return line;
  }
  private assistant(content: unknown[], extra: Record<string, unknown> = {}): string {
    const usage = { input_tokens: Math.floor(this.r() * 10), cache_read_input_tokens: Math.floor(this.r() * 200000), output_tokens: Math.floor(this.r() * 2000) };
    return this.envelope({ type: 'assistant', message: { id: `msg_01${this.chars(ID, 22)}`, type: 'message', role: 'assistant', model: 'claude-opus-4-5-20251101', content, stop_reason: null, usage }, requestId: `req_011${this.chars(ID, 21)}`, ...extra });
  }

  private pendingResult: string | null = null;

  /** The next line of the transcript, without its newline. */
  next(): string {
    if (this.pendingResult) {
      const l = this.pendingResult;
      this.pendingResult = null;
      return l;
    }
    const r = this.r;
    const x = r();
    const file = `${this.session.cwd}/${this.pick(this.files)}`;
    if (x < 0.12) return this.envelope({ type: 'user', message: { role: 'user', content: this.sentences(1 + Math.floor(r() * 6)) } });
    if (x < 0.27) return this.assistant([{ type: 'thinking', thinking: this.sentences(2 + Math.floor(r() * 10)), signature: this.chars(B64, Math.floor(300 * (0.5 + r()))) }]);
    if (x < 0.42) return this.assistant([{ type: 'text', text: this.sentences(1 + Math.floor(r() * 8)) }]);
    const tool = `toolu_01${this.chars(ID, 22)}`;
    if (x < 0.57) {
      // Claude Code records the result of every tool call in the next user line.
      this.pendingResult = this.envelope({ type: 'user', message: { role: 'user', content: [{ tool_use_id: tool, type: 'tool_result', content: `The file ${file} has been updated.` }] }, toolUseResult: { filePath: file } });
      return this.assistant([{ type: 'tool_use', id: tool, name: 'Edit', input: { file_path: file, old_string: this.code(1 + Math.floor(r() * 6)), new_string: this.code(2 + Math.floor(r() * 25)) } }]);
    }
    if (x < 0.72) {
      const n = 20 + Math.floor(r() * 180);
      const start = 1 + Math.floor(r() * 300);
      const body = this.code(n).split('\n').map((l, i) => `${String(start + i).padStart(6)}\u2192${l}`).join('\n');
      return this.envelope({ type: 'user', message: { role: 'user', content: [{ tool_use_id: tool, type: 'tool_result', content: body }] }, toolUseResult: { type: 'text', file: { filePath: file, numLines: n, startLine: start, totalLines: start + n + Math.floor(r() * 200) } } });
    }
    if (x < 0.85) return this.assistant([{ type: 'tool_use', id: tool, name: 'Bash', input: { command: `npm test -- ${this.word()}`, description: this.words(5) } }]);
    const out = Array.from({ length: 3 + Math.floor(r() * 40) }, () => (r() < 0.5 ? `  \u2714 ${this.words(4 + Math.floor(r() * 6))} (${Math.floor(r() * 900)}ms)` : this.sentences(1))).join('\n');
    return this.envelope({ type: 'user', message: { role: 'user', content: [{ tool_use_id: tool, type: 'tool_result', content: out, is_error: false }] }, toolUseResult: { stdout: out, stderr: '', interrupted: false, isImage: false } });
  }

  /** A reply of the assistant (the kind of line one appends to a live session: ~0.3-2 KB). */
  reply(): string {
    return this.assistant([{ type: 'text', text: this.sentences(2 + Math.floor(this.r() * 6)) }]);
  }

  private held: string | null = null;

  /**
   * Whole lines, each ending in a newline, as close to `bytes` UTF-8 bytes in all as whole lines
   * allow (at least one line); a line that would overshoot more than it falls short is kept for
   * the next chunk.
   */
  chunk(bytes: number): string {
    const out: string[] = [];
    let size = 0;
    for (;;) {
      const l = this.held ?? `${this.next()}\n`;
      this.held = null;
      const n = Buffer.byteLength(l);
      if (out.length && size + n > bytes && size + n - bytes > bytes - size) {
        this.held = l;
        break;
      }
      out.push(l);
      size += n;
      if (size >= bytes) break;
    }
    return out.join('');
  }
}

/**
 * Plants `perAgent` small sessions of every registered agent whose source can plant one (its demo
 * session: a prompt, a whole-file write, a reply) at its native location under the environment's
 * agent folders, all in repository `cwd`; each writes a different file. Sets each planted agent's
 * folder variable in `env.vars` to the folder it planted in. Returns how many.
 */
export function plantEveryAgent(env: { cwd: string; vars: Record<string, string | undefined> }, cwd: string, perAgent: number): { count: number; tools: string[] } {
  const tools: string[] = [];
  let count = 0;
  const start = Date.UTC(2026, 0, 10);
  for (const def of SOURCES) {
    if (!def.plantDemo) continue;
    tools.push(def.tool);
    // The agent's variable names where it planted (its default), for the capture that follows: an
    // agent whose files live in the work tree (Aider) reads them there when the variable is unset.
    env.vars[def.folder.env] = agentFolder(def, env);
    for (let i = 0; i < perAgent; i++) {
      const at = (s: number) => new Date(start + (count * 60 + s) * 1000).toISOString();
      def.plantDemo(agentFolder(def, env), cwd, path.join(cwd, `src/${def.prefix}/file${i}.js`), `export const v${i} = ${i};\nexport const w${i} = ${i * 2};\n`, at);
      count += 1;
    }
  }
  return { count, tools };
}
