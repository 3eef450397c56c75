import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, copyRewritten, type Machine } from '../../helpers/machine.js';
import { nativeIdOf } from '../../../src/sources/opencode/ids.js';
import type { ConformanceCase, PlacedSession } from './types.js';

/** Where the fixtures ran (a clone of dark-factory): rewritten to the test's repository. */
const RECORDED_ROOT = '/Users/alex/repos/vfp/dark-factory';
const NEON_RIVER = '39b623ce7ffe-3091169137c179b18f6b5';
const JOLLY_EAGLE = '39b5d713cffe-49478879c96df22c26eea';

const dataDir = (m: Machine) => path.join(m.home, '.local', 'share', 'opencode');
const dbFile = (m: Machine) => path.join(dataDir(m), 'opencode.db');

/** The session's rows of the tables a bundle holds, every value with its SQLite type (`quote`): what "row-identical" compares. */
function rows(m: Machine, id: string): string {
  const native = nativeIdOf(id)!;
  const db = new Database(dbFile(m), { readonly: true });
  try {
    const out: string[] = [];
    for (const [t, where] of [['session', 'id'], ['message', 'session_id'], ['part', 'session_id']] as const) {
      const cols = (db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => `quote(${c.name})`);
      for (const r of db.prepare(`SELECT ${cols.join(', ')} FROM ${t} WHERE ${where} = ? ORDER BY id`).raw().all(native)) out.push(`${t} ${JSON.stringify(r)}`);
    }
    return out.join('\n');
  } finally {
    db.close();
  }
}

/**
 * OpenCode: the SQLite database written by 1.18.33 and the legacy JSON tree written by 1.1.65,
 * both holding the same two sessions (so each session is in both places, and must be listed once),
 * placed under `$HOME/.local/share/opencode` as if OpenCode had run in the test's repository.
 */
export const opencodeCase: ConformanceCase = {
  tool: 'opencode',
  fixtures: 'opencode',
  edited: NEON_RIVER,
  // neon-river: two completed apply_patch calls, each adding one file; jolly-eagle: a skill and a task call, no edit.
  edits: { [NEON_RIVER]: 2, [JOLLY_EAGLE]: 0 },
  place(m, repo) {
    const data = dataDir(m);
    fs.mkdirSync(data, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'opencode', 'opencode-1.18.33', 'opencode.db'), dbFile(m));
    fs.chmodSync(dbFile(m), 0o644);
    const db = new Database(dbFile(m));
    try {
      const r = { a: RECORDED_ROOT, b: repo };
      db.prepare('UPDATE project SET worktree = replace(worktree, ?, ?)').run(r.a, r.b);
      db.prepare('UPDATE project_directory SET directory = replace(directory, ?, ?)').run(r.a, r.b);
      db.prepare('UPDATE session SET directory = replace(directory, ?, ?)').run(r.a, r.b);
      db.prepare('UPDATE message SET data = replace(data, ?, ?)').run(r.a, r.b);
      db.prepare('UPDATE part SET data = replace(data, ?, ?)').run(r.a, r.b);
    } finally {
      db.close();
    }
    const src = path.join(FIXTURES, 'opencode', 'opencode-1.1.65', 'storage');
    const bySession = new Map<string, string[]>([[NEON_RIVER, []], [JOLLY_EAGLE, []]]);
    const msgSession = new Map<string, string>();
    for (const ses of fs.readdirSync(path.join(src, 'message'))) for (const f of fs.readdirSync(path.join(src, 'message', ses))) msgSession.set(f.slice(0, -5), ses);
    const visit = (rel: string) => {
      for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          visit(r);
          continue;
        }
        const dst = path.join(data, 'storage', r);
        copyRewritten(path.join(src, r), dst, [[RECORDED_ROOT, repo]]);
        const parts = r.split('/');
        const native = parts[0] === 'session' ? e.name.slice(0, -5) : parts[0] === 'message' ? parts[1]! : parts[0] === 'part' ? msgSession.get(parts[1]!) : undefined;
        const id = native === 'ses_39b623ce7ffeILPe9UgDcyGicH' ? NEON_RIVER : native === 'ses_39b5d713cffeRgAoxPIwS3Plus' ? JOLLY_EAGLE : null;
        if (id) bySession.get(id)!.push(dst);
      }
    };
    visit('');
    const out: PlacedSession[] = [...bySession].map(([id, files]) => ({ id, files }));
    return out;
  },
  database: {
    file: dbFile,
    rows,
    drop(m, id) {
      const native = nativeIdOf(id)!;
      const db = new Database(dbFile(m));
      try {
        db.prepare('DELETE FROM part WHERE session_id = ?').run(native);
        db.prepare('DELETE FROM message WHERE session_id = ?').run(native);
        db.prepare('DELETE FROM session WHERE id = ?').run(native);
      } finally {
        db.close();
      }
    },
  },
};
