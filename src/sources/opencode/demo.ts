import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { plantRows } from './database.js';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An id as OpenCode makes one: prefix, 12 hex digits of time, 14 random base62 characters. */
function openCodeId(prefix: string, ms: number): string {
  const rand = Array.from(crypto.randomBytes(14), (b) => B62[b % 62]).join('');
  return `${prefix}_${(ms * 0x1000 + Math.floor(Math.random() * 0x1000)).toString(16).padStart(12, '0').slice(-12)}${rand}`;
}

/**
 * For `git lore demo --agent opencode` and the benchmark corpus: a small session, run in `cwd`,
 * whose `write` tool call wrote `file` with `content`, planted as rows of `<dir>/opencode/opencode.db`
 * (`dir` is the folder of XDG_DATA_HOME), as OpenCode 1.18 keeps them.
 */
export function plantOpenCodeDemo(dir: string, cwd: string, file: string, content: string, at: (seconds: number) => string): { sessionId: string; dir: string } {
  const data = path.join(dir, 'opencode');
  fs.mkdirSync(data, { recursive: true });
  const ms = (s: number) => Date.parse(at(s));
  const sid = openCodeId('ses', ms(0));
  const project = crypto.createHash('sha1').update(cwd).digest('hex');
  const user = openCodeId('msg', ms(1));
  const asst = openCodeId('msg', ms(5));
  const model = { providerID: 'demo', modelID: 'demo-model' };
  const prompt = 'Add a median() helper in stats.js. It must reject empty or non-array input with a clear error, and must not mutate its argument.';
  const part = (id: string, message: string, s: number, data: Record<string, unknown>) => ({ table: 'part' as const, row: { id, message_id: message, session_id: sid, time_created: ms(s), time_updated: ms(s), data: JSON.stringify(data) } });
  plantRows(path.join(data, 'opencode.db'), [
    { table: 'project', row: { id: project, worktree: cwd, vcs: 'git', time_created: ms(0), time_updated: ms(0), sandboxes: '[]' } },
    { table: 'session', row: { id: sid, project_id: project, slug: 'demo-median', directory: cwd, title: 'Add a median helper', version: '1.18.33', time_created: ms(0), time_updated: ms(9) } },
    { table: 'message', row: { id: user, session_id: sid, time_created: ms(1), time_updated: ms(1), data: JSON.stringify({ role: 'user', time: { created: ms(1) }, agent: 'build', model }) } },
    part(openCodeId('prt', ms(1)), user, 1, { type: 'text', text: prompt }),
    { table: 'message', row: { id: asst, session_id: sid, time_created: ms(5), time_updated: ms(9), data: JSON.stringify({ role: 'assistant', time: { created: ms(5), completed: ms(9) }, parentID: user, ...model, mode: 'build', agent: 'build', path: { cwd, root: cwd } }) } },
    part(openCodeId('prt', ms(5)), asst, 5, { type: 'text', text: 'I\'ll write stats.js with median(): it validates its input, sorts a copy, and averages the two middle values for even lengths.' }),
    part(openCodeId('prt', ms(6)), asst, 6, {
      type: 'tool', callID: 'call_demo_0001', tool: 'write',
      state: { status: 'completed', input: { filePath: file, content }, output: 'Wrote file successfully.', title: path.basename(file), metadata: { filepath: file, exists: false }, time: { start: ms(6), end: ms(7) } },
    }),
    part(openCodeId('prt', ms(9)), asst, 9, { type: 'text', text: 'Done: stats.js exports median().' }),
  ]);
  return { sessionId: sid, dir: data };
}
