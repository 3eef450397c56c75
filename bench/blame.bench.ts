import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../test/helpers/machine.js';
import { generateCorpus } from './generate.js';
import { fmt, median, timed } from './util.js';

/** Issue 6: `git lore blame` of a 2,000-line file with 5,000 sessions in the store, against git blame. */
export async function benchBlame(): Promise<string> {
  const m = new Machine('bench-blame');
  const env = { ...m.vars } as Record<string, string>;
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const sessions = Number(process.env.BENCH_BLAME_SESSIONS) || 5000;
  const files = [...Array.from({ length: 39 }, (_, i) => `src/module${i}/file${i}.ts`), 'src/big.ts'];
  generateCorpus({ claudeDir: m.claudeDir, codexHome: m.codexHome, cwd: repo, count: sessions, minBytes: 2_000, maxBytes: 12_000, seed: 11, files });
  await timed('git', ['lore', 'import'], { cwd: repo, env });
  // The file: lines the sessions added to it, interleaved with people's lines, built over 100 commits.
  const ctx = m.ctx(repo);
  const added: string[] = [];
  try {
    for (const row of ctx.db.editsOfFile('src/big.ts')) added.push(...(JSON.parse(row.added_json) as string[]));
  } finally {
    ctx.close();
  }
  const lines: string[] = [];
  let a = 0;
  for (let i = 0; lines.length < 2000; i++) lines.push(i % 4 === 3 || a >= added.length ? `  const person_${i} = ${i}; // written by hand` : added[a++]!);
  const big = path.join(repo, 'src', 'big.ts');
  fs.mkdirSync(path.dirname(big), { recursive: true });
  for (let c = 1; c <= 100; c++) {
    fs.writeFileSync(big, `${lines.slice(0, c * 20).join('\n')}\n`);
    const when = new Date(Date.UTC(2026, 1, 1) + c * 60_000).toISOString();
    execFileSync('git', ['add', '-A'], { cwd: repo, env: { ...env } });
    execFileSync('git', ['commit', '-qm', `grow ${c}`], { cwd: repo, env: { ...env, GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when } });
  }
  const gitTimes: number[] = [];
  const loreTimes: number[] = [];
  let attributed = 0;
  for (let i = 0; i < 7; i++) {
    gitTimes.push((await timed('git', ['blame', '--porcelain', 'src/big.ts'], { cwd: repo, env })).ms);
    const r = await timed('git', ['lore', 'blame', '--json', 'src/big.ts'], { cwd: repo, env });
    loreTimes.push(r.ms);
    attributed = (JSON.parse(r.stdout).lines as Array<{ session: unknown }>).filter((l) => l.session).length;
  }
  const g = median(gitTimes);
  const l = median(loreTimes);
  return [
    '### Blame (issue 6)',
    '',
    `A 2,000-line file built over 100 commits; ${sessions} sessions in the store (edits over 40 files, ${added.length} lines added to this one); ${attributed} lines attributed to sessions. Medians of 7 alternating runs:`,
    '',
    '| | median |',
    '|---|---|',
    `| \`git blame --porcelain src/big.ts\` | ${fmt(g)} |`,
    `| \`git lore blame --json src/big.ts\` | ${fmt(l)} |`,
    `| target: 1.5 x git blame + 150 ms | ${fmt(1.5 * g + 150)} -> **${l <= 1.5 * g + 150 ? 'met' : 'missed'}** |`,
    '',
  ].join('\n');
}
