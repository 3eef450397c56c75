import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, copyRewritten } from '../../helpers/machine.js';
import { cursorSlug } from '../../../src/sources/cursor.js';
import type { ConformanceCase } from './types.js';

/** Legacy `.txt` transcripts of a workspace at /Users/kylemathewson/microgptJS, moved to the test's repository. */
export const cursorCase: ConformanceCase = {
  tool: 'cursor',
  fixtures: 'cursor',
  edited: 'a94a00bd-86be-576a-8227-8ebba42eb833',
  // a94a00bd: 23 Write + 6 StrReplace calls (Cursor records no results: all count).
  // bd955982: 11 Write + 9 StrReplace.
  edits: { 'a94a00bd-86be-576a-8227-8ebba42eb833': 29, 'bd955982-3765-5625-a00b-e844f38f85e8': 20 },
  freeText: 'legacy .txt transcripts are free text: a bad line is more text, not a malformed record',
  place(m, repo) {
    const src = path.join(FIXTURES, 'cursor', 'projects', 'Users-kylemathewson-microgptJS', 'agent-transcripts');
    const dst = path.join(m.home, '.cursor', 'projects', cursorSlug(repo), 'agent-transcripts');
    return fs.readdirSync(src).sort().map((name) => {
      copyRewritten(path.join(src, name), path.join(dst, name), [['/Users/kylemathewson/microgptJS', repo]]);
      return { id: name.slice(0, 36), files: [path.join(dst, name)] };
    });
  },
};
