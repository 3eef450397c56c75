import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../test/helpers/machine.js';
import { fmt, median, timed } from './util.js';

/** Issue 5: clone, fetch and push of a 2,000-commit repository through lore:: against the plain URL. */
export async function benchRemote(): Promise<string> {
  const m = new Machine('bench-remote');
  const env = { ...m.vars } as Record<string, string>;
  const src = m.initRepo(path.join(m.home, 'src'));
  // 2,000 commits, fast: one fast-import stream.
  const chunks: string[] = [];
  for (let i = 1; i <= 2000; i++) {
    const content = `line ${i}\n`.repeat(1 + (i % 20));
    chunks.push(`commit refs/heads/main\ncommitter Bench <b@example.invalid> ${1767225600 + i} +0000\ndata 9\ncommit ${String(i).padStart(1)}\n${i === 1 ? 'from refs/heads/main^0\n' : ''}M 100644 inline file${i % 50}.txt\ndata ${content.length}\n${content}\n`);
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: src, env, input: chunks.join('').replace(/data 9\ncommit (\d+)\n/g, (_, n: string) => `data ${`commit ${n}`.length}\ncommit ${n}\n`) });
  const bare = path.join(m.home, 'origin.git');
  execFileSync('git', ['clone', '-q', '--bare', src, bare], { env });
  const count = execFileSync('git', ['rev-list', '--count', 'main'], { cwd: bare, env }).toString().trim();
  const RUNS = Number(process.env.BENCH_RUNS) || 5;
  const res = { clone: { plain: [] as number[], lore: [] as number[] }, fetch: { plain: [] as number[], lore: [] as number[] }, push: { plain: [] as number[], lore: [] as number[] } };
  for (let i = 0; i < RUNS; i++) {
    for (const kind of ['plain', 'lore'] as const) {
      // file:// for both: with a bare path, plain git clones by hard-linking objects instead of
      // transferring a pack, which no real remote does.
      const url = kind === 'lore' ? `lore::file://${bare}` : `file://${bare}`;
      const dir = path.join(m.home, `${kind}-${i}`);
      res.clone[kind].push((await timed('git', ['clone', '-q', url, dir], { cwd: m.home, env })).ms);
      res.fetch[kind].push((await timed('git', ['fetch', '-q', 'origin'], { cwd: dir, env })).ms);
      fs.writeFileSync(path.join(dir, `new-${kind}-${i}.txt`), 'x\n');
      execFileSync('git', ['add', '.'], { cwd: dir, env });
      execFileSync('git', ['commit', '-qm', `push ${kind} ${i}`], { cwd: dir, env });
      execFileSync('git', ['fetch', '-q', 'origin'], { cwd: dir, env });
      execFileSync('git', ['rebase', '-q', 'origin/main'], { cwd: dir, env });
      res.push[kind].push((await timed('git', ['push', '-q', 'origin', 'HEAD:main'], { cwd: dir, env })).ms);
    }
  }
  const rows = (['clone', 'fetch', 'push'] as const).map((op) => {
    const p = median(res[op].plain);
    const l = median(res[op].lore);
    const target = 1.3 * p + 150;
    return `| ${op} | ${fmt(p)} | ${fmt(l)} | ${(l / p).toFixed(2)}x | ${fmt(target)} -> **${l <= target ? 'met' : 'missed'}** |`;
  });
  return [
    '### Remote helper (issue 5)',
    '',
    `A ${count}-commit repository in a bare remote on disk (file:// URL), no sessions to move; plain URL and \`lore::\` alternately, medians of ${RUNS}:`,
    '',
    '| | plain | lore:: | ratio | target 1.3x + 150 ms |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
