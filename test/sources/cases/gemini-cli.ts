import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, copyRewritten } from '../../helpers/machine.js';
import type { ConformanceCase } from './types.js';

/**
 * Gemini CLI 0.29+ layout: `~/.gemini/tmp/<slug>/chats/` with `.project_root` and `projects.json`.
 * The fixtures ran in /home/mischa (relative `file_path`s are relative to it).
 */
export const geminiCliCase: ConformanceCase = {
  tool: 'gemini-cli',
  fixtures: 'gemini',
  edited: '36e8d28f-d561-4a3d-8823-4964a2919723',
  // write_file x5 + replace x2 (all success); the other: 3 successful edits of .desktop files outside the repository.
  edits: { '36e8d28f-d561-4a3d-8823-4964a2919723': 7, '4eb0784d-cdb9-4f59-89a6-fc90a7fabc67': 3 },
  place(m, repo) {
    const root = path.join(m.home, '.gemini');
    const chats = path.join(root, 'tmp', 'proj', 'chats');
    fs.mkdirSync(chats, { recursive: true });
    fs.writeFileSync(path.join(root, 'tmp', 'proj', '.project_root'), repo);
    fs.writeFileSync(path.join(root, 'projects.json'), JSON.stringify({ projects: { [repo]: 'proj' } }));
    const src = path.join(FIXTURES, 'gemini');
    const rep: Array<[string, string]> = [['/home/mischa', repo]];
    const placed = (name: string) => {
      copyRewritten(path.join(src, name), path.join(chats, name), rep);
      return path.join(chats, name);
    };
    return [
      { id: '36e8d28f-d561-4a3d-8823-4964a2919723', files: [placed('session-2025-12-24T06-27-36e8d28f.json'), placed('session-2025-12-24T06-27-36e8d28f.jsonl')] },
      { id: '4eb0784d-cdb9-4f59-89a6-fc90a7fabc67', files: [placed('session-2025-12-28T03-31-4eb0784d.json')] },
    ];
  },
};
