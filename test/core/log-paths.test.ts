import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { attributedCommits } from '../../src/core/blame.js';
import { Machine, claudeProjectDir } from '../helpers/machine.js';
import { userLine } from '../helpers/repos.js';

/**
 * `git lore log` attributes the lines of files whose names git quotes in patches (non-ASCII under
 * the default core.quotePath, tabs, newlines, quotes) and of names with spaces or leading dashes:
 * a session writes them all, one commit takes them; every line is the session's.
 */
test('git lore log: lines of files with odd names are attributed to the session that wrote them', async () => {
  const m = new Machine('log-paths');
  const repo = m.initRepo(path.join(m.home, 'odd repo'));
  const id = '12345678-0000-4000-8000-00000000cafe';
  const names = ['café.js', 'naïve dir/名前.js', 'with space.js', 'ta\tb.js', 'new\nline.js', 'qu"ote.js', '-dash.js', 'plain.js'];
  const content = (n: string) => `// ${JSON.stringify(n)}\nexport const value = ${JSON.stringify(n)}.length;\n`;
  const at = (s: number) => `2026-03-01T11:00:${String(s).padStart(2, '0')}Z`;
  const lines = [JSON.stringify(JSON.parse(userLine(id, repo, 'u0', 'write the odd files', 0)))];
  names.forEach((n, i) => {
    lines.push(JSON.stringify({
      type: 'assistant', sessionId: id, cwd: repo, uuid: `a${i}`, timestamp: at(i + 1),
      message: { id: `m-${i}`, model: 'claude-opus-4-5-20251101', role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'Write', input: { file_path: path.join(repo, n), content: content(n) } }] },
    }));
    lines.push(JSON.stringify({ type: 'user', sessionId: id, cwd: repo, uuid: `r${i}`, timestamp: at(i + 1), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: 'File written' }] } }));
    fs.mkdirSync(path.dirname(path.join(repo, n)), { recursive: true });
    fs.writeFileSync(path.join(repo, n), content(n));
  });
  const proj = claudeProjectDir(m.claudeDir, repo);
  fs.mkdirSync(proj, { recursive: true });
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), `${lines.join('\n')}\n`);
  const env = { ...m.vars, GIT_AUTHOR_DATE: '2026-03-01T11:05:00Z', GIT_COMMITTER_DATE: '2026-03-01T11:05:00Z' };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '-m', 'odd files'], { cwd: repo, env });

  const [k] = await attributedCommits(m.ctx(repo), { range: 'HEAD', maxCount: 1 });
  assert.ok(k);
  const got = k.lines.map((l) => [l.file, l.line, l.session?.id ?? null]).sort();
  const want = names.flatMap((n) => [[n, 1, id], [n, 2, id]]).sort();
  assert.deepEqual(got, want);
});
