import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Git } from '../src/git/git.js';
import { Machine } from '../test/helpers/machine.js';
import { fmt, median, timed } from './util.js';

/**
 * Issue 19: what `git lore log` pays for exact paths. Baseline, in the same run: the `git log -p`
 * the text parser used to read. Measured: the new command alone (`--raw -z` adds the raw records
 * and pins options), and `logPatches` whole (that command plus parsing it in this process).
 */
export async function benchLog(): Promise<string> {
  const m = new Machine('bench-log');
  const env = { ...m.vars } as Record<string, string>;
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const commits = Number(process.env.BENCH_LOG_COMMITS) || 200;
  const names = Array.from({ length: 10 }, (_, i) => (i % 2 ? `src/dir ${i}/café ${i}.ts` : `src/module${i}/file${i}.ts`));
  for (let c = 1; c <= commits; c++) {
    for (const [i, n] of names.entries()) {
      const file = path.join(repo, n);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, Array.from({ length: 20 }, (_, k) => `  const v${c}_${i}_${k} = ${c * k}; // line ${k} of commit ${c}\n`).join(''));
    }
    execFileSync('git', ['add', '-A'], { cwd: repo, env });
    execFileSync('git', ['commit', '-qm', `commit ${c}`], { cwd: repo, env });
  }
  const git = new Git(m.env(repo), repo);
  const oldArgs = ['log', '--format=%x01%H%x00%ct%x00%s', '-p', '--unified=0', '--no-color', '--no-ext-diff', '-M', `-n${commits}`, '--end-of-options', 'HEAD', '--'];
  const newArgs = ['log', '-z', '--format=%x01%H%x00%ct%x00%s', '--encoding=UTF-8', '--no-show-signature', '--raw', '--no-abbrev', '-p', '--unified=0', '-M', '--diff-merges=off', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--submodule=short', '--src-prefix=a/', '--dst-prefix=b/', `--max-count=${commits}`, '--end-of-options', 'HEAD', '--'];
  const oldTimes: number[] = [];
  const newTimes: number[] = [];
  const wholeTimes: number[] = [];
  let lines = 0;
  for (let i = 0; i < 7; i++) {
    oldTimes.push((await timed('git', oldArgs, { cwd: repo, env })).ms);
    newTimes.push((await timed('git', newArgs, { cwd: repo, env })).ms);
    const start = process.hrtime.bigint();
    const log = await git.logPatches('HEAD', { max: commits });
    wholeTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
    lines = log.reduce((n, k) => n + k.files.reduce((f, x) => f + x.added.length, 0), 0);
  }
  const base = median(oldTimes);
  return [
    `## log (${commits} commits x 10 files x 20 added lines = ${lines} lines; median of 7)`,
    '',
    'Command: `npm run bench -- log`.',
    '',
    '| what | time | vs. baseline |',
    '|---|---|---|',
    `| baseline: the old \`git log -p -U0\` (git alone) | ${fmt(base)} | 1.00x |`,
    `| the new \`git log --raw -z -p -U0 ...\` (git alone) | ${fmt(median(newTimes))} | ${(median(newTimes) / base).toFixed(2)}x |`,
    `| \`logPatches\`: the new command + parsing | ${fmt(median(wholeTimes))} | ${(median(wholeTimes) / base).toFixed(2)}x |`,
  ].join('\n');
}
