import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../store/sqlite.js';
import { LoreError } from '../../errors.js';
import { ROW_TABLES } from './parser.js';

/**
 * All SQL over OpenCode's own database (`opencode.db`: tables project, session, message, part, ...;
 * docs/agents/opencode.md). Kept in this folder rather than src/store/ (which owns git-lore's
 * lore.db): it is a foreign format, read and written only as this source's native files.
 */

type Row = Record<string, unknown>;
type Db = Database.Database;

/** How long a read waits for a writer's lock before the database counts as locked (ms). */
const READ_BUSY_MS = 250;
/** Restore waits longer: OpenCode may be running. */
const WRITE_BUSY_MS = 5000;
/** At most this many sessions and rows are read from a database (bounded input). */
const MAX_SESSIONS = 200_000;
const MAX_ROWS = 2_000_000;
/** Subagent depth followed to a session's top (and cycle guard). */
const MAX_DEPTH = 32;

/** Tables other than message and part holding a session's rows, with their order. */
const EXTRA: ReadonlyArray<[string, string]> = [
  ['todo', 'position'],
  ['session_message', 'seq, id'],
  ['session_input', 'admitted_seq, id'],
  ['session_context_epoch', 'session_id'],
];

/** Opens OpenCode's database for reading. Read-only, through SQLite, so what a running OpenCode keeps in `-wal` is seen. Throws on a missing, locked or corrupt file. */
export function openForReading(file: string): Db {
  const db = openSqlite(file, { readonly: true, fileMustExist: true, timeout: READ_BUSY_MS });
  try {
    const tables = tableNames(db);
    for (const t of ['session', 'message', 'part']) if (!tables.has(t)) throw new Error(`not an OpenCode database (no ${t} table)`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function tableNames(db: Db): Set<string> {
  return new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name));
}

/** A top-level session and its subagent sessions, with a stamp that changes whenever any of their rows does. */
export interface SessionGroup {
  id: string;
  children: string[];
  stamp: string;
}

/**
 * Every top-level session of the database with its subagent sessions (`parent_id`), and a stamp
 * over them all: each session row (hashed), and the count and latest `time_updated` of its
 * message and part rows (no `data` column is read for those), so only groups whose stamp moved
 * are exported again.
 */
export function sessionGroups(db: Db): SessionGroup[] {
  const sessions = db.prepare(`SELECT * FROM session LIMIT ${MAX_SESSIONS}`).all() as Array<{ id: string; parent_id: string | null }>;
  const parent = new Map(sessions.map((s) => [s.id, s.parent_id]));
  const top = (id: string): string => {
    let at = id;
    for (let i = 0; i < MAX_DEPTH; i++) {
      const p = parent.get(at);
      if (!p || !parent.has(p)) return at;
      at = p;
    }
    return id;
  };
  const agg = (table: string) => new Map((db.prepare(`SELECT session_id AS s, count(*) AS n, max(time_updated) AS t FROM ${table} GROUP BY session_id`).all() as Array<{ s: string; n: number; t: number }>).map((r) => [r.s, `${r.n}.${r.t}`]));
  const msgs = agg('message');
  const parts = agg('part');
  const groups = new Map<string, { children: string[]; stamp: string[] }>();
  for (const s of sessions) {
    const t = top(s.id);
    let g = groups.get(t);
    if (!g) groups.set(t, (g = { children: [], stamp: [] }));
    if (t !== s.id) g.children.push(s.id);
    // The session row whole (a title can change without its time), its messages' and parts' count and latest time.
    const row = createHash('sha1').update(JSON.stringify(encode(s))).digest('base64url').slice(0, 16);
    g.stamp.push(`${s.id}:${row}:${msgs.get(s.id) ?? ''}:${parts.get(s.id) ?? ''}`);
  }
  return [...groups].map(([id, g]) => ({ id, children: g.children.sort(), stamp: g.stamp.sort().join(' ') }));
}

/** A value as a bundle line holds it: JSON scalars, blobs as `{"$blob": base64}`. */
function encode(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = Buffer.isBuffer(v) ? { $blob: v.toString('base64') } : typeof v === 'bigint' ? Number(v) : v;
  return out;
}

function decode(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Row).$blob === 'string') return Buffer.from((v as Row).$blob as string, 'base64');
  return v;
}

/**
 * The bundle file of a session group: one `{"table", "row"}` JSON line per row, in a stable
 * order: per session (the top one, then its subagents by id) each message followed by its parts
 * (by id), its other rows (todo, session_message, session_input, session_context_epoch when the
 * schema has them), then the session rows last (they change on every turn, so the lines before
 * them stay a prefix while a session grows). Columns in the table's order, values as SQLite gives them.
 */
