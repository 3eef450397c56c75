import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeFile } from '../../store/bundle.js';
import { PATH_VARS } from '../../env.js';
import { walk, type Reporter } from '../discover.js';
import type { Listing } from '../listing.js';
import type { SourceDefinition } from '../types.js';
import {
  ROOT_DEPTH, RestoreRefused,
  type DiscoveredFile, type NormalizedMessage, type NormalizedSession, type ParseOptions, type ParserState,
  type RestoreSink, type SessionParser, type Source,
} from '../types.js';
import { loreIdOf, nativeIdOf } from './ids.js';
import { OpenCodeParser, pathKind } from './parser.js';
import { cacheFolder, exportedSessions } from './export-cache.js';
import { DatabaseRestore } from './database.js';
import { plantOpenCodeDemo } from './demo.js';

/**
 * OpenCode (docs/agents/opencode.md): data folder `$XDG_DATA_HOME/opencode` (default
 * `~/.local/share/opencode`). Since 1.2 the SQLite database `opencode.db` (`opencode-<channel>.db`
 * for other release channels; `OPENCODE_DB` names another, absolute or relative to the data
 * folder), rows in session / message / part; up to 1.1 the JSON tree `storage/session/<project>/<id>.json`,
 * `storage/message/<session>/<id>.json`, `storage/part/<message>/<id>.json`, which stays behind
 * after an upgrade. A session in both is one session (bundle paths `opencode/db/<id>.jsonl` and
 * `opencode/storage/...`), and the database's rows win (parser.ts).
 */

const SES = /^ses_[0-9A-Za-z]{1,60}$/;
const MSG = /^msg_[0-9A-Za-z]{1,60}$/;
const PRT = /^prt_[0-9A-Za-z]{1,60}$/;
const PROJECT = /^[0-9A-Za-z_-]{1,100}$/;
/** Database files in the data folder: `opencode.db`, `opencode-<channel>.db`, and their `-wal`. */
const DB_FILE = /^opencode(-[A-Za-z0-9._-]{1,64})?\.db(-wal)?$/;
/** Tree folders kept (todo and session_diff are kept, not parsed). */
const TREE = new Set(['session', 'message', 'part', 'todo', 'session_diff']);
/** A part file is read up to this size to learn its session. */
const PART_MAX = 16 * 1024 * 1024;

/** OpenCode in the registry: bundle prefix `opencode`; `XDG_DATA_HOME` moves the folder that holds `opencode/`. */
export const opencode: SourceDefinition = {
  tool: 'opencode',
  label: 'OpenCode',
  prefix: 'opencode',
  folder: { env: 'XDG_DATA_HOME', underHome: '.local/share' },
  isTranscript: (p) => pathKind(p) !== null,
  create: (dir, report, vars) => new OpenCodeSource(path.join(dir, 'opencode'), report, vars),
  plantDemo(dir, cwd, file, content, at) {
    const planted = plantOpenCodeDemo(dir, cwd, file, content, at);
    return { sessionId: loreIdOf(planted.sessionId)!, dir: planted.dir };
  },
};

export class OpenCodeSource implements Source {
  readonly tool = 'opencode' as const;
  readonly roots: readonly string[];
  /** The database OpenCode uses here (restore's target): `OPENCODE_DB`, else `opencode.db`; null for `:memory:`. */
  private readonly db: string | null;
  private readonly loreHome: string;

  constructor(private readonly data: string, private readonly report: Reporter, vars: Readonly<Record<string, string | undefined>>) {
    const custom = vars.OPENCODE_DB;
    this.db = custom === ':memory:' ? null : custom ? path.resolve(data, custom) : path.join(data, 'opencode.db');
    const outside = this.db && path.dirname(this.db) !== data ? path.dirname(this.db) : null;
    this.roots = outside ? [data, outside] : [data];
    const home = vars.HOME || os.homedir();
    this.loreHome = path.resolve(vars[PATH_VARS.loreHome.env] || path.join(home, PATH_VARS.loreHome.underHome));
  }

