import fs from 'node:fs';
import path from 'node:path';
import type { NativeFile } from '../store/bundle.js';
import { walk, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import type { SourceDefinition } from './types.js';
import { parseClineTask } from './cline-parse.js';
import {
  ROOT_DEPTH, badState, RestoreRefused,
  type DiscoveredFile, type FileEdit, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type SessionSummary, type Source,
} from './types.js';

/**
 * Cline (docs/agents/cline.md): `<storage>/tasks/<taskId>/api_conversation_history.json` and
 * `ui_messages.json` (JSON documents Cline rewrites whole), with `task_metadata.json`,
 * `context_history.json` and `settings.json` beside them; `<storage>/state/taskHistory.json` (one
 * index for every task, not bundled) names each task's working folder.
 *
 * `<storage>` is `$CLINE_STORAGE_DIR` when set, else the VS Code extension's globalStorage folder
 * (`saoudrizwan.claude-dev`) under VS Code's user-data folder (`~/.config/Code` on Linux,
 * `~/Library/Application Support/Code` on macOS). One folder, as for every source: the hook shims
 * watch exactly the folders capture reads, one per source. Other places (VS Code Server, VSCodium,
 * Cursor, the CLI's `~/.cline/data`) are read by pointing the variable at them.
 * Roo Code (a fork writing the same files under `rooveterinaryinc.roo-cline`) is not read: its
 * edit tools differ (`apply_diff`).
 */

/** Cline's task id: `Date.now()` when the task was created (cline apps/vscode/src/core/task). */
const TASK_ID = /^\d{10,20}$/;
/** The files of a task folder that the bundle keeps (cline apps/vscode/src/core/storage/disk.ts GlobalFileNames). */
const KEPT = new Set(['api_conversation_history.json', 'ui_messages.json', 'task_metadata.json', 'context_history.json', 'settings.json']);
const TRANSCRIPTS = new Set(['api_conversation_history.json', 'ui_messages.json']);
const EXTENSION_ID = 'saoudrizwan.claude-dev';
/** `state/taskHistory.json` larger than this is not read (its cwd hints are then missing). */
const HISTORY_MAX = 32 * 1024 * 1024;

/** VS Code's globalStorage folder of the Cline extension, under HOME, on this platform (VS Code's user-data folder: ~/.config/Code on Linux, ~/Library/Application Support/Code on macOS). */
export function clineStorageUnderHome(platform: NodeJS.Platform): string {
  const userData = platform === 'darwin' ? 'Library/Application Support/Code' : '.config/Code';
  return `${userData}/User/globalStorage/${EXTENSION_ID}`;
}

/** Cline in the registry: bundle prefix `cline`, folder `$CLINE_STORAGE_DIR` (default: VS Code's globalStorage, by platform). */
export const cline: SourceDefinition = {
  tool: 'cline',
  label: 'Cline',
  prefix: 'cline',
  folder: { env: 'CLINE_STORAGE_DIR', underHome: clineStorageUnderHome(process.platform) },
  isTranscript: (p) => TRANSCRIPTS.has(p.slice(p.lastIndexOf('/') + 1)),
  create: (dir, report) => new ClineSource([dir], report),
  /** A task in Cline's XML tool format (test/fixtures/cline/SOURCES.md), under the storage folder `dir`. */
  plantDemo(dir, cwd, file, content, at) {
    const sessionId = String(Date.parse(at(0)));
    const folder = path.join(dir, 'tasks', sessionId);
    fs.mkdirSync(folder, { recursive: true });
    const ts = (s: number) => Date.parse(at(s));
    const rel = path.relative(cwd, file);
    const prompt = 'Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.';
    const env = `<environment_details>\n# Current Working Directory (${cwd}) Files\nREADME.md\n\n# Current Mode\nACT MODE\n</environment_details>`;
    const api = [
      { role: 'user', content: [{ type: 'text', text: `<task>\n${prompt}\n</task>` }, { type: 'text', text: env }], ts: ts(1) },
      { role: 'assistant', content: [{ type: 'text', text: `I'll write ${rel} with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.\n\n<write_to_file>\n<path>${rel}</path>\n<content>\n${content}</content>\n</write_to_file>` }], ts: ts(5) },
      { role: 'user', content: [{ type: 'text', text: `[write_to_file for '${rel}'] Result:\nThe content was successfully saved to ${rel}.` }], ts: ts(7) },
      { role: 'assistant', content: [{ type: 'text', text: `<attempt_completion>\n<result>\nDone: ${rel} exports median().\n</result>\n</attempt_completion>` }], ts: ts(9) },
    ];
    const ui = [
      { ts: ts(0), type: 'say', say: 'text', text: prompt },
      { ts: ts(5), type: 'ask', ask: 'tool', text: JSON.stringify({ tool: 'newFileCreated', path: rel, content }) },
      { ts: ts(9), type: 'say', say: 'completion_result', text: `Done: ${rel} exports median().` },
    ];
    fs.writeFileSync(path.join(folder, 'api_conversation_history.json'), JSON.stringify(api));
    fs.writeFileSync(path.join(folder, 'ui_messages.json'), JSON.stringify(ui));
    return { sessionId, dir: folder };
  },
};

export class ClineSource implements Source {
  readonly tool = 'cline' as const;
  readonly roots: readonly string[];
  /** `storages[i]/tasks` is `roots[i]` (the registry gives one); restore writes under the first one that exists. */
  constructor(private readonly storages: readonly string[], private readonly report: Reporter) {
    this.roots = storages.map((s) => path.join(s, 'tasks'));
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    // A task id in two storage folders (a copied folder): the first folder's files make the session.
    const seen = new Set<string>();
    this.roots.forEach((root, i) => {
      const files = walk(root, ROOT_DEPTH, this.report, (rel, isDir) => {
        const parts = rel.split('/');
        if (isDir) return parts.length === 1 && TASK_ID.test(parts[0]!);
        return parts.length === 2 && KEPT.has(parts[1]!);
      }, listing);
      let cwds: Map<string, string> | null = null;
      for (const f of files) {
        const [id, name] = f.rel.split('/');
        if (!id || !name || !TASK_ID.test(id) || !KEPT.has(name) || f.rel.split('/').length !== 2) continue;
        if (seen.has(f.rel)) continue;
        seen.add(f.rel);
        cwds ??= this.taskCwds(this.storages[i]!);
        const cwd = cwds.get(id);
        out.push({ tool: this.tool, absPath: f.abs, bundlePath: `cline/tasks/${f.rel}`, size: f.size, mtimeMs: f.mtimeMs, sessionId: id, ...(cwd ? { cwd } : {}) });
      }
    });
    return out;
  }

  /** Task id -> `cwdOnTaskInitialization` from `state/taskHistory.json` (empty when absent, too large or not an array). */
  private taskCwds(storage: string): Map<string, string> {
    const out = new Map<string, string>();
    const file = path.join(storage, 'state', 'taskHistory.json');
    try {
      if (fs.statSync(file).size > HISTORY_MAX) return out;
      const items: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!Array.isArray(items)) return out;
      for (const it of items.slice(0, 100_000)) {
        const o = it as { id?: unknown; cwdOnTaskInitialization?: unknown };
        if (typeof o?.id === 'string' && typeof o.cwdOnTaskInitialization === 'string' && o.cwdOnTaskInitialization) {
          out.set(o.id, o.cwdOnTaskInitialization.replace(/\\/g, '/'));
        }
      }
    } catch {
      // No index (or a damaged one): the cwd comes from the first request's <environment_details>.
    }
    return out;
  }

  sessionIdOf(file: DiscoveredFile): string | null {
    return file.sessionId;
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const p = new ClineParser(opts.text !== false);
    for (const f of files) p.feed(f.path, f.data);
    return { id: sessionId, ...p.summary(), messages: p.messages(), edits: [...p.takeEdits(), ...p.pendingEdits()].sort((a, b) => a.seq - b.seq) };
  }

  /**
   * Cline rewrites its JSON documents whole, so a task is always parsed from its whole files:
   * a saved state is refused, and capture then parses the session again from the start.
   */
  /** Every file of a task is a JSON document Cline rewrites whole. */
  wholeDocument(bundlePath: string): boolean {
    return bundlePath.endsWith('.json');
  }

  parser(_sessionId: string, state?: ParserState | null): SessionParser {
    if (state !== null && state !== undefined) throw badState('cline');
    return new ClineParser(false);
  }

  /** `tasks/<id>/<kept file>` under the first storage folder that exists (else the primary one). */
  restoreTarget(bundlePath: string, sessionId: string, _localCwd: string): string {
    const rest = bundlePath.split('/').slice(1);
    if (!(rest.length === 3 && rest[0] === 'tasks' && rest[1] === sessionId && TASK_ID.test(sessionId) && KEPT.has(rest[2]!))) {
      throw new RestoreRefused(bundlePath, `Cline keeps tasks/${sessionId}/ with ${[...KEPT].join(', ')}`);
    }
    const storage = this.storages.find((s) => fs.existsSync(s)) ?? this.storages[0]!;
    return path.join(storage, ...rest);
  }

  /**
   * Cline's History view lists the tasks of `state/taskHistory.json` only (a task folder missing
   * there is invisible: cline/cline's conversation-recovery guide): a restored task is added to it,
   * once, with what its HistoryItem needs (id, ts, task, token and cost counters, the folder), the
   * other entries kept as they are. Written to a temporary file and renamed. An index that does
   * not read as an array, or one over HISTORY_MAX, is left alone and said so. A running Cline keeps
   * the list in memory and may write its own over it: the note says to reload VS Code's window.
   */
  afterRestore(sessionId: string, files: readonly string[], info: { localCwd: string; title: string | null; updatedAt: string | null }): string[] {
    const task = files.find((f) => path.basename(path.dirname(f)) === sessionId && path.basename(path.dirname(path.dirname(f))) === 'tasks');
    if (!task) return [];
    const file = path.join(path.dirname(path.dirname(path.dirname(task))), 'state', 'taskHistory.json');
    let items: unknown[] = [];
    let mode = 0o600;
    try {
      if (fs.existsSync(file)) {
        const st = fs.statSync(file);
        if (st.size > HISTORY_MAX) throw new Error(`over ${HISTORY_MAX} bytes`);
        mode = st.mode & 0o777;
        const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (!Array.isArray(parsed)) throw new Error('not a list');
        items = parsed;
      }
    } catch (err) {
      return [`Cline's task index ${file} was left as it is (${(err as Error).message}): Cline's History will not list task ${sessionId} until it is added there`];
    }
    if (items.some((it) => (it as { id?: unknown } | null)?.id === sessionId)) return [];
    const ts = Date.parse(info.updatedAt ?? '') || Number(sessionId);
    items.push({ id: sessionId, ts, task: info.title ?? '', tokensIn: 0, tokensOut: 0, cacheWrites: 0, cacheReads: 0, totalCost: 0, cwdOnTaskInitialization: info.localCwd });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.lore-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(items), { mode });
    fs.renameSync(tmp, file);
    return [`listed task ${sessionId} in Cline's History (${file}); if VS Code is open, reload its window first (Cline keeps that list in memory)`];
  }

  /** The VS Code extension resumes a task from its History view; the folder opens in VS Code. */
  resumeCommand(_sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['code', localCwd] };
  }
}