export function exportSession(db: Db, group: SessionGroup): Buffer {
  const tables = tableNames(db);
  const lines: string[] = [];
  const line = (table: string, row: Row) => lines.push(JSON.stringify({ table, row: encode(row) }));
  const ids = [group.id, ...group.children];
  for (const sid of ids) {
    const msgs = db.prepare('SELECT * FROM message WHERE session_id = ? ORDER BY id').all(sid) as Row[];
    const parts = db.prepare('SELECT * FROM part WHERE session_id = ? ORDER BY message_id, id').all(sid) as Row[];
    if (msgs.length + parts.length > MAX_ROWS) throw new Error(`session ${sid} has over ${MAX_ROWS} rows`);
    const byMsg = new Map<unknown, Row[]>();
    for (const p of parts) {
      const l = byMsg.get(p.message_id) ?? [];
      l.push(p);
      byMsg.set(p.message_id, l);
    }
    for (const m of msgs) {
      line('message', m);
      for (const p of byMsg.get(m.id) ?? []) line('part', p);
      byMsg.delete(m.id);
    }
    for (const rest of byMsg.values()) for (const p of rest) line('part', p);
    for (const [t, order] of EXTRA) {
      if (!tables.has(t)) continue;
      for (const r of db.prepare(`SELECT * FROM ${t} WHERE session_id = ? ORDER BY ${order}`).all(sid) as Row[]) line(t, r);
    }
  }
  for (const sid of ids) for (const r of db.prepare('SELECT * FROM session WHERE id = ?').all(sid) as Row[]) line('session', r);
  return Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
}

/** The rows of a bundle file, checked: only this session's tables and rows (the restore allow-list for rows). */
function bundleRows(data: Buffer, nativeId: string): Array<{ table: string; row: Row }> {
  const out: Array<{ table: string; row: Row }> = [];
  const text = data.toString('utf8');
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    if (out.length >= MAX_ROWS) throw new LoreError(`the bundle of OpenCode session ${nativeId} has over ${MAX_ROWS} rows; nothing was written`);
    let o: Row;
    try {
      o = JSON.parse(l) as Row;
    } catch {
      throw new LoreError(`the bundle of OpenCode session ${nativeId} holds a line that is not JSON; nothing was written`);
    }
    const table = o?.table;
    const row = o?.row;
    if (typeof table !== 'string' || !(ROW_TABLES as readonly string[]).includes(table) || !row || typeof row !== 'object' || Array.isArray(row)) {
      throw new LoreError(`the bundle of OpenCode session ${nativeId} holds a row of another kind (${JSON.stringify(table)}); nothing was written`);
    }
    for (const [k, v] of Object.entries(row as Row)) {
      if (!/^[a-z_][a-z0-9_]{0,63}$/.test(k)) throw new LoreError(`the bundle of OpenCode session ${nativeId} names a column ${JSON.stringify(k)}; nothing was written`);
      if (!(v === null || typeof v === 'string' || typeof v === 'number' || (typeof v === 'object' && typeof (v as Row).$blob === 'string'))) {
        throw new LoreError(`the bundle of OpenCode session ${nativeId} holds a value of another kind in ${table}.${k}; nothing was written`);
      }
    }
    out.push({ table, row: row as Row });
  }
  // Only this session and its subagents: the top session row, sessions under it, rows of those.
  const sessions = out.filter((r) => r.table === 'session').map((r) => r.row);
  const ids = new Set<unknown>();
  if (sessions.some((s) => s.id === nativeId)) ids.add(nativeId);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of sessions) if (!ids.has(s.id) && ids.has(s.parent_id)) (ids.add(s.id), (grew = true));
  }
  if (!ids.has(nativeId)) throw new LoreError(`the bundle of OpenCode session ${nativeId} has no row for that session; nothing was written`);
  for (const r of out) {
    const owner = r.table === 'session' ? r.row.id : r.row.session_id;
    if (!ids.has(owner)) throw new LoreError(`the bundle of OpenCode session ${nativeId} holds a ${r.table} row of another session (${String(owner)}); nothing was written`);
  }
  return out;
}

/** Where a restored session's folder must lie. */
export interface RestorePlace {
  localCwd: string;
  localRoot: string;
}

/**
 * Writes a session's bundle rows into OpenCode's database `file` (the restore of a database
 * format): refuses when the database does not exist (OpenCode creates it, with its schema, on
 * first run) or lacks a table or column the rows have. The rows are tied to this clone: the
 * project OpenCode knows for `localRoot` (else the recorded project id, the repository's root
 * commit, with a project row for `localRoot` added), and a session folder outside `localRoot`
 * becomes `localCwd`.
 */
