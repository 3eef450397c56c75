import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../test/helpers/machine.js';
import { generateCorpus } from './generate.js';
import { fmt, median, timed } from './util.js';

/** Issue 4: what a user feels on `git push` with the hooks installed. */
export async function benchHooks(): Promise<string> {
  const m = new Machine('bench-hooks');
  const env = { ...m.vars } as Record<string, string>;
  const bare = path.join(m.home, 'remote.git');
  m.git(m.home, 'init', '-q', '--bare', bare);
  const repo = m.initRepo(path.join(m.home, 'repo'));
  m.git(repo, 'remote', 'add', 'origin', bare);
  m.git(repo, 'push', '-q', '-u', 'origin', 'main');
  generateCorpus({ claudeDir: m.claudeDir, codexHome: m.codexHome, cwd: repo, count: 200, minBytes: 5_000, maxBytes: 50_000 });
  await timed('git', ['lore', 'sync', 'setup'], { cwd: repo, env: { ...env, LORE_PASSPHRASE: 'benchmark passphrase' } });
  await timed('git', ['lore', 'sync', '-q'], { cwd: repo, env });
  let n = 0;
  const commit = () => {
    n += 1;
    fs.writeFileSync(path.join(repo, `f${n}.txt`), `${n}\n`);
    m.git(repo, 'add', '.');
    m.git(repo, 'commit', '-qm', `c${n}`);
  };
  const withHooks: number[] = [];
  const without: number[] = [];
  const withSession: number[] = [];
  const RUNS = Number(process.env.BENCH_RUNS) || 11;
  for (let i = 0; i < RUNS; i++) {
    await timed('git', ['lore', 'hooks', 'uninstall'], { cwd: repo, env });
    commit();
    without.push((await timed('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env })).ms);
    await timed('git', ['lore', 'hooks', 'install'], { cwd: repo, env });
    commit();
    withHooks.push((await timed('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env })).ms);
    if (i < 5) {
      const extra = path.join(m.home, `extra-${i}`);
      generateCorpus({ claudeDir: extra, codexHome: path.join(extra, 'codex'), cwd: repo, count: 1, minBytes: 20_000, maxBytes: 20_001, seed: 500 + i });
      fs.cpSync(extra, m.claudeDir, { recursive: true });
      commit();
      withSession.push((await timed('git', ['push', '-q', 'origin', 'main'], { cwd: repo, env })).ms);
    }
  }
  const a = median(without);
  const b = median(withHooks);
  const c = median(withSession);
  return [
    '### Hooks (issue 4)',
    '',
    `\`git push\` of one new commit to a bare remote on disk, store of 200 sessions; hooks uninstalled and installed alternately, ${RUNS} runs each:`,
    '',
    '| | median | |',
    '|---|---|---|',
    `| push, hooks uninstalled | ${fmt(a)} | baseline |`,
    `| push, hooks installed, nothing new to sync | ${fmt(b)} | **+${fmt(b - a)}** (target <= +150 ms) |`,
    `| push, hooks installed, one new session to send | ${fmt(c)} | +${fmt(c - a)} |`,
    '',
  ].join('\n');
}
