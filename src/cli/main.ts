import yargs, { type Argv } from 'yargs';
import type { Env, Sink } from '../env.js';
import { LoreError, UsageError, toLoreError } from '../errors.js';
import { LoreContext } from '../core/context.js';
import { log } from '../log.js';
import { commands } from './commands/index.js';

/** Builds the Env from the real process: the only place that reads `process`. */
export function processEnv(): Env {
  const sink = (s: NodeJS.WriteStream): Sink => ({ write: (t: string) => void s.write(t), isTTY: Boolean(s.isTTY) });
  return {
    cwd: process.cwd(),
    vars: { ...process.env },
    stdout: sink(process.stdout),
    stderr: sink(process.stderr),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    now: () => new Date(),
    prompt: askTerminal,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Reads one line from the terminal; hidden input echoes nothing (passphrases). */
function askTerminal(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    if (!hidden || !stdin.isTTY) {
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          stdin.off('data', onData);
          stdin.pause();
          resolve(buf.slice(0, nl).replace(/\r$/, ''));
        }
      };
      stdin.on('data', onData);
      stdin.resume();
      return;
    }
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.off('data', onData);
          stdin.pause();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
          reject(new LoreError('interrupted', { hint: 'Nothing was written.' }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Runs one command line; returns the exit code. The one catch of git-lore lives here. */
export async function runCli(argv: string[], env: Env): Promise<number> {
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
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg ?? 'invalid usage', { hint: 'See `git lore --help`.' });
    });
  for (const cmd of commands(ctx, env.readStdin ?? (async () => ''))) parser = parser.command(cmd);
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
    env.stderr.write(`git-lore: ${err.message}\n`);
    if (err.hint) env.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  } finally {
    ctx.close();
  }
}

/** Entry point used by bin/git-lore. */
export async function main(argv: string[]): Promise<void> {
  const env = processEnv();
  const code = await runCli(argv, env);
  process.exitCode = code;
}

export { LoreError };
