import {
  addedLines, clip, earlier, later, splitLines, titleLine,
  type FileEdit, type NormalizedMessage, type SessionSummary,
} from './types.js';

/**
 * Reading one Cline task (docs/agents/cline.md). `api_conversation_history.json` is the
 * conversation as sent to the model (Anthropic MessageParam array plus `ts`); `ui_messages.json`
 * is what the panel showed (`{ts, type: say|ask, say|ask, text}`), used for messages only when the
 * conversation file is absent. Edits come from `write_to_file` and `replace_in_file` calls, as XML
 * in the assistant's text (Cline's default) or as `tool_use` blocks (native tool calling), and
 * count once their result says the file was saved.
 */

const TEXT_MAX = 64 * 1024;
const TOOL_TEXT_MAX = 2000;
/** Messages read from one document (the rest is kept in the bundle). */
const MESSAGES_MAX = 100_000;
const EDIT_TOOLS = new Set(['write_to_file', 'replace_in_file']);

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const slashes = (p: string): string => (p.includes('\\') ? p.replace(/\\/g, '/') : p);
const iso = (ts: unknown): string | undefined => (typeof ts === 'number' && Number.isFinite(ts) && ts > 0 && ts < 8.64e15 ? new Date(ts).toISOString() : undefined);

export interface ClineTask {
  messages: NormalizedMessage[];
  /** Edits whose result says the file was saved. */
  done: FileEdit[];
  /** Edits with no result yet (the task was still running, or stopped before answering). */
  pending: FileEdit[];
  summary: SessionSummary;
}

/**
 * The added lines of a `replace_in_file` diff: per SEARCH/REPLACE block, the REPLACE lines not
 * accounted for by its SEARCH lines. Markers as Cline's own parser accepts them
 * (cline src/core/assistant-message/diff.ts: `------- SEARCH` / `=======` / `+++++++ REPLACE`,
 * and the legacy `<<<<<<< SEARCH` / `>>>>>>> REPLACE`, three or more characters).
 */
export function replaceInFileAdded(diff: string): string[] {
  const out: string[] = [];
  let mode: 'none' | 'search' | 'replace' = 'none';
  let search: string[] = [];
  let replace: string[] = [];
  for (const line of splitLines(diff)) {
    if (/^([-]{3,}|[<]{3,}) SEARCH>?$/.test(line)) {
      mode = 'search';
      search = [];
      replace = [];
    } else if (mode === 'search' && /^[=]{3,}$/.test(line)) {
      mode = 'replace';
    } else if (mode === 'replace' && /^([+]{3,}|[>]{3,}) REPLACE>?$/.test(line)) {
      out.push(...addedLines(search.join('\n'), replace.join('\n')));
      mode = 'none';
    } else if (mode === 'search') search.push(line);
    else if (mode === 'replace') replace.push(line);
  }
  return out;
}

/** A tool parameter's value as Cline reads it: one leading and one trailing newline dropped. */
function param(body: string, name: string): string | undefined {
  const open = `<${name}>`;
  const at = body.indexOf(open);
  if (at < 0) return undefined;
  const end = body.lastIndexOf(`</${name}>`);
  if (end < at) return undefined;
  return body.slice(at + open.length, end).replace(/^\r?\n/, '').replace(/\r?\n$/, '');
}

/** The XML tool calls of an assistant text: `<write_to_file>...</write_to_file>`, `<replace_in_file>...</replace_in_file>`. */
function xmlCalls(text: string): Array<{ name: string; input: Json }> {
  const out: Array<{ name: string; input: Json }> = [];
  const re = /<(write_to_file|replace_in_file)>([\s\S]*?)<\/\1>/g;
  for (let m = re.exec(text); m && out.length < 1000; m = re.exec(text)) {
    const body = m[2]!;
    const input: Json = {};
    for (const k of ['path', 'absolutePath', 'content', 'diff']) {
      const v = param(body, k);
      if (v !== undefined) input[k] = k === 'path' || k === 'absolutePath' ? v.trim() : v;
    }
    out.push({ name: m[1]!, input });
  }
  return out;
}