  discover(listing?: Listing | null): DiscoveredFile[] {
    const out: DiscoveredFile[] = [];
    const dbs = new Set<string>();
    const customName = this.db ? path.basename(this.db) : null;
    const isDb = (name: string) => DB_FILE.test(name) || (customName !== null && (name === customName || name === `${customName}-wal`));
    const found = walk(this.data, ROOT_DEPTH, this.report, (rel, isDir) => {
      const parts = rel.split('/');
      if (parts[0] !== 'storage') return !isDir && parts.length === 1 && isDb(rel);
      if (isDir) return parts.length === 1 || (parts.length === 2 && TREE.has(parts[1]!)) || (parts.length === 3 && ['session', 'message', 'part'].includes(parts[1]!));
      return rel.endsWith('.json') && parts.length >= 3;
    }, listing);
    const tree: typeof found = [];
    for (const f of found) {
      if (!f.rel.includes('/')) dbs.add(path.join(this.data, f.rel.replace(/-wal$/, '')));
      else tree.push(f);
    }
    if (this.roots.length > 1 && this.db) {
      const base = path.basename(this.db);
      if (walk(this.roots[1]!, 0, this.report, (rel, isDir) => !isDir && (rel === base || rel === `${base}-wal`), listing).length) dbs.add(this.db);
    }
    // Messages first: a part file's folder names its message, and the message's folder its session.
    const session = new Map<string, string>();
    const add = (abs: string, rel: string, size: number, mtimeMs: number, nativeId: string | null) => {
      const id = nativeId ? loreIdOf(nativeId) : null;
      if (nativeId && !id) return;
      out.push({ tool: this.tool, absPath: abs, bundlePath: `opencode/${rel}`, size, mtimeMs, sessionId: id });
    };
    for (const f of tree) {
      const [, dir, a, b] = f.rel.split('/') as [string, string, string, string | undefined];
      if (dir === 'message' && b && SES.test(a) && MSG.test(b.slice(0, -5))) session.set(b.slice(0, -5), a);
    }
    for (const f of tree) {
      const parts = f.rel.split('/');
      const [, dir, a, b] = parts as [string, string, string, string | undefined];
      const name = (b ?? a).slice(0, -5);
      if (parts.length === 4 && dir === 'session' && PROJECT.test(a) && SES.test(name)) add(f.abs, f.rel, f.size, f.mtimeMs, name);
      else if (parts.length === 4 && dir === 'message' && SES.test(a) && MSG.test(name)) add(f.abs, f.rel, f.size, f.mtimeMs, a);
      else if (parts.length === 4 && dir === 'part' && MSG.test(a) && PRT.test(name)) add(f.abs, f.rel, f.size, f.mtimeMs, session.get(a) ?? null);
      else if (parts.length === 3 && (dir === 'todo' || dir === 'session_diff') && SES.test(name)) add(f.abs, f.rel, f.size, f.mtimeMs, name);
    }
    // One session per bundle path: a session in two databases (channels) is taken from the bigger.
    const byBundle = new Map<string, DiscoveredFile>();
    for (const db of dbs) {
      for (const s of exportedSessions(db, cacheFolder(this.loreHome, db), this.report)) {
        const id = loreIdOf(s.nativeId);
        if (!id) continue;
        const d: DiscoveredFile = { tool: this.tool, absPath: s.file, bundlePath: `opencode/db/${s.nativeId}.jsonl`, size: s.size, mtimeMs: s.mtimeMs, sessionId: id };
        const had = byBundle.get(d.bundlePath);
        if (!had || d.size > had.size) byBundle.set(d.bundlePath, d);
      }
    }
    return [...out, ...byBundle.values()];
  }

  /** A part file's session, from its `sessionID` (its path names only its message). */
  sessionIdOf(file: DiscoveredFile): string | null {
    if (file.sessionId || pathKind(file.bundlePath) !== 'part' || file.size > PART_MAX) return file.sessionId;
    try {
      const doc = JSON.parse(fs.readFileSync(file.absPath, 'utf8')) as Record<string, unknown>;
      return typeof doc.sessionID === 'string' && SES.test(doc.sessionID) ? loreIdOf(doc.sessionID) : null;
    } catch {
      return null;
    }
  }

  parse(sessionId: string, files: NativeFile[], opts: ParseOptions = {}): NormalizedSession {
    const messages: NormalizedMessage[] | null = opts.text === false ? null : [];
    const p = new OpenCodeParser(nativeIdOf(sessionId), null, messages);
    // Database rows first (they win), then the tree's messages before their parts.
    for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) p.feed(f.path, f.data);
    const edits = p.takeEdits();
    return { id: sessionId, ...p.summary(), messages: messages ?? [], edits };
  }

  parser(sessionId: string, state?: ParserState | null): SessionParser {
    return new OpenCodeParser(nativeIdOf(sessionId), state ?? null, null);
  }

  /**
   * `db/<id>.jsonl` into OpenCode's database (restoreSink writes the rows), and the tree's
   * `storage/session/<project>/<id>.json`, `storage/message/<id>/<msg>.json`,
   * `storage/part/<msg>/<part>.json`, `storage/{todo,session_diff}/<id>.json` into the data folder.
   */
  restoreTarget(bundlePath: string, sessionId: string, _localCwd: string): string {
    const nativeId = nativeIdOf(sessionId);
    const parts = bundlePath.split('/');
    const [, kind, a, b, c] = parts;
    const json = (n: string | undefined, re: RegExp) => !!n && n.endsWith('.json') && re.test(n.slice(0, -5));
    if (nativeId && kind === 'db' && parts.length === 3 && a === `${nativeId}.jsonl`) {
      if (!this.db) throw new RestoreRefused(bundlePath, 'OPENCODE_DB is :memory:, so OpenCode keeps no database to restore into');
      return this.db;
    }
    const ok = nativeId && kind === 'storage' && (
      (parts.length === 5 && a === 'session' && PROJECT.test(b!) && c === `${nativeId}.json`)
      || (parts.length === 5 && a === 'message' && b === nativeId && json(c, MSG))
      || (parts.length === 5 && a === 'part' && MSG.test(b!) && json(c, PRT))
      || (parts.length === 4 && (a === 'todo' || a === 'session_diff') && b === `${nativeId}.json`));
    if (!ok) throw new RestoreRefused(bundlePath, `OpenCode keeps db/${nativeId ?? '<id>'}.jsonl (database rows) and storage/{session/<project>,message,part,todo,session_diff}/... files named after the session`);
    return path.join(this.data, ...parts.slice(1));
  }

  restoreSink(dest: string, sessionId: string, where: { localCwd: string; localRoot: string }): RestoreSink | null {
    const nativeId = nativeIdOf(sessionId);
    if (!nativeId || !this.db || dest !== this.db) return null;
    return new DatabaseRestore(dest, nativeId, where, () => Date.now());
  }

  resumeCommand(sessionId: string, localCwd: string): { cwd?: string; argv: string[] } | null {
    const nativeId = nativeIdOf(sessionId);
    return nativeId ? { cwd: localCwd, argv: ['opencode', '--session', nativeId] } : null;
  }
}
