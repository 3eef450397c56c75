import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Machine } from '../test/helpers/machine.js';
import { userLine, uuid } from '../test/helpers/repos.js';
import { claudeProjectDir } from '../test/helpers/machine.js';
import { generateCorpus } from './generate.js';
import { fmt, median, timed } from './util.js';

/** Wall and CPU (user + system) seconds of a command, from bash's `time`: CPU is what the index adds, and it does not depend on the other load of a shared machine. */
function cpuTimed(args: string[], cwd: string, env: Record<string, string>): { wall: number; cpu: number } {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%R %U %S"; time "$@" >/dev/null', 'bash', ...args], { cwd, env });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString()}`);
  const [wall, user, sys] = r.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { wall: wall * 1000, cpu: (user + sys) * 1000 };
}

/**
 * Issue 18: (a) first-import throughput with the search index and without it (LORE_SEARCH_INDEX=0),
 * alternating, into fresh stores, same corpus, same run; (b) `git lore search` in a store of
 * 10,000 sessions against the process start-up (`git-lore --help`) in the same run.
 */
export async function benchSearch(): Promise<string> {
  const bin = path.join(process.cwd(), 'bin/git-lore');
  // (a) import with and without the index.
  const m = new Machine('bench-search-import');
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const count = Number(process.env.BENCH_SESSIONS) || 1000;
  const corpus = generateCorpus({ claudeDir: m.claudeDir, codexHome: m.codexHome, cwd: repo, count });
  const mb = corpus.bytes / 1e6;
  execFileSync('sync');
  const runs = Number(process.env.BENCH_RUNS) || 3;
  const withIdx: Array<{ wall: number; cpu: number }> = [];
  const without: Array<{ wall: number; cpu: number }> = [];
  for (let i = 0; i < runs; i++) {
    for (const on of i % 2 ? [true, false] : [false, true]) {
      const home = path.join(m.home, `lore-${on ? 'on' : 'off'}-${i}`);
      (on ? withIdx : without).push(cpuTimed(['node', bin, 'import'], repo, { ...m.vars, LORE_HOME: home, LORE_SEARCH_INDEX: on ? '1' : '0' }));
      execFileSync('sync');
    }
  }
  // What the capture left pending, indexed by the first search (a word no message holds).
  const catchUp = cpuTimed(['node', bin, 'search', '--all', '--json', 'commit'], repo, { ...m.vars, LORE_HOME: path.join(m.home, 'lore-on-0') });
  const dbSize = (on: boolean) => fs.statSync(path.join(m.home, `lore-${on ? 'on' : 'off'}-0`, 'lore.db')).size / 1e6;
  const onWall = median(withIdx.map((x) => x.wall));
  const offWall = median(without.map((x) => x.wall));
  const onCpu = median(withIdx.map((x) => x.cpu));
  const offCpu = median(without.map((x) => x.cpu));

  // (b) search over 10,000 sessions.
  const s = new Machine('bench-search-query');
  const repo2 = s.initRepo(path.join(s.home, 'repo'));
  const big = Number(process.env.BENCH_BIG_SESSIONS) || 10000;
  generateCorpus({ claudeDir: s.claudeDir, codexHome: s.codexHome, cwd: repo2, count: big - 3, minBytes: 2_000, maxBytes: 20_000, seed: 7 });
  // Three sessions that hold the phrase a person looks for; the corpus's prose is a 50-word vocabulary.
  const proj = claudeProjectDir(s.claudeDir, repo2);
  for (let i = 1; i <= 3; i++) {
    const id = uuid(i, 'f');
    fs.writeFileSync(path.join(proj, `${id}.jsonl`), `${userLine(id, repo2, `n${i}`, `why does the exponential backoff retry loop flake in CI, take ${i}`, i)}\n`);
  }
  const env = { ...s.vars };
  const imp = await timed('node', [bin, 'import'], { cwd: repo2, env });
  // The first search indexes what the import left pending.
  const first = cpuTimed(['node', bin, 'search', '--json', 'backoff'], repo2, env);
  const startup: number[] = [];
  const capture: number[] = [];
  const rare: number[] = [];
  const common: number[] = [];
  let rareHits = 0;
  let commonHits = 0;
  let commonTruncated = false;
  for (let i = 0; i < 9; i++) {
    startup.push((await timed('node', [bin, '--help'], { cwd: repo2, env })).ms);
    // The capture every search starts with, alone (nothing changed: the listing of 10,000 files).
    capture.push((await timed('node', [bin, 'import'], { cwd: repo2, env })).ms);
    const r = await timed('node', [bin, 'search', '--json', 'backoff retry'], { cwd: repo2, env });
    rare.push(r.ms);
    rareHits = JSON.parse(r.stdout).results.length;
    const c = await timed('node', [bin, 'search', '--json', 'commit merge'], { cwd: repo2, env });
    common.push(c.ms);
    commonHits = JSON.parse(c.stdout).results.length;
    commonTruncated = JSON.parse(c.stdout).truncated === true;
  }
  const su = median(startup);
  const sql = (q: string) => execFileSync('node', ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{readonly:true});console.log(d.prepare(process.argv[2]).pluck().get())`, path.join(env.LORE_HOME!, 'lore.db'), q], { cwd: process.cwd() }).toString().trim();
  const rows = sql('select count(*) from message_text');
  const commonMatches = sql(`select count(*) from message_fts where message_fts match '"commit" "merge"'`);
  const bigDb = fs.statSync(path.join(env.LORE_HOME!, 'lore.db')).size / 1e6;
  return [
    '### Search (issue 18)',
    '',
    `(a) Corpus: ${corpus.count} generated sessions (as in the import benchmark), ${mb.toFixed(1)} MB; first imports into empty stores, alternating, ${runs} each.`,
    '',
    '| | wall, median | CPU, median | runs (wall / CPU) | lore.db |',
    '|---|---|---|---|---|',
    `| \`git lore import\`, index off (\`LORE_SEARCH_INDEX=0\`) | ${fmt(offWall)} = ${(mb / (offWall / 1000)).toFixed(1)} MB/s | ${fmt(offCpu)} | ${without.map((x) => `${fmt(x.wall)} / ${fmt(x.cpu)}`).join(', ')} | ${dbSize(false).toFixed(1)} MB |`,
    `| \`git lore import\`, index on | ${fmt(onWall)} = ${(mb / (onWall / 1000)).toFixed(1)} MB/s | ${fmt(onCpu)} | ${withIdx.map((x) => `${fmt(x.wall)} / ${fmt(x.cpu)}`).join(', ')} | ${dbSize(true).toFixed(1)} MB |`,
    `| throughput drop with the index (wall; CPU) | **${(((onWall - offWall) / onWall) * 100).toFixed(1)}%; ${(((onCpu - offCpu) / onCpu) * 100).toFixed(1)}%** | | | target <= 15% |`,
    `| the indexing itself, paid by the first search after that import | ${fmt(catchUp.wall)} = ${(mb / (catchUp.wall / 1000)).toFixed(1)} MB/s | ${fmt(catchUp.cpu)} | | |`,
    '',
    `(b) A store of ${big} sessions (2-20 KB each, ${rows} indexed texts, lore.db ${bigDb.toFixed(1)} MB; import ${fmt(imp.ms)}, then the first search, which indexed them all: ${fmt(first.wall)}, CPU ${fmt(first.cpu)}); medians of 9 alternating runs:`,
    '',
    '| | median | beyond start-up | target |',
    '|---|---|---|---|',
    `| process start-up (\`git-lore --help\`) | ${fmt(su)} | | |`,
    `| \`git lore import\`, nothing changed (the capture a search starts with) | ${fmt(median(capture))} | ${fmt(median(capture) - su)} | |`,
    `| \`git lore search --json 'backoff retry'\` (${rareHits} results) | ${fmt(median(rare))} | **${fmt(median(rare) - su)}** | <= 150 ms |`,
    `| \`git lore search --json 'commit merge'\` (${commonMatches} matching texts; ${commonHits} results, truncated: ${commonTruncated}) | ${fmt(median(common))} | **${fmt(median(common) - su)}** | <= 150 ms |`,
    '',
  ].join('\n');
}
