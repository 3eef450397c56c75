import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, claudeProjectDir } from './machine.js';

export const PASS = { LORE_PASSPHRASE: 'correct horse battery staple' };

/** A bare remote on disk, and a clone of it on a machine. */
export function bareRemote(m: Machine): string {
  const bare = path.join(m.home, 'remote.git');
  m.git(m.home, 'init', '-q', '--bare', bare);
  m.git(bare, 'config', 'core.logAllRefUpdates', 'always');
  const seed = m.initRepo(path.join(m.home, 'seed'));
  m.git(seed, 'remote', 'add', 'origin', bare);
  m.git(seed, 'push', '-q', 'origin', 'main');
  return bare;
}
export function cloneOn(m: Machine, bare: string, name = 'proj'): string {
  const dir = path.join(m.home, name);
  m.git(m.home, 'clone', '-q', bare, dir);
  return dir;
}

export const uuid = (n: number, tag = 'a') => `${tag.repeat(8).slice(0, 8)}-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const userLine = (id: string, cwd: string, uuidStr: string, text: string, t: number) =>
  JSON.stringify({ type: 'user', sessionId: id, cwd, uuid: uuidStr, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString(), message: { role: 'user', content: text } });

/** Writes (or appends to) a Claude Code session in `repo` on machine `m`. */
export function writeSession(m: Machine, repo: string, id: string, lines: string[], append = false): string {
  const file = path.join(claudeProjectDir(m.claudeDir, repo), `${id}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (append) fs.appendFileSync(file, lines.map((l) => `${l}\n`).join(''));
  else fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

export async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<{ stdout: string; stderr: string }> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

