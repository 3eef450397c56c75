import type { Env, Sink } from '../env.js';
import { StringDecoder } from 'node:string_decoder';
import { InterruptedError, LoreError } from '../errors.js';

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
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
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
    if (!hidden || !stdin.isTTY) {
      process.stderr.write(question);
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
    const editor = new HiddenLine();
    const decoder = new StringDecoder('utf8');
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (d: Buffer) => {
      for (const ch of decoder.write(d)) {
        const r = editor.key(ch);
        if (r === 'enter') return finish(() => resolve(editor.value));
        if (r === 'interrupt') return finish(() => reject(new InterruptedError()));
        if (r === 'eof') {
          return finish(() => reject(new LoreError('no passphrase was typed (end of input); nothing was written', { hint: 'Run the command again and type the passphrase, or set LORE_PASSPHRASE_FILE.' })));
        }
      }
    };
    // Raw mode before the prompt shows: a key typed as soon as it appears must not reach the
    // terminal's own line discipline (which would echo it, or turn Ctrl-C into a signal).
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/**
 * The line editing of a hidden prompt, as ssh-keygen and gpg (readpassphrase, the tty's own
 * keys) do it: Backspace deletes a character, Ctrl-U the whole line, Ctrl-W a word; Ctrl-D on an
 * empty line ends the input; Ctrl-C interrupts; escape sequences (arrow keys) are ignored.
 */
export class HiddenLine {
  value = '';
  private escape: '' | 'esc' | 'csi' = '';

  key(ch: string): 'enter' | 'interrupt' | 'eof' | null {
    if (this.escape === 'esc') {
      this.escape = ch === '[' || ch === 'O' ? 'csi' : '';
      return null;
    }
    if (this.escape === 'csi') {
      if (ch >= '@' && ch <= '~') this.escape = '';
      return null;
    }
    switch (ch) {
      case '\r':
      case '\n':
        return 'enter';
      case '\u0003':
        return 'interrupt';
      case '\u0004':
        return this.value ? null : 'eof';
      case '\u007f':
      case '\b':
        this.value = Array.from(this.value).slice(0, -1).join('');
        return null;
      case '\u0015':
        this.value = '';
        return null;
      case '\u0017':
        this.value = this.value.replace(/\S*\s*$/, '');
        return null;
      case '\u001b':
        this.escape = 'esc';
        return null;
      default:
        // Other control characters are not part of a passphrase.
        if (ch < ' ') return null;
        this.value += ch;
        return null;
    }
  }
}
