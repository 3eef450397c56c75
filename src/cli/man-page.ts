import { memorySink, type Env } from '../env.js';
import { runCli } from './main.js';

/**
 * Prints a man page (roff) built from `git lore --help`, so that `git lore --help` (which git
 * turns into `man git-lore`) shows the same text. Run by install.sh.
 */
async function manPage(): Promise<string> {
  const stdout = memorySink();
  const env: Env = { cwd: process.cwd(), vars: { ...process.env, NO_COLOR: '1' }, stdout, stderr: memorySink(), stdinIsTTY: false, now: () => new Date() };
  await runCli(['--help'], env);
  const help = stdout.text();
  const esc = (l: string) => l.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  return [
    '.TH GIT-LORE 1 "" "git-lore" "Git Manual"',
    '.SH NAME',
    'git-lore \\- keep the reasoning behind code (AI agent sessions) next to the code, encrypted, in git',
    '.SH SYNOPSIS',
    '.nf',
    ...help.split('\n').map(esc),
    '.fi',
    '.SH SEE ALSO',
    'README.md and docs/ in the git-lore checkout; git lore <command> -h',
    '',
  ].join('\n');
}

process.stdout.write(await manPage());
