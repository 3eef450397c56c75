import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { Machine, claudeProjectDir } from '../test/helpers/machine.js';
import { TranscriptGenerator } from './generate.js';
import { fmt, median, remotesFor, timed } from './util.js';

const PASS = { LORE_PASSPHRASE: 'benchmark passphrase' };
const MiB = 1024 * 1024;

const num = (name: string, dflt: number) => Number(process.env[name]) || dflt;
const mib = (b: number) => `${(b / MiB).toFixed(2)} MiB`;
const kb = (b: number) => `${(b / 1000).toFixed(0)} KB`;
const met = (ok: boolean) => (ok ? '**met**' : '**missed**');

/**
 * How a command's peak memory is read. `/usr/bin/time -f %M` reports the maximum resident set of
 * the process it waits for *and of every descendant that was waited for* (Linux folds children's
 * maxrss into the parent's rusage), so for `git lore sync` it is the largest single process of the
 * tree: git, the git-lore node process, or one of the git children it runs. The node process's own
 * figure comes from a `--require` probe (NODE_OPTIONS) that writes `process.resourceUsage().maxRSS`
 * at exit; it removes its variable at start, so node processes started below it write nothing.
 * Without /usr/bin/time, python3's getrusage(RUSAGE_CHILDREN) gives the same tree-wide figure.
 */
class RssMeter {
  readonly probe: string;
  readonly out: string;
  readonly how: string;
  private readonly wrapper: string[];
  constructor(dir: string) {
    this.probe = path.join(dir, 'rss-probe.cjs');
    this.out = path.join(dir, 'rss-probe.out');
    fs.writeFileSync(
      this.probe,
      `const f = process.env.LORE_BENCH_RSS_FILE;
if (f) {
  delete process.env.LORE_BENCH_RSS_FILE;
  process.on('exit', () => require('fs').writeFileSync(f, String(process.resourceUsage().maxRSS)));
}
`,
    );
    if (fs.existsSync('/usr/bin/time')) {
      this.wrapper = ['/usr/bin/time', '-f', '@@maxrss %M %U %S'];
      this.how = "`/usr/bin/time -f '%M %U %S'`";
    } else {
      this.wrapper = ['python3', '-c', 'import resource,subprocess,sys\nc=subprocess.run(sys.argv[1:]).returncode\nu=resource.getrusage(resource.RUSAGE_CHILDREN)\nsys.stderr.write("@@maxrss %d %.2f %.2f\\n" % (u.ru_maxrss, u.ru_utime, u.ru_stime))\nsys.exit(c)'];
      this.how = "python3's `resource.getrusage(RUSAGE_CHILDREN)`";
    }
  }

  /** Runs a command; returns its wall time, the CPU time (user + sys) of its tree, and the peak RSS (bytes) of the tree and of the first node process. */
  async run(args: string[], cwd: string, env: Record<string, string>): Promise<{ ms: number; cpuMs: number; treeRss: number; nodeRss: number }> {
    fs.rmSync(this.out, { force: true });
    const nodeOptions = [env.NODE_OPTIONS, `--require ${this.probe}`].filter(Boolean).join(' ');
    const r = await timed(this.wrapper[0]!, [...this.wrapper.slice(1), ...args], { cwd, env: { ...env, NODE_OPTIONS: nodeOptions, LORE_BENCH_RSS_FILE: this.out } });
    const m = /@@maxrss (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
    const nodeKiB = fs.existsSync(this.out) ? Number(fs.readFileSync(this.out, 'utf8')) : NaN;
    return { ms: r.ms, cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN, treeRss: m ? Number(m[1]) * 1024 : NaN, nodeRss: nodeKiB * 1024 };
  }
}

/** Bytes of everything under a repository's objects folder (loose objects, packs, indexes), and the loose count. */
function objectsSize(gitDir: string): { bytes: number; loose: number } {
  let bytes = 0;
  let loose = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        bytes += fs.statSync(p).size;
        if (/^[0-9a-f]{2}$/.test(path.basename(dir))) loose++;
      }
    }
  };
  walk(path.join(gitDir, 'objects'));
  return { bytes, loose };
}

/** A machine with a lore repository whose origin is a bare remote, and a plain repository whose origin is another. */
function setupMachine(name: string): { m: Machine; env: Record<string, string>; repo: string; bareLore: string; plain: string; barePlain: string } {
  const m = new Machine(name);
  const env = { ...m.vars } as Record<string, string>;
  const { bareLore, barePlain, repo } = remotesFor(m);
  const plain = m.initRepo(path.join(m.home, 'plain'));
  m.git(plain, 'remote', 'add', 'origin', barePlain);
  m.git(plain, 'push', '-q', 'origin', 'main');
  return { m, env, repo, bareLore, plain, barePlain };
}

