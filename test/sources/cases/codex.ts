import path from 'node:path';
import { CODEX_CWD, CODEX_FIXTURE, FIXTURES, copyRewritten } from '../../helpers/machine.js';
import type { ConformanceCase } from './types.js';

export const codexCase: ConformanceCase = {
  tool: 'codex',
  fixtures: 'codex',
  edited: '019aad50-a7e6-7422-b7a8-0b384290624f',
  place(m, repo) {
    const file = path.join(m.codexHome, 'sessions', '2025', '11', '22', CODEX_FIXTURE);
    copyRewritten(path.join(FIXTURES, 'codex', CODEX_FIXTURE), file, [[CODEX_CWD, repo]]);
    return [{ id: '019aad50-a7e6-7422-b7a8-0b384290624f', files: [file] }];
  },
};
