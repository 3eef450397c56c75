import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Machine } from '../test/helpers/machine.js';
import { generateCorpus, plantEveryAgent } from './generate.js';
import { fmt, median, timed } from './util.js';

/** Issue 2: first import throughput and the cost of an unchanged re-import. */
export async function benchImport(): Promise<string> {
  const m = new Machine('bench-import');
  const repo = m.initRepo(path.join(m.home, 'repo'));
  const count = Number(process.env.BENCH_SESSIONS) || 1000;
  const corpus = generateCorpus({ claudeDir: m.claudeDir, codexHome: m.codexHome, cwd: repo, count });
  // Every other source too (small sessions): an unchanged re-import lists all their folders.
  const others = plantEveryAgent({ cwd: repo, vars: m.vars }, repo, Number(process.env.BENCH_PER_AGENT) || 100);
  const env = { ...m.vars } as Record<string, string>;
  const mb = corpus.bytes / 1e6;

  // Three first imports into fresh stores; the generator's 332 MB of writes are flushed first
  // (coreutils sync) so that the disk's writeback is not charged to the import.
  execFileSync('sync');
  const firsts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const home = i === 2 ? env.LORE_HOME! : path.join(m.home, `lore-first-${i}`);
    firsts.push((await timed('git', ['lore', 'import'], { cwd: repo, env: { ...env, LORE_HOME: home } })).ms);
    execFileSync('sync');
  }
  const first = { ms: median(firsts) };
  const rerun: number[] = [];
  const startup: number[] = [];
  for (let i = 0; i < 7; i++) {
    startup.push((await timed('node', [path.join(process.cwd(), 'bin/git-lore'), '--help'], { cwd: repo, env })).ms);
    rerun.push((await timed('node', [path.join(process.cwd(), 'bin/git-lore'), 'import'], { cwd: repo, env })).ms);
  }
  // OpenCode's database touched (its mtime moves, as when OpenCode starts) with no session
  // changed: capture opens it, stamps every session (no message or part data read), exports none.
  const opencodeDb = path.join(m.home, '.local', 'share', 'opencode', 'opencode.db');
  const touched: number[] = [];
  for (let i = 0; i < 7 && fs.existsSync(opencodeDb); i++) {
    const t = new Date(Date.now() + (i + 1) * 1000);
    fs.utimesSync(opencodeDb, t, t);
    touched.push((await timed('node', [path.join(process.cwd(), 'bin/git-lore'), 'import'], { cwd: repo, env })).ms);
  }
  const dbBytes = fs.statSync(path.join(m.vars.LORE_HOME!, 'lore.db')).size;
  const reMed = median(rerun);
  const suMed = median(startup);
  return [
    `### Import (issue 2)`,
    ``,
    `Corpus: ${corpus.count} generated sessions (half Claude Code, half Codex; 5 KB to 2 MB, log-uniform), ${mb.toFixed(1)} MB, plus ${others.count} small sessions of ${others.tools.join(', ')} (every source that can plant one). lore.db afterwards: ${(dbBytes / 1e6).toFixed(1)} MB.`,
    ``,
    `| measure | result | target |`,
    `|---|---|---|`,
    `| first import (\`git lore import\` into an empty store, wall, median of 3: ${firsts.map((t) => (mb / (t / 1000)).toFixed(1)).join(', ')} MB/s) | ${fmt(first.ms)} = **${(mb / (first.ms / 1000)).toFixed(1)} MB/s** | >= 40 MB/s |`,
    `| unchanged re-import (\`git-lore import\`, median of 7) | ${fmt(reMed)} | |`,
    `| process start-up baseline (\`git-lore --help\`, median of 7, same run) | ${fmt(suMed)} | |`,
    `| re-import beyond start-up | **${fmt(reMed - suMed)}** | < 150 ms |`,
    ...(touched.length ? [`| re-import after OpenCode's database was touched, no session changed (median of 7) | ${fmt(median(touched))} = start-up + ${fmt(median(touched) - suMed)} | |`] : []),
    ``,
  ].join('\n');
}