function editOf(name: string, input: Json): Omit<FileEdit, 'seq' | 'ts'> | null {
  const file = str(input.absolutePath) ?? str(input.path);
  if (!file || !EDIT_TOOLS.has(name)) return null;
  if (name === 'write_to_file') return { path: slashes(file), op: 'write', toolName: name, added: splitLines(str(input.content) ?? '') };
  return { path: slashes(file), op: 'edit', toolName: name, added: replaceInFileAdded(str(input.diff) ?? '') };
}

/** True when a tool result says the file was not written (cline src/core/prompts/responses.ts: toolDenied, toolError). */
function failed(result: string): boolean {
  return /The user denied this operation|The tool execution failed|<error>/.test(result);
}

/** `# Current Working Directory (<path>) Files` of the first `<environment_details>`. */
function cwdIn(text: string): string | undefined {
  const m = /# Current Working Directory \(([^\n]+?)\) Files/.exec(text);
  return m ? slashes(m[1]!) : undefined;
}

function blockTexts(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => str(obj(b)?.text) ?? '').filter(Boolean).join('\n');
}

/** Parses a task's documents (either may be null: absent). Never throws; a document that is not a JSON array counts as one malformed line. */
export function parseClineTask(api: string | null, ui: string | null, withText: boolean): ClineTask {
  const messages: NormalizedMessage[] = [];
  const done: FileEdit[] = [];
  const pendingById = new Map<string, FileEdit>();
  const pendingXml: FileEdit[] = [];
  let malformed = 0;
  let unknown = 0;
  let n = 0;
  let turns = 0;
  let cwd: string | undefined;
  let title: string | undefined;
  let startedAt: string | undefined;
  let updatedAt: string | undefined;

  const doc = (text: string | null): unknown[] | null => {
    if (text === null) return null;
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v)) return v.slice(0, MESSAGES_MAX);
    } catch {
      /* counted below */
    }
    malformed += 1;
    return null;
  };
  const emit = (role: NormalizedMessage['role'], kind: NormalizedMessage['kind'], text: string, nativeId: string, ts: string | undefined, toolName?: string): number => {
    const seq = n++;
    if (withText) messages.push({ seq, turn: Math.max(0, turns - 1), role, kind, text: clip(text, kind === 'text' ? TEXT_MAX : TOOL_TEXT_MAX), nativeId, ...(ts ? { ts } : {}), ...(toolName ? { toolName } : {}) });
    return seq;
  };
  const stamp = (ts: string | undefined) => {
    startedAt = earlier(startedAt, ts);
    updatedAt = later(updatedAt, ts);
  };
  const call = (name: string, input: Json, nativeId: string, ts: string | undefined): FileEdit | null => {
    const seq = emit('assistant', 'tool_call', JSON.stringify(input), nativeId, ts, name);
    const e = editOf(name, input);
    return e ? { ...e, seq, ...(ts ? { ts } : {}) } : null;
  };
  /** A result `[<tool> for '<path>'] Result:` of an XML call: settles the oldest pending call of that tool. */
  const xmlResult = (text: string) => {
    const m = /^\[(write_to_file|replace_in_file) for '([^\n]*?)'\] Result:/.exec(text);
    if (!m) return;
    const at = pendingXml.findIndex((e) => e.toolName === m[1]);
    if (at < 0) return;
    const [e] = pendingXml.splice(at, 1);
    if (!failed(text)) done.push(e!);
  };

  const apiMsgs = doc(api);
  const uiMsgs = doc(ui);
  if (apiMsgs) {
    apiMsgs.forEach((raw, i) => {
      const m = obj(raw);
      const role = str(m?.role);
      if (!m || (role !== 'user' && role !== 'assistant')) {
        unknown += 1;
        return;
      }
      const ts = iso(m.ts);
      stamp(ts);
      turns += 1;
      const id = str(m.id) ?? String(i);
      const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content.slice(0, 10_000) : [];
      for (const b0 of blocks) {
        const b = obj(b0);
        if (!b) continue;
        const type = str(b.type);
        if (role === 'user') {
          if (type === 'text') {
            const text = str(b.text) ?? '';
            cwd ??= cwdIn(text);
            if (text.startsWith('[')) {
              xmlResult(text);
              emit('tool', 'tool_result', text, id, ts);
            } else {
              const task = /<task>\n?([\s\S]*?)\n?<\/task>/.exec(text)?.[1] ?? /<user_message>\n?([\s\S]*?)\n?<\/user_message>/.exec(text)?.[1];
              if (title === undefined && task?.trim()) title = titleLine(task);
              emit('user', 'text', text, id, ts);
            }
          } else if (type === 'tool_result') {
            const text = blockTexts(b.content);
            emit('tool', 'tool_result', text, id, ts);
            const key = str(b.tool_use_id);
            const e = key ? pendingById.get(key) : undefined;
            if (e) {
              pendingById.delete(key!);
              if (b.is_error !== true && !failed(text)) done.push(e);
            }
          } else if (type !== 'image') unknown += 1;
        } else if (type === 'text') {
          const text = str(b.text) ?? '';
          if (text) emit('assistant', 'text', text, id, ts);
          for (const c of xmlCalls(text)) {
            const e = call(c.name, c.input, id, ts);
            if (e) pendingXml.push(e);
          }
        } else if (type === 'thinking' || type === 'reasoning') {
          emit('assistant', 'thinking', str(b.thinking) ?? str(b.text) ?? '', id, ts);
        } else if (type === 'tool_use') {
          const e = call(str(b.name) ?? '', obj(b.input) ?? {}, str(b.id) ?? id, ts);
          const key = str(b.id);
          if (e && key) pendingById.set(key, e);
        } else if (type !== 'redacted_thinking') unknown += 1;
      }
    });
  }
  if (uiMsgs) {
    let first = true;
    uiMsgs.forEach((raw) => {
      const m = obj(raw);
      const kind = str(m?.say) ?? str(m?.ask);
      if (!m || !kind) {
        unknown += 1;
        return;
      }
      const ts = iso(m.ts);
      stamp(ts);
      const text = str(m.text) ?? '';
      if (kind === 'api_req_started' && cwd === undefined) {
        try {
          cwd = cwdIn(str(obj(JSON.parse(text))?.request) ?? '');
        } catch {
          /* a request without JSON: no cwd from it */
        }
      }
      if (apiMsgs) return;
      // The panel's messages stand for the conversation only when its file is absent.
      const id = String(m.ts ?? '');
      if (kind === 'text' && first) {
        first = false;
        turns += 1;
        if (title === undefined && text.trim()) title = titleLine(text);
        emit('user', 'text', text, id, ts);
      } else if (kind === 'task' || kind === 'user_feedback') {
        turns += 1;
        if (title === undefined && text.trim()) title = titleLine(text);
        emit('user', 'text', text, id, ts);
      } else if (kind === 'text' || kind === 'completion_result' || kind === 'followup') {
        if (!text) return;
        turns += 1;
        emit('assistant', 'text', text, id, ts);
      } else if (kind === 'reasoning') {
        emit('assistant', 'thinking', text, id, ts);
      } else if (kind === 'tool' || kind === 'command') {
        const tool = kind === 'tool' ? (() => { try { return str(obj(JSON.parse(text))?.tool); } catch { return undefined; } })() : 'execute_command';
        emit('assistant', 'tool_call', text, id, ts, tool ?? kind);
      }
    });
  }
  const pending = [...pendingById.values(), ...pendingXml];
  return {
    messages,
    done,
    pending,
    summary: {
      tool: 'cline',
      ...(cwd ? { cwd } : {}),
      ...(startedAt ? { startedAt } : {}),
      ...(updatedAt ? { updatedAt } : {}),
      ...(title ? { title } : {}),
      messageCount: turns,
      subagentCount: 0,
      malformedLines: malformed,
      unknownLines: unknown,
    },
  };
}
