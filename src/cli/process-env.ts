import type { Env, Sink } from '../env.js';
import { LoreError } from '../errors.js';

/**
 * A reader that stopped reading (`git lore blame f | head -1`) ends the command quietly, as git
 * does: no stack trace, exit 0. A closed stderr only stops the messages.
 */
export function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/** Builds the Env from the real process: the only place that reads `process`. */
export function processEnv(): Env {
  quietOnClosedPipe();
  const sink = (s: NodeJS.WriteStream): Sink => ({ write: (t: string) => void s.write(t), isTTY: Boolean(s.isTTY) });
  return {
    cwd: process.cwd(),
    vars: { ...process.env },
    stdout: sink(process.stdout),
    stderr: sink(process.stderr),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    now: () => new Date(),
    prompt: askTerminal,
    ...(process.argv[1] ? { self: [process.execPath, process.argv[1]] } : {}),
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

