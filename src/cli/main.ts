import yargs, { type Argv } from 'yargs';
import type { EarlyFind, Env } from '../env.js';
import { processEnv } from './process-env.js';
import { UsageError, toLoreError } from '../errors.js';
import { LoreContext } from '../core/context.js';
import { log } from '../log.js';
import { commands } from './commands/index.js';
import { humanSink } from './output.js';
import { startPager, wantsPager, type Pager } from './pager.js';
import { Git } from '../git/git.js';
import { loreVersion } from '../core/version.js';

/**
 * Runs one command line; returns the exit code. The one catch of git-lore lives here. Everything
 * written to stdout and stderr goes through `humanSink` (credentials redacted, no control
 * characters; no ESC byte at all when the sink is not a terminal). On a terminal, long human
 * output goes through git's pager, and colours follow `NO_COLOR`, `--no-color` and `color.ui`.
 */
export async function runCli(argv: string[], rawEnv: Env): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    rawEnv.stdout.write(`git-lore version ${loreVersion()}\n`);
    return 0;
  }
  let vars = rawEnv.vars;
  // Colours: NO_COLOR and --no-color win; then git's color.ui (only asked on a terminal). The
  // formatters read NO_COLOR, so "off" is passed down as that.
  if (rawEnv.stdout.isTTY && !vars.NO_COLOR) {
    const off = argv.includes('--no-color') || !(await new Git(rawEnv, rawEnv.cwd).colorBool('color.ui', true));
    if (off) vars = { ...vars, NO_COLOR: '1' };
  }
  let pager: Pager | null = null;
  if (wantsPager(argv, rawEnv.stdout)) pager = await startPager(rawEnv);
  const stdout = pager ? pager.sink : rawEnv.stdout;
  const env: Env = { ...rawEnv, vars, stdout: humanSink(stdout), stderr: humanSink(rawEnv.stderr) };
  const ctx = new LoreContext(env);
  let parser: Argv = yargs(argv)
    .scriptName('git lore')
    .usage('git lore <command> [options]\n\nKeeps the reasoning behind code (AI agent sessions) next to the code, encrypted, in git.')
    .example('git lore sessions', 'list the agent sessions of this repository')
    .strict()
    .demandCommand(1, 'Name a command; `git lore --help` lists them.')
    .recommendCommands()
    .exitProcess(false)
    .help()
    .alias('h', 'help')
    .version(false)
    .option('version', { type: 'boolean', describe: 'Print git-lore\'s version (`git lore --version`)' })
    .option('pager', { type: 'boolean', default: true, describe: 'Page long output on a terminal (git\'s pager rules; --no-pager to turn off)' })
    .option('color', { type: 'boolean', default: true, describe: 'Colours on a terminal (--no-color, NO_COLOR or color.ui=never to turn off)' })
    .wrap(Math.min(100, env.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? usageError(msg ?? 'invalid usage', argv, list);
    });
  const list = commands(ctx, env.readStdin ?? (async () => ''));
  for (const cmd of list) parser = parser.command(cmd);
  skipHelpCache(parser);
  try {
    // A parse callback makes yargs hand over help text instead of printing it itself.
    let helpText = '';
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) helpText = output;
    });
    if (helpText) env.stdout.write(`${helpText}\n`);
    return 0;
  } catch (raw) {
    const err = toLoreError(raw);
    log.main('failed: %O', raw);
    if (err.message) env.stderr.write(`git-lore: ${err.message}\n`);
    if (err.hint) env.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  } finally {
    ctx.close();
    await pager?.close();
  }
}

/**
 * yargs' usage complaints, reworded to name the argument at fault and the command's help:
 * "show: missing <id>", "unknown option --bogus", "unexpected argument extra".
 */
export function usageError(msg: string, argv: readonly string[], list: ReadonlyArray<{ command?: string | readonly string[] }>): UsageError {
  const words = argv.filter((a) => !a.startsWith('-'));
  const declared = list.map((c) => String(c.command ?? '')).find((c) => c.split(' ')[0] === words[0]);
  const name = declared ? `git lore ${declared.split(' ')[0]}` : 'git lore';
  const hint = `See \`${name} --help\`.`;
  if (/^Not enough non-option arguments/.test(msg)) {
    if (!declared) return new UsageError('name a command', { hint: 'See `git lore --help`.' });
    const wanted = declared.split(' ').filter((w) => w.startsWith('<'));
    // A subcommand (config get, sync setup, ...) that misses its own argument: its help says which.
    if (words.length > 1 || !wanted.length) return new UsageError(`${words.slice(0, 2).join(' ')}: a required argument is missing`, { hint: `See \`git lore ${words.slice(0, 2).join(' ')} --help\`.` });
    return new UsageError(`${words[0]}: missing ${wanted.join(' ')}`, { hint: `Usage: git lore ${declared}; see \`${name} --help\`.` });
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const parts = unknown[1]!.split(', ').map((u) => {
      const dashed = [`--${u}`, `-${u}`].find((d) => argv.some((a) => a === d || a.startsWith(`${d}=`)));
      return dashed ? `unknown option ${dashed}` : `unexpected argument ${u}`;
    });
    return new UsageError(parts.join('; '), { hint });
  }
  return new UsageError(msg, { hint });
}

/**
 * yargs renders the chosen command's whole help text after starting its handler, in case the
 * handler later asks for it; git-lore never does (usage errors are thrown and reported with a
 * hint), and the rendering cost ~20 ms of every command. The hook is internal to yargs: if a
 * later version lacks it, nothing changes but the time.
 */
function skipHelpCache(parser: Argv): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } | undefined } };
  const usage = (parser as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

/** Entry point used by bin/git-lore. */
export async function main(argv: string[], earlyFind?: EarlyFind): Promise<void> {
  const env = { ...processEnv(), ...(earlyFind ? { earlyFind } : {}) };
  const code = await runCli(argv, env);
  process.exitCode = code;
}

