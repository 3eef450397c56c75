import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine, claudeProjectDir } from './machine.js';
import { userLine } from './repos.js';

/**
 * A repository where a person commits calc.js (lines 1-2), then a Claude Code session (model
 * claude-opus-4-5-20251101) is asked to add a helper, reasons, writes lines 3-4, and that is
 * committed; a second session of another repository mentions the same words (out of scope).
 */
export interface Attributed {
  m: Machine;
  repo: string;
  id: string;
  otherId: string;
  personCommit: string;
  sessionCommit: string;
}

export const MODEL = 'claude-opus-4-5-20251101';

function commitAt(m: Machine, repo: string, when: string, message: string): string {
  const env = { ...process.env, ...m.vars, GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '-m', message], { cwd: repo, env });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, env }).toString().trim();
}

export function attributedRepo(name: string): Attributed {
  const m = new Machine(name);
  const repo = m.initRepo(path.join(m.home, 'calc'));
  const other = m.initRepo(path.join(m.home, 'other'));
  const id = '12345678-0000-4000-8000-0000000000aa';
  const otherId = '87654321-0000-4000-8000-0000000000bb';
  fs.writeFileSync(path.join(repo, 'calc.js'), 'const answer = 42;\nconst other = 1;\n');
  const personCommit = commitAt(m, repo, '2026-03-01T10:00:00Z', 'person writes it first');
  const at = (s: number) => `2026-03-01T11:00:${String(s).padStart(2, '0')}Z`;
  const assistant = (uid: string, s: number, content: unknown[]) =>
    JSON.stringify({ type: 'assistant', sessionId: id, cwd: repo, uuid: uid, timestamp: at(s), message: { id: `m-${uid}`, model: MODEL, role: 'assistant', content } });
  const proj = claudeProjectDir(m.claudeDir, repo);
  fs.mkdirSync(proj, { recursive: true });
  const full = 'const answer = 42;\nconst other = 1;\nfunction helper() { return answer * 2; }\nconst flag = true;\n';
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), [
    JSON.stringify(JSON.parse(userLine(id, repo, 'u0', 'add a helper that doubles the answer', 0))),
    assistant('a1', 1, [{ type: 'thinking', thinking: 'The helper should multiply answer by two; a flag marks it enabled.' }]),
    assistant('a2', 2, [{ type: 'text', text: 'I will add helper() to calc.js.' }]),
    assistant('a3', 3, [{ type: 'tool_use', id: 't-a3', name: 'Write', input: { file_path: path.join(repo, 'calc.js'), content: full } }]),
    JSON.stringify({ type: 'user', sessionId: id, cwd: repo, uuid: 'u4', timestamp: at(4), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't-a3', content: 'File written' }] } }),
    assistant('a5', 5, [{ type: 'text', text: 'Done: helper() doubles the answer.' }]),
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(repo, 'calc.js'), full);
  const sessionCommit = commitAt(m, repo, '2026-03-01T11:05:00Z', 'session work');
  const otherProj = claudeProjectDir(m.claudeDir, other);
  fs.mkdirSync(otherProj, { recursive: true });
  fs.writeFileSync(path.join(otherProj, `${otherId}.jsonl`), `${userLine(otherId, other, 'o1', 'a helper that doubles, elsewhere', 9)}\n`);
  return { m, repo, id, otherId, personCommit, sessionCommit };
}