/**
 * Gathers a task's JSON documents and reads them once complete (when asked for edits or a
 * summary): a piece of a JSON document cannot be read on its own.
 */
class ClineParser implements SessionParser {
  private readonly files = new Map<string, Buffer[]>();
  private result: ReturnType<typeof parseClineTask> | null = null;
  /** How many of the completed edits takeEdits has returned. */
  private taken = 0;

  constructor(private readonly text: boolean) {}

  feed(p: string, data: Buffer): void {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (!TRANSCRIPTS.has(name)) return;
    const parts = this.files.get(name) ?? [];
    parts.push(data);
    this.files.set(name, parts);
    this.result = null;
  }

  private read(): ReturnType<typeof parseClineTask> {
    const doc = (name: string) => {
      const parts = this.files.get(name);
      return parts ? Buffer.concat(parts).toString('utf8') : null;
    };
    this.result ??= parseClineTask(doc('api_conversation_history.json'), doc('ui_messages.json'), this.text);
    return this.result;
  }

  messages(): NormalizedMessage[] {
    return this.read().messages;
  }

  takeEdits(): FileEdit[] {
    const done = this.read().done;
    const out = done.slice(this.taken);
    this.taken = done.length;
    return out;
  }

  pendingEdits(): FileEdit[] {
    return this.read().pending;
  }

  summary(): SessionSummary {
    return this.read().summary;
  }

  save(): ParserState {
    return { v: 1, whole: true };
  }
}
