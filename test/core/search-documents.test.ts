import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Machine, ROOT, copyRewritten } from '../helpers/machine.js';

/**
 * Files an agent rewrites whole (Cline's task JSON, Gemini CLI's legacy chat JSON) are searchable:
 * the index parses them whole when they change. A Cline task is one JSON line without a newline,
 * which the line reader never saw, so its words were not found.
 */

async function search(m: Machine, repo: string, query: string): Promise<{ code: number; ids: string[]; tools: string[] }> {
  const r = await m.lore(['search', '--json', query], { cwd: repo });
  if (r.code !== 0) return { code: r.code, ids: [], tools: [] };
  const results = JSON.parse(r.stdout).results as Array<{ id: string; tool: string }>;
  return { code: 0, ids: [...new Set(results.map((x) => x.id))], tools: [...new Set(results.map((x) => x.tool))] };
}

test('search finds what a Cline task and a legacy Gemini chat say, and follows a rewrite', async () => {
  const m = new Machine('searchdocs');
  const repo = m.initRepo(path.join(m.home, 'notes-app'));

  // Cline: the synthetic task of test/fixtures/cline, in Cline's default storage folder, run in this repository.
  const storage = path.join(m.home, '.config', 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev');
  const synth = path.join(ROOT, 'test', 'fixtures', 'cline');
  const rep: Array<[string, string]> = [['/home/dev/notes-app', repo]];
  const api = path.join(storage, 'tasks', '1767700000000', 'api_conversation_history.json');
  for (const f of ['api_conversation_history.json', 'ui_messages.json']) copyRewritten(path.join(synth, 'tasks', '1767700000000', f), path.join(storage, 'tasks', '1767700000000', f), rep);
  copyRewritten(path.join(synth, 'state', 'taskHistory.json'), path.join(storage, 'state', 'taskHistory.json'), rep);
  assert.ok(!fs.readFileSync(api, 'utf8').endsWith('\n'), 'the task is a document without a final newline, as Cline writes it');

  // Gemini CLI before 0.39: one pretty-printed JSON document per chat, rewritten whole.
  const slug = 'notes-app';
  const chats = path.join(m.home, '.gemini', 'tmp', slug, 'chats');
  fs.mkdirSync(chats, { recursive: true });
  fs.writeFileSync(path.join(m.home, '.gemini', 'tmp', slug, '.project_root'), repo);
  fs.writeFileSync(path.join(m.home, '.gemini', 'projects.json'), JSON.stringify({ projects: { [repo]: slug } }, null, 2));
  const geminiId = crypto.randomUUID();
  const chat = (words: string[]) => JSON.stringify({
    sessionId: geminiId, projectHash: crypto.createHash('sha256').update(repo).digest('hex'), startTime: '2026-01-02T10:00:00.000Z', lastUpdated: '2026-01-02T10:05:00.000Z',
    messages: words.map((w, i) => ({ id: `m${i}`, timestamp: `2026-01-02T10:0${i}:00.000Z`, type: i % 2 ? 'gemini' : 'user', content: `about the ${w} of the cache` })),
  }, null, 2);
  const geminiFile = path.join(chats, `session-2026-01-02T10-00-${geminiId.slice(0, 8)}.json`);
  fs.writeFileSync(geminiFile, chat(['eviction', 'thundering']));

  const median = await search(m, repo, 'median');
  assert.equal(median.code, 0, 'Cline\'s words are found');
  assert.ok(median.tools.includes('cline'), `a cline result: ${median.tools.join(', ')}`);
  const gem = await search(m, repo, 'thundering');
  assert.equal(gem.code, 0, 'the legacy Gemini chat\'s words are found');
  assert.deepEqual(gem.tools, ['gemini-cli']);

  // Gemini rewrites the document: the old words go, the new ones come, nothing doubles.
  fs.writeFileSync(geminiFile, chat(['eviction', 'stampede', 'warmup']));
  const later = new Date(Date.now() + 2000);
  fs.utimesSync(geminiFile, later, later);
  assert.equal((await search(m, repo, 'thundering')).code, 1, 'the rewritten-away word is gone');
  assert.equal((await search(m, repo, 'warmup')).code, 0);
  const r = await m.lore(['search', '--json', 'eviction'], { cwd: repo });
  assert.equal(JSON.parse(r.stdout).results.length, 1, 'the kept message is indexed once');
});