export class DatabaseRestore {
  constructor(private readonly file: string, private readonly nativeId: string, private readonly place: RestorePlace, private readonly now: () => number) {}

  /** True when a row the bundle holds exists in the database with other values. */
  differs(data: Buffer): boolean {
    return this.run(data, false);
  }

  /** Writes the rows in one transaction; false when the database held them all already. */
  write(data: Buffer): boolean {
    return this.run(data, true);
  }

  private run(data: Buffer, write: boolean): boolean {
    const rows = bundleRows(data, this.nativeId);
    if (!fs.existsSync(this.file)) {
      throw new LoreError(`OpenCode's database ${this.file} does not exist; nothing was written`, {
        hint: `Run opencode once in ${this.place.localCwd} (it creates its database), then run git lore restore again.`,
      });
    }
    let db: Db;
    try {
      db = openSqlite(this.file, { fileMustExist: true, timeout: WRITE_BUSY_MS });
    } catch (err) {
      throw new LoreError(`cannot open OpenCode's database ${this.file} (${(err as Error).message}); nothing was written`, { cause: err });
    }
    try {
      this.tie(db, rows);
      const columns = this.checkSchema(db, rows);
      const pk = (t: string) => columns.get(t)!.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      const existing = (t: string, row: Row): Row | undefined => {
        const keys = pk(t);
        if (!keys.length || keys.some((k) => !(k in row))) return undefined;
        return db.prepare(`SELECT * FROM ${t} WHERE ${keys.map((k) => `${k} = ?`).join(' AND ')}`).get(...keys.map((k) => decode(row[k]))) as Row | undefined;
      };
      const same = (a: Row, b: Row) => Object.keys(b).every((k) => {
        const x = a[k];
        const y = decode(b[k]);
        return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
      });
      if (!write) return rows.some((r) => {
        const e = existing(r.table, r.row);
        return !!e && !same(e, r.row);
      });
      let changed = false;
      // The project, then sessions (other rows refer to them), then the rest in bundle order
      // (a message before its parts). A row already there is updated in place, never replaced:
      // OpenCode's foreign keys cascade deletes, so a REPLACE of a session would drop its messages.
      const rank = (t: string) => (t === 'project' ? 0 : t === 'session' ? 1 : 2);
      const ordered = rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r.table) - rank(b.r.table) || a.i - b.i).map((x) => x.r);
      db.transaction(() => {
        for (const r of ordered) {
          const e = existing(r.table, r.row);
          if (e && same(e, r.row)) continue;
          const keys = Object.keys(r.row);
          const values = keys.map((k) => decode(r.row[k]));
          if (e) {
            const where = pk(r.table);
            db.prepare(`UPDATE ${r.table} SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE ${where.map((k) => `${k} = ?`).join(' AND ')}`).run(...values, ...where.map((k) => decode(r.row[k])));
          } else {
            db.prepare(`INSERT INTO ${r.table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(...values);
          }
          changed = true;
        }
      })();
      return changed;
    } catch (err) {
      if (err instanceof LoreError) throw err;
      const busy = /SQLITE_BUSY|locked/i.test(String((err as { code?: string }).code ?? err));
      throw new LoreError(`cannot write OpenCode session ${this.nativeId} into ${this.file}: ${(err as Error).message}; nothing was written`, {
        cause: err,
        hint: busy ? 'OpenCode is writing to it: quit OpenCode, then run git lore restore again.' : 'Update OpenCode, run it once, then run git lore restore again.',
      });
    } finally {
      db.close();
    }
  }

  /** The target's columns per table; refuses a table or column the rows have and the target lacks. */
  private checkSchema(db: Db, rows: Array<{ table: string; row: Row }>): Map<string, Array<{ name: string; pk: number }>> {
    const out = new Map<string, Array<{ name: string; pk: number }>>();
    for (const r of rows) {
      let cols = out.get(r.table);
      if (!cols) {
        cols = db.prepare(`PRAGMA table_info(${r.table})`).all() as Array<{ name: string; pk: number }>;
        if (!cols.length) throw this.otherSchema(`it has no ${r.table} table`);
        out.set(r.table, cols);
      }
      const names = new Set(cols.map((c) => c.name));
      const missing = Object.keys(r.row).find((k) => !names.has(k));
      if (missing) throw this.otherSchema(`its ${r.table} table has no ${missing} column`);
    }
    return out;
  }

  private otherSchema(why: string): LoreError {
    return new LoreError(`OpenCode's database ${this.file} has another schema than the session's rows (${why}); nothing was written`, {
      hint: 'Run the OpenCode version that recorded the session (or a newer one) once here, then run git lore restore again.',
    });
  }

  /** Ties the session rows to this clone: its project, and a folder inside it. */
  private tie(db: Db, rows: Array<{ table: string; row: Row }>): void {
    const sessions = rows.filter((r) => r.table === 'session').map((r) => r.row);
    const { localRoot, localCwd } = this.place;
    const inside = (d: unknown) => typeof d === 'string' && (d === localRoot || d.startsWith(`${localRoot}/`));
    const known = db.prepare('SELECT id FROM project WHERE worktree = ? ORDER BY time_updated DESC LIMIT 1').get(localRoot) as { id: string } | undefined;
    for (const s of sessions) {
      if (known && 'project_id' in s) s.project_id = known.id;
      if ('directory' in s && !inside(s.directory)) s.directory = localCwd;
    }
    const project = sessions.find((s) => s.id === this.nativeId)?.project_id;
    if (known || typeof project !== 'string') return;
    if (db.prepare('SELECT 1 FROM project WHERE id = ?').get(project)) return;
    // OpenCode has not opened this clone yet: its project (the repository's root commit, the id
    // recorded, as on every clone) with this clone as its worktree.
    const cols = new Set((db.prepare('PRAGMA table_info(project)').all() as Array<{ name: string }>).map((c) => c.name));
    const now = this.now();
    const row: Row = { id: project, worktree: localRoot, vcs: 'git', time_created: now, time_updated: now, sandboxes: '[]' };
    const keys = Object.keys(row).filter((k) => cols.has(k));
    rows.unshift({ table: 'project', row: Object.fromEntries(keys.map((k) => [k, row[k]])) });
  }
}

/**
 * OpenCode 1.18.33's tables that a session needs (project, session, message, part), as its own
 * migrations create them: for `git lore demo` and the benchmark corpus, which plant sessions where
 * no OpenCode ever ran. Restore never creates a database.
 */
const DEMO_SCHEMA = `
CREATE TABLE IF NOT EXISTS project (id text PRIMARY KEY, worktree text NOT NULL, vcs text, name text, icon_url text, icon_url_override text, icon_color text,
  time_created integer NOT NULL, time_updated integer NOT NULL, time_initialized integer, sandboxes text NOT NULL, commands text);
CREATE TABLE IF NOT EXISTS session (id text PRIMARY KEY, project_id text NOT NULL, workspace_id text, parent_id text, slug text NOT NULL, directory text NOT NULL,
  path text, title text NOT NULL, version text NOT NULL, share_url text, summary_additions integer, summary_deletions integer, summary_files integer,
  summary_diffs text, metadata text, cost real DEFAULT 0 NOT NULL, tokens_input integer DEFAULT 0 NOT NULL, tokens_output integer DEFAULT 0 NOT NULL,
  tokens_reasoning integer DEFAULT 0 NOT NULL, tokens_cache_read integer DEFAULT 0 NOT NULL, tokens_cache_write integer DEFAULT 0 NOT NULL, revert text,
  permission text, agent text, model text, time_created integer NOT NULL, time_updated integer NOT NULL, time_compacting integer, time_archived integer,
  CONSTRAINT fk_session_project_id_project_id_fk FOREIGN KEY (project_id) REFERENCES project(id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL,
  CONSTRAINT fk_message_session_id_session_id_fk FOREIGN KEY (session_id) REFERENCES session(id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL,
  data text NOT NULL, CONSTRAINT fk_part_message_id_message_id_fk FOREIGN KEY (message_id) REFERENCES message(id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX IF NOT EXISTS part_message_id_id_idx ON part (message_id, id);
CREATE INDEX IF NOT EXISTS part_session_idx ON part (session_id);
CREATE INDEX IF NOT EXISTS session_project_idx ON session (project_id);
CREATE INDEX IF NOT EXISTS session_parent_idx ON session (parent_id);
`;

/** Writes rows (table, row) into `file`, creating OpenCode's session tables if absent (WAL, as OpenCode keeps it). For the demo and benchmarks only. */
export function plantRows(file: string, rows: Array<{ table: 'project' | 'session' | 'message' | 'part'; row: Row }>): void {
  const db = openSqlite(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(DEMO_SCHEMA);
    db.transaction(() => {
      for (const { table, row } of rows) {
        const keys = Object.keys(row);
        db.prepare(`INSERT OR IGNORE INTO ${table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(...keys.map((k) => row[k]));
      }
    })();
  } finally {
    db.close();
  }
}
