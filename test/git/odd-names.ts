import fs from 'node:fs';
import path from 'node:path';
import { Git } from '../../src/git/git.js';
import { Machine } from '../helpers/machine.js';

/**
 * File names that break parsers of git's human output: spaces (and git's trailing tab after them
 * in patches), quotes, backslashes, newlines, tabs, non-ASCII (quoted as octal under
 * core.quotePath), leading dashes (options), `--` itself, a name that looks like a diff header, and a glob
 * (pathspecs must be literal).
 */
export const ODD_NAMES = [
  'plain.txt',
  'with space.txt',
  'qu"ote.txt',
  'back\\slash.txt',
  'new\nline.txt',
  'ta\tb.txt',
  'café.txt',
  'ünïcødé dir/naïve 名前.txt',
  '-leading-dash.txt',
  '--',
  ' lead and trail ',
  'diff --git a b',
  '"quoted".txt',
  '*.txt',
];

/** A repository on its own machine (HOME, global config) and a Git handle on it. */
export function oddRepo(name = 'git'): { m: Machine; dir: string; git: Git } {
  const m = new Machine(name);
  const dir = m.initRepo(path.join(m.home, 'repo'));
  return { m, dir, git: new Git(m.env(dir), dir) };
}

/** Writes `content` to each name (creating folders) and commits them all. */
export function commitFiles(m: Machine, dir: string, files: Record<string, string>, message: string): string {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  m.git(dir, 'add', '-A');
  m.git(dir, 'commit', '-q', '-m', message);
  return m.git(dir, 'rev-parse', 'HEAD').trim();
}
