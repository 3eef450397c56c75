import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../../helpers/machine.js';
import type { ConformanceCase } from './types.js';

/** The fixtures ran on Windows in C:\Github\poule_v2 (and D:\…): their root is rewritten to the test's repository. */
export const copilotCliCase: ConformanceCase = {
  tool: 'copilot-cli',
  fixtures: 'copilot',
  edited: 'd5b1506c-19d6-4e6a-818c-89a50c48bb34',
  // 7 create + 4 edit calls, of which 2 creates failed ("Parent directory does not exist").
  edits: { 'd5b1506c-19d6-4e6a-818c-89a50c48bb34': 9, '07c40cd0-ff51-4d6e-bdcd-ac2f90877203': 0 },
  place(m, repo) {
    const src = path.join(FIXTURES, 'copilot', 'session-state');
    const dst = path.join(m.home, '.copilot', 'session-state');
    const out = [];
    for (const id of fs.readdirSync(src).sort()) {
      const files: string[] = [];
      const visit = (rel: string) => {
        for (const e of fs.readdirSync(path.join(src, id, rel), { withFileTypes: true })) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) visit(r);
          else {
            const text = fs.readFileSync(path.join(src, id, r), 'utf8');
            // The Windows root as JSON writes it (`C:\\Github\\poule_v2`) and as YAML does.
            const root = /"cwd":\s*"([^"]+)"/.exec(text)?.[1] ?? /^cwd: (.*)$/m.exec(text)?.[1];
            let out = text;
            if (root) out = out.split(root).join(repo).split(root.replace(/\\\\/g, '\\')).join(repo);
            fs.mkdirSync(path.dirname(path.join(dst, id, r)), { recursive: true });
            fs.writeFileSync(path.join(dst, id, r), out);
            files.push(path.join(dst, id, r));
          }
        }
      };
      visit('');
      out.push({ id, files });
    }
    return out;
  },
};
