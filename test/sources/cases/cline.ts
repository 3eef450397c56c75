import path from 'node:path';
import { FIXTURES, ROOT, copyRewritten } from '../../helpers/machine.js';
import type { ConformanceCase } from './types.js';

/**
 * Cline's VS Code storage folder (the default under HOME on Linux) with two tasks: the real one of
 * ../shared/fixtures/cline (ui_messages.json only, no edits; it ran in
 * c:/Users/Haram/Desktop/flutter_application_1) and the synthetic task of test/fixtures/cline
 * (api_conversation_history.json with edits, in Cline's exact shapes: see its SOURCES.md), both
 * moved to the test's repository. taskHistory.json is placed too (the index, not bundled).
 */
export const clineCase: ConformanceCase = {
  tool: 'cline',
  fixtures: 'cline',
  edited: '1767700000000',
  // 1767700000000: write_to_file src/stats.js, replace_in_file src/index.js (the second: the first
  // was denied), write_to_file test/stats.test.js as a tool_use block. 1767644899093: no edits.
  edits: { '1767644899093': 0, '1767700000000': 3 },
  place(m, repo) {
    const storage = path.join(m.home, '.config', 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev');
    const real = path.join(FIXTURES, 'cline', 'tasks', '1767644899093', 'ui_messages.json');
    const realDst = path.join(storage, 'tasks', '1767644899093', 'ui_messages.json');
    copyRewritten(real, realDst, [['c:/Users/Haram/Desktop/flutter_application_1', repo]]);
    const synth = path.join(ROOT, 'test', 'fixtures', 'cline');
    const rep: Array<[string, string]> = [['/home/dev/notes-app', repo]];
    const files = ['api_conversation_history.json', 'ui_messages.json'].map((f) => {
      const dst = path.join(storage, 'tasks', '1767700000000', f);
      copyRewritten(path.join(synth, 'tasks', '1767700000000', f), dst, rep);
      return dst;
    });
    copyRewritten(path.join(synth, 'state', 'taskHistory.json'), path.join(storage, 'state', 'taskHistory.json'), rep);
    return [{ id: '1767644899093', files: [realDst] }, { id: '1767700000000', files }];
  },
};