/** Packs a bare remote as a host would: `git gc`, then `git repack -ad` if loose objects are left. */
function pack(m: Machine, bare: string): { bytes: number; loose: number; repacked: boolean } {
  m.git(bare, 'gc', '-q');
  let size = objectsSize(bare);
  let repacked = false;
  if (size.loose > 0) {
    m.git(bare, 'repack', '-adq');
    size = objectsSize(bare);
    repacked = true;
  }
  return { ...size, repacked };
}

/** Issue 14: what a growing session costs format 1 (remote size, sync time, memory), against plain git in the same run. */
export async function benchGrowth(): Promise<string> {
  const steps = num('BENCH_GROWTH_STEPS', 20);
  const stepBytes = num('BENCH_GROWTH_STEP_KB', 114) * 1000;
  const bigBytes = num('BENCH_BIG_MB', 68) * 1e6;
  const repeat = num('BENCH_BIG_REPEAT', 3);
  const loadStart = os.loadavg()[0]!;
  const id1 = '6f1e2d3c-0000-4000-8000-000000000014';
  const id2 = '6f1e2d3c-0000-4000-8000-000000000068';

  // (1) One session grown in `steps` appends, `git lore sync -q` after each; plain git commits and pushes the same file.
  const a = setupMachine('bench-growth');
  await timed('git', ['lore', 'sync', 'setup'], { cwd: a.repo, env: { ...a.env, ...PASS } });
  const gen1 = new TranscriptGenerator(14, { id: id1, cwd: a.repo });
  const file1 = path.join(claudeProjectDir(a.m.claudeDir, a.repo), `${id1}.jsonl`);
  fs.mkdirSync(path.dirname(file1), { recursive: true });
  const plainFile = path.join(a.plain, 'session.jsonl');
  const meterA = new RssMeter(a.m.home);
  const loreMs: number[] = [];
  const loreCpu: number[] = [];
  const plainMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const piece = gen1.chunk(stepBytes);
    fs.appendFileSync(file1, piece);
    fs.appendFileSync(plainFile, piece);
    const r = await meterA.run(['git', 'lore', 'sync', '-q'], a.repo, a.env);
    loreMs.push(r.ms);
    loreCpu.push(r.cpuMs);
    plainMs.push((await timed('sh', ['-c', `git add -A && git commit -qm 'step ${i + 1}' && git push -q origin main`], { cwd: a.plain, env: a.env })).ms);
  }
  const text1 = fs.readFileSync(file1);
  const ratio1 = text1.length / zlib.deflateSync(text1).length;
  const lorePacked = pack(a.m, a.bareLore);
  const plainPacked = pack(a.m, a.barePlain);
  const sizeRatio = lorePacked.bytes / plainPacked.bytes;
  const k = Math.min(3, Math.floor(steps / 2));
  const early = median(loreMs.slice(0, k));
  const late = median(loreMs.slice(-k));
  const lateTarget = 2 * early + 150;

  // (2) A big session: first sync, then one appended line, against a sync with nothing to do.
  const b = setupMachine('bench-growth-big');
  const rss = new RssMeter(b.m.home);
  await timed('git', ['lore', 'sync', 'setup'], { cwd: b.repo, env: { ...b.env, ...PASS } });
  const gen2 = new TranscriptGenerator(68, { id: id2, cwd: b.repo });
  const file2 = path.join(claudeProjectDir(b.m.claudeDir, b.repo), `${id2}.jsonl`);
  fs.mkdirSync(path.dirname(file2), { recursive: true });
  const genStart = Date.now();
  const fd = fs.openSync(file2, 'w');
  let written = 0;
  while (written < bigBytes) written += fs.writeSync(fd, gen2.chunk(Math.min(1e6, bigBytes - written)));
  fs.closeSync(fd);
  const genMs = Date.now() - genStart;
  const sample = fs.readFileSync(file2).subarray(0, 8e6);
  const ratio2 = sample.length / zlib.deflateSync(sample).length;

  const sync = ['git', 'lore', 'sync', '-q'];
  const first = await rss.run(sync, b.repo, b.env);
  const remoteAfterFirst = objectsSize(b.bareLore).bytes;
  const appends: Array<{ ms: number; treeRss: number; nodeRss: number; added: number; line: number }> = [];
  const noops: Array<{ ms: number; treeRss: number; nodeRss: number }> = [];
  noops.push(await rss.run(sync, b.repo, b.env));
  for (let i = 0; i < repeat; i++) {
    const line = `${gen2.reply()}\n`;
    const before = objectsSize(b.bareLore).bytes;
    fs.appendFileSync(file2, line);
    const r = await rss.run(sync, b.repo, b.env);
    appends.push({ ...r, added: objectsSize(b.bareLore).bytes - before, line: Buffer.byteLength(line) });
    noops.push(await rss.run(sync, b.repo, b.env));
  }
  // (3) The big session read back: restore writes its native file again (deleted first, so all
  // of it is written), show prints its transcript (to /dev/null). Both should stream.
  const digest = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const want = digest(file2);
  fs.rmSync(file2);
  const restore = await rss.run(['git', 'lore', 'restore', id2], b.repo, b.env);
  const restoredSame = fs.existsSync(file2) && digest(file2) === want;
  const show = await rss.run(['sh', '-c', `git lore show ${id2} > /dev/null`], b.repo, b.env);
  // BENCH_BASELINE_BIN: the same two commands with another build (its bin/ folder), same store.
  const baselineBin = process.env.BENCH_BASELINE_BIN ? path.resolve(process.env.BENCH_BASELINE_BIN) : null;
  let baseline: { restore: typeof restore; show: typeof show; same: boolean } | null = null;
  if (baselineBin) {
    const env = { ...b.env, PATH: `${baselineBin}:${b.env.PATH}` };
    fs.rmSync(file2);
    const r = await rss.run(['git', 'lore', 'restore', id2], b.repo, env);
    baseline = { restore: r, same: fs.existsSync(file2) && digest(file2) === want, show: await rss.run(['sh', '-c', `git lore show ${id2} > /dev/null`], b.repo, env) };
  }
  const med = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
  const appendMs = med(appends, (x) => x.ms);
  const noopMs = med(noops, (x) => x.ms);
  const added = med(appends, (x) => x.added);
  const appendNode = med(appends, (x) => x.nodeRss);
  const appendTree = med(appends, (x) => x.treeRss);
  const appendTimeTarget = 3 * noopMs + 300;
  const list = (xs: number[], f: (n: number) => string) => xs.map(f).join(', ');

  const lines = [
    '### Store format 2 (issue 14)',
    '',
    `(1) one Claude Code session grown in ${steps} appends of ~${kb(stepBytes)} to ${(text1.length / 1e6).toFixed(2)} MB (${text1.length} bytes; the generated text compresses ${ratio1.toFixed(2)}:1 with zlib), \`git lore sync -q\` after each, to a bare remote on disk; baseline: plain git \`add -A && commit && push\` of the same file after each append, to another bare remote. Both remotes then \`git gc -q\`${lorePacked.repacked || plainPacked.repacked ? ` and, where loose objects were left, \`git repack -adq\` (lore: ${lorePacked.repacked ? 'yes' : 'no'}, plain: ${plainPacked.repacked ? 'yes' : 'no'})` : ' (no loose objects left in either)'}; size = every file under objects/.`,
    '',
    `(2) one Claude Code session of ${(written / 1e6).toFixed(1)} MB (${written} bytes, same generator, seed 68, compresses ${ratio2.toFixed(2)}:1 on its first 8 MB; generated in ${fmt(genMs)}): the first \`git lore sync -q\` (capture, encrypt, push: no \`git lore import\` before, so the figure is what a user waits for), then ${repeat} rounds of: append ONE assistant-reply line (${list(appends.map((x) => x.line), (n) => `${n}`)} bytes), \`git lore sync -q\`, then \`git lore sync -q\` with nothing changed (plus one no-op before the first round); medians. Bytes added = growth of the bare remote's objects folder (loose objects and packs) across the append sync.`,
    '',
    `(3) the same big session read back after (2): \`git lore restore <id>\` with its native file deleted first (so every byte is written; checked byte-identical by SHA-256), and \`git lore show <id>\` to /dev/null (issue 14: no command holds a whole session in memory).`,
    '',
    `Peak RSS: the git-lore node process's own maximum (a \`--require\` probe writing \`process.resourceUsage().maxRSS\`), and the largest process of the command's tree by ${rss.how}, which also gives the CPU time (user + sys) of the tree, steadier than wall time on a loaded machine.`,
    `Load average (1 min) at the start / end of the run: ${loadStart.toFixed(1)} / ${os.loadavg()[0]!.toFixed(1)} (${os.cpus().length} cores).`,
    `Sizes: BENCH_GROWTH_STEPS=${steps}, BENCH_GROWTH_STEP_KB=${stepBytes / 1000}, BENCH_BIG_MB=${bigBytes / 1e6}, BENCH_BIG_REPEAT=${repeat}.`,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    `| (1) lore remote after gc | ${lorePacked.bytes} bytes (${mib(lorePacked.bytes)}) | |`,
    `| (1) plain git remote after gc | ${plainPacked.bytes} bytes (${mib(plainPacked.bytes)}) | |`,
    `| (1) remote size, lore / plain git | **${sizeRatio.toFixed(2)}x** | <= 1.5x ${met(sizeRatio <= 1.5)} |`,
    `| (1) sync, steps 1-${k} (median) | ${fmt(early)} (${list(loreMs.slice(0, k), fmt)}) | |`,
    `| (1) sync, steps ${steps - k + 1}-${steps} (median) | ${fmt(late)} (${list(loreMs.slice(-k), fmt)}) = ${(late / early).toFixed(2)}x steps 1-${k} | <= 2x + 150 ms = ${fmt(lateTarget)} ${met(late <= lateTarget)} |`,
    `| (1) sync CPU time (user + sys of the tree), steps 1-${k} / ${steps - k + 1}-${steps} (median) | ${fmt(median(loreCpu.slice(0, k)))} / ${fmt(median(loreCpu.slice(-k)))} = ${(median(loreCpu.slice(-k)) / median(loreCpu.slice(0, k))).toFixed(2)}x | |`,
    `| (1) plain git commit + push, steps 1-${k} / ${steps - k + 1}-${steps} (median) | ${fmt(median(plainMs.slice(0, k)))} / ${fmt(median(plainMs.slice(-k)))} | |`,
    `| (2) first sync of the big session | ${fmt(first.ms)} | |`,
    `| (2) no-op sync (median of ${noops.length}) | ${fmt(noopMs)} | |`,
    `| (2) sync after appending one line (median of ${appends.length}) | **${fmt(appendMs)}** = ${(appendMs / noopMs).toFixed(1)}x no-op | <= 3x no-op + 300 ms = ${fmt(appendTimeTarget)} ${met(appendMs <= appendTimeTarget)} |`,
    `| (2) bytes added to the remote by that sync (median; ${list(appends.map((x) => x.added), mib)}) | **${mib(added)}** | <= 1 MiB ${met(added <= MiB)} |`,
    `| (2) remote after the first sync | ${mib(remoteAfterFirst)} | |`,
    `| (2) peak RSS, git-lore node process: first / append sync | **${(first.nodeRss / MiB).toFixed(0)} / ${(appendNode / MiB).toFixed(0)} MiB** | <= 300 / 200 MiB ${met(first.nodeRss <= 300 * MiB && appendNode <= 200 * MiB)} |`,
    `| (2) peak RSS, largest process of the tree: first / append sync | ${(first.treeRss / MiB).toFixed(0)} / ${(appendTree / MiB).toFixed(0)} MiB | <= 300 / 200 MiB ${met(first.treeRss <= 300 * MiB && appendTree <= 200 * MiB)} |`,
    `| (2) peak RSS, node / tree, no-op sync (median) | ${(med(noops, (x) => x.nodeRss) / MiB).toFixed(0)} / ${(med(noops, (x) => x.treeRss) / MiB).toFixed(0)} MiB | |`,
    `| (3) \`git lore restore\` of the big session (native file deleted first; written back ${restoredSame ? 'byte-identical' : '**NOT byte-identical**'}) | ${fmt(restore.ms)}, peak RSS node / tree **${(restore.nodeRss / MiB).toFixed(0)} / ${(restore.treeRss / MiB).toFixed(0)} MiB** | <= 200 MiB ${met(restoredSame && restore.nodeRss <= 200 * MiB && restore.treeRss <= 200 * MiB)} |`,
    `| (3) \`git lore show\` of the big session (to /dev/null) | ${fmt(show.ms)}, peak RSS node / tree **${(show.nodeRss / MiB).toFixed(0)} / ${(show.treeRss / MiB).toFixed(0)} MiB** | <= 200 MiB ${met(show.nodeRss <= 200 * MiB && show.treeRss <= 200 * MiB)} |`,
    ...(baseline ? [
      `| (3) baseline build (${baselineBin}): restore (${baseline.same ? 'byte-identical' : 'NOT byte-identical'}) / show | ${fmt(baseline.restore.ms)}, ${(baseline.restore.nodeRss / MiB).toFixed(0)} / ${(baseline.restore.treeRss / MiB).toFixed(0)} MiB / ${fmt(baseline.show.ms)}, ${(baseline.show.nodeRss / MiB).toFixed(0)} / ${(baseline.show.treeRss / MiB).toFixed(0)} MiB | |`,
    ] : []),
    '',
  ];
  return lines.join('\n');
}
