import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, copyRewritten } from '../../helpers/machine.js';
import { aiderSessionId } from '../../../src/sources/aider.js';
import type { ConformanceCase } from './types.js';

/** Aider's two history files at the root of the test repository (they ran in /Users/abdulalkawasmeh/metadata-aider). */
export const aiderCase: ConformanceCase = {
  tool: 'aider',
  fixtures: 'aider',
  get edited() {
    return aiderSessionId(fs.readFileSync(path.join(FIXTURES, 'aider', '.aider.chat.history.md'), 'utf8'))!;
  },
  get edits() {
    // Counted by hand: SEARCH/REPLACE blocks whose file a later `> Applied edit to` names before the
    // next input (the `mkdir` fences are shell commands, not blocks): see docs/agents/aider.md.
    return { [this.edited]: AIDER_FIXTURE_EDITS };
  },
  freeText: 'the chat history is Markdown: a bad line is more text, not a malformed record',
  place(_m, repo) {
    const src = path.join(FIXTURES, 'aider');
    const rep: Array<[string, string]> = [['/Users/abdulalkawasmeh/metadata-aider', repo]];
    const files = ['.aider.chat.history.md', '.aider.input.history'].map((f) => {
      copyRewritten(path.join(src, f), path.join(repo, f), rep);
      return path.join(repo, f);
    });
    return [{ id: this.edited, files }];
  },
};

/** 24 SEARCH/REPLACE blocks in 12 replies, each file named by a later `> Applied edit to` line. */
const AIDER_FIXTURE_EDITS = 24;
