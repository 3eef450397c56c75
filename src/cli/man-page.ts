import { memorySink, type Env } from '../env.js';
import { pathToFileURL } from 'node:url';
import { runCli } from './main.js';

/**
 * Prints a man page (roff) built from `git lore --help`, so that `git lore --help` (which git
 * turns into `man git-lore`) shows the same text. Run by install.sh.
 */
/** Columns of the help text in the page. */
export const MAN_COLUMNS = 72;

export async function manPage(): Promise<string> {
  const stdout = memorySink();
    // 78 columns: man indents the verbatim block, and a page must fit an 80-column terminal.
  const env: Env = { cwd: process.cwd(), vars: { ...process.env, NO_COLOR: '1' }, stdout, stderr: memorySink(), stdinIsTTY: false, now: () => new Date(), columns: MAN_COLUMNS };
  await runCli(['--help'], env);
  const help = stdout.text();
  const esc = (l: string) => l.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  return [
    '.TH GIT-LORE 1 "" "git-lore" "Git Manual"',
    '.SH NAME',
    'git-lore \\- AI agent sessions next to the code, encrypted, in git',
    '.SH SYNOPSIS',
    '.nf',
    ...help.split('\n').map(esc),
    '.fi',
    '.SH SEE ALSO',
    'README.md and docs/ in the git-lore checkout; git lore <command> -h',
    '',
  ].join('\n');
}

// Run as a script by install.sh (node dist/src/cli/man-page.js); imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(await manPage());
