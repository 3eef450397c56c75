import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { NativeFile } from '../store/bundle.js';
import { readHead, type Reporter } from './discover.js';
import type { Listing } from './listing.js';
import type { SourceDefinition } from './types.js';
import { AiderParser } from './aider-parse.js';
import {
  RestoreRefused,
  type DiscoveredFile, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type SessionParser, type Source,
} from './types.js';

/**
 * Aider (docs/agents/aider.md). Its history lives in the repository's working tree, not under
 * HOME: `<work tree>/.aider.chat.history.md` (the conversation, appended by every run) and
 * `.aider.input.history` (what was typed), at the root of the git work tree aider ran in
 * (aider/args.py `default_chat_history_file`). `AIDER_CHAT_HISTORY_FILE` and
 * `AIDER_INPUT_HISTORY_FILE` move them (relative names are relative to the current folder, as
 * aider reads them).
 *
 * Capture looks in the work tree of the folder it runs in (the nearest folder up from it that
 * holds `.git`, as aider finds its git root), or at the files those variables name. One history
 * file is one session: its id is the first 128 bits of SHA-256 over `aider\0` and the file's
 * first `# aider chat started at` line, in the 8-4-4-4-12 hex form of a UUID (commands take ids
 * as hex), which never changes once written and is the same
 * on every machine. The bundle holds both files whole, so it is lossless.
 */

const CHAT = '.aider.chat.history.md';
const INPUT = '.aider.input.history';
const BUNDLE_CHAT = `aider/${CHAT}`;
const BUNDLE_INPUT = `aider/${INPUT}`;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The nearest folder at or above `dir` holding `.git` (a folder, or a linked worktree's file); null if none. */
function workTreeOf(dir: string): string | null {
  for (let d = path.resolve(dir), i = 0; i < 256; i++) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    const up = path.dirname(d);
    if (up === d) return null;
    d = up;
  }
  return null;
}

/** The session id of a history file from its head: null until its first run's header is written. */
export function aiderSessionId(head: string): string | null {
  const m = /^# aider chat started at [^\n]*$/m.exec(head);
  if (!m) return null;
  const h = createHash('sha256').update(`aider\0${m[0].replace(/\r$/, '')}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Aider in the registry: bundle prefix `aider`; its files are found from the current folder (see above). */
export const aider: SourceDefinition = {
  tool: 'aider',
  label: 'Aider',
  prefix: 'aider',
  folder: { env: 'AIDER_CHAT_HISTORY_FILE', underHome: CHAT },
  workTreeFiles: [{ env: 'AIDER_CHAT_HISTORY_FILE', file: CHAT }, { env: 'AIDER_INPUT_HISTORY_FILE', file: INPUT }],
  isTranscript: (p) => p === BUNDLE_CHAT,
  /** Appends one run to the history file `dir` (where AIDER_CHAT_HISTORY_FILE points), as aider writes it. */
  plantDemo(dir, cwd, file, content, at) {
    const d = new Date(at(0));
    const two = (n: number) => String(n).padStart(2, '0');
    const header = `# aider chat started at ${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    const rel = path.relative(cwd, file);
    const run = [
      '', header, '',
      '> aider --model sonnet  ', '> Aider v0.86.1  ', '> Git repo: .git with 1 files  ', '',
      '#### Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.  ', '',
      `I'll create ${rel} with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.`, '',
      rel, '```javascript', '<<<<<<< SEARCH', '=======', ...content.replace(/\n$/, '').split('\n'), '>>>>>>> REPLACE', '```', '',
      '> Tokens: 2.1k sent, 180 received.  ', `> ${rel}  `, '> Create new file? (Y)es/(N)o [Yes]: y  ', `> Applied edit to ${rel}  `, '',
    ].join('\n');
    const existing = fs.existsSync(dir) ? fs.readFileSync(dir, 'utf8') : '';
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.appendFileSync(dir, run);
    return { sessionId: aiderSessionId(existing + run)!, dir: path.dirname(dir) };
  },
  create: (dir, report, vars, cwd) => {
    if (!cwd) return new AiderSource(null, null, null, report);
    const tree = workTreeOf(cwd);
    const chat = vars.AIDER_CHAT_HISTORY_FILE ? dir : tree ? path.join(tree, CHAT) : null;
    const input = vars.AIDER_INPUT_HISTORY_FILE ? path.resolve(cwd, vars.AIDER_INPUT_HISTORY_FILE) : tree ? path.join(tree, INPUT) : null;
    return new AiderSource(chat, input, tree ?? (chat ? path.dirname(chat) : null), report);
  },
};

export class AiderSource implements Source {
  readonly tool = 'aider' as const;
  /** The two history files themselves (a root may be a file: the listing lists it alone). */
  readonly roots: readonly string[];
  constructor(private readonly chat: string | null, private readonly input: string | null, private readonly tree: string | null, private readonly report: Reporter) {
    this.roots = [chat, input].filter((f): f is string => !!f);
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    const add = (file: string | null, bundlePath: string) => {
      if (!file) return;
      const listed = listing?.byRoot.get(file);
      let size: number;
      let mtimeMs: number;
      if (listed) {
        const f = listed.find((x) => x.rel === '' && x.type === 'f');
        if (!f) return;
        size = f.size;
        mtimeMs = f.mtimeMs;
      } else if (listing && listing.byRoot.size) {
        // A listing that does not cover this file: it was not there when the listing was made.
        return;
      } else {
        try {
          const st = fs.statSync(file);
          if (!st.isFile()) return;
          size = st.size;
          mtimeMs = Math.floor(st.mtimeMs);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOTDIR') this.report.unreadable(file, String(code ?? err));
          return;
        }
      }
      out.push({ tool: this.tool, absPath: file, bundlePath, size, mtimeMs, sessionId: null, ...(this.tree ? { cwd: this.tree } : {}) });
    };
    add(this.chat, BUNDLE_CHAT);
    add(this.input, BUNDLE_INPUT);
    return out;
  }

  /** Both files belong to the session of the chat history beside them, named by its first run's header. */
  sessionIdOf(_file: DiscoveredFile): string | null {
    if (!this.chat) return null;
    try {
      return aiderSessionId(readHead(this.chat, 64 * 1024).toString('utf8'));
    } catch {
      return null;
    }
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const messages: NormalizedMessage[] | null = opts.text === false ? null : [];
    const p = new AiderParser(null, messages);
    for (const f of files) p.feed(f.path, f.data);
    const edits = [...p.takeEdits(), ...p.pendingEdits()].sort((a, b) => a.seq - b.seq);
    return { id: sessionId, ...p.summary(), messages: messages ?? [], edits };
  }

  parser(_sessionId: string, state?: ParserState | null): SessionParser {
    return new AiderParser(state ?? null, null);
  }

  /**
   * The two files at the root of the clone's work tree (`localCwd`, the session's folder there),
   * under aider's default names. An existing history file with other content is not overwritten
   * (restore refuses without --force).
   */
  restoreTarget(bundlePath: string, sessionId: string, localCwd: string): string {
    if (!ID.test(sessionId) || (bundlePath !== BUNDLE_CHAT && bundlePath !== BUNDLE_INPUT)) {
      throw new RestoreRefused(bundlePath, `Aider keeps ${CHAT} and ${INPUT} at the root of the work tree`);
    }
    return path.join(localCwd, bundlePath.slice('aider/'.length));
  }

  resumeCommand(_sessionId: string, localCwd: string): { cwd?: string; argv: string[] } {
    return { cwd: localCwd, argv: ['aider', '--restore-chat-history'] };
  }
}
