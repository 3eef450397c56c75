import type { Env, Sink } from '../env.js';
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
    promptSecret: askSecret,
    ...(process.argv[1] ? { self: [process.execPath, process.argv[1]] } : {}),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Reads one line from the terminal; hidden input echoes nothing (passphrases). */
async function askTerminal(question: string, hidden: boolean): Promise<string> {
  if (!hidden || !process.stdin.isTTY) return askLine(question);
  // For callers that want text; passphrases go through askSecret and stay bytes.
  const bytes = await askSecret(question);
  try {
    return bytes.toString('utf8');
  } finally {
    bytes.fill(0);
  }
}

/** One visible line from stdin. */
function askLine(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
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
  });
}

/**
 * A hidden line from the terminal in raw mode, as bytes: each chunk read is fed to the editor
 * byte by byte and zeroed, so the secret exists only in the editor's buffer and in the Buffer
 * returned (the caller zeroes it). Without a terminal: as a visible line (stdin piped).
 */
function askSecret(question: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return askLine(question).then((l) => Buffer.from(l, 'utf8'));
  return new Promise((resolve, reject) => {
    const editor = new HiddenLine();
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (d: Buffer) => {
      try {
        for (const b of d) {
          const r = editor.keyByte(b);
          if (r === 'enter') return finish(() => resolve(editor.take()));
          if (r === 'interrupt') return finish(() => (editor.wipe(), reject(new InterruptedError())));
          if (r === 'eof') {
            return finish(() => reject(new LoreError('no passphrase was typed (end of input); nothing was written', { hint: 'Run the command again and type the passphrase, or set LORE_PASSPHRASE_FILE.' })));
          }
        }
      } finally {
        d.fill(0);
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

/** The longest secret the hidden prompt takes, in bytes (more is ignored, as a terminal's line limit would). */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The line editing of a hidden prompt, as ssh-keygen and gpg (readpassphrase, the tty's own
 * keys) do it: Backspace deletes a character, Ctrl-U the whole line, Ctrl-W a word; Ctrl-D on an
 * empty line ends the input; Ctrl-C interrupts; escape sequences (arrow keys) are ignored.
 * It works on bytes, into a Buffer that is zeroed whenever it is dropped or grown: a passphrase
 * typed here never becomes a JS string (`take()` hands the bytes over; `value` is for tests).
 */
export class HiddenLine {
  private buf = Buffer.alloc(256);
  private len = 0;
  private escape: '' | 'esc' | 'csi' = '';

  /** What was typed so far, as text (tests only: a string cannot be wiped). */
  get value(): string {
    return this.buf.toString('utf8', 0, this.len);
  }

  /** The typed bytes, handed over (the caller zeroes them); the editor is wiped. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.wipe();
    return out;
  }

  /** Zeroes everything typed. */
  wipe(): void {
    this.buf.fill(0);
    this.len = 0;
  }

  /** One key given as text (each of its UTF-8 bytes in turn). */
  key(ch: string): 'enter' | 'interrupt' | 'eof' | null {
    let r: 'enter' | 'interrupt' | 'eof' | null = null;
    for (const b of Buffer.from(ch, 'utf8')) r = this.keyByte(b) ?? r;
    return r;
  }

  keyByte(b: number): 'enter' | 'interrupt' | 'eof' | null {
    if (this.escape === 'esc') {
      this.escape = b === 0x5b || b === 0x4f ? 'csi' : '';
      return null;
    }
    if (this.escape === 'csi') {
      if (b >= 0x40 && b <= 0x7e) this.escape = '';
      return null;
    }
    switch (b) {
      case 0x0d:
      case 0x0a:
        return 'enter';
      case 0x03:
        return 'interrupt';
      case 0x04:
        return this.len ? null : 'eof';
      case 0x7f:
      case 0x08:
        // One character: its UTF-8 continuation bytes (10xxxxxx) and the byte that starts it.
        while (this.len && (this.buf[this.len - 1]! & 0xc0) === 0x80) this.buf[--this.len] = 0;
        if (this.len) this.buf[--this.len] = 0;
        return null;
      case 0x15:
        this.wipe();
        return null;
      case 0x17: {
        const space = (x: number) => x === 0x20 || x === 0x09;
        while (this.len && space(this.buf[this.len - 1]!)) this.buf[--this.len] = 0;
        while (this.len && !space(this.buf[this.len - 1]!)) this.buf[--this.len] = 0;
        return null;
      }
      case 0x1b:
        this.escape = 'esc';
        return null;
      default:
        // Other control characters are not part of a passphrase.
        if (b < 0x20 || this.len >= MAX_SECRET_BYTES) return null;
        if (this.len === this.buf.length) {
          const bigger = Buffer.alloc(Math.min(this.buf.length * 2, MAX_SECRET_BYTES));
          this.buf.copy(bigger);
          this.buf.fill(0);
          this.buf = bigger;
        }
        this.buf[this.len++] = b;
        return null;
    }
  }
}
