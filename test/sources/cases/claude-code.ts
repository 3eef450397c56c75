import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, FIXTURE_CWDS, claudeProjectDir, copyRewritten } from '../../helpers/machine.js';
import type { ConformanceCase } from './types.js';

export const claudeCodeCase: ConformanceCase = {
  tool: 'claude-code',
  fixtures: 'claude-code',
  edited: '5c0375b4-57a5-4f26-b12d-d022ee4e51b7',
  place(m, repo) {
    const src = path.join(FIXTURES, 'claude-code');
    return Object.entries(FIXTURE_CWDS).map(([id, cwd]) => {
      const proj = claudeProjectDir(m.claudeDir, repo);
      const files = [path.join(proj, `${id}.jsonl`)];
      copyRewritten(path.join(src, `${id}.jsonl`), files[0]!, [[cwd, repo]]);
      const sub = path.join(src, id, 'subagents');
      if (fs.existsSync(sub)) {
        for (const f of fs.readdirSync(sub)) {
          files.push(path.join(proj, id, 'subagents', f));
          copyRewritten(path.join(sub, f), files.at(-1)!, [[cwd, repo]]);
        }
      }
      return { id, files };
    });
  },
};
