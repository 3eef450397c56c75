import { processEnv } from './process-env.js';
import { runHelper, streamReader } from '../remote/helper.js';
import { toLoreError } from '../errors.js';
import { log } from '../log.js';
import { humanSink } from './output.js';

/** Entry point of bin/git-remote-lore: stdout carries the protocol only; everything else goes to stderr. */
export async function main(argv: string[]): Promise<void> {
  const env = { ...processEnv(), prompt: undefined as never };
  // stderr is for people: credentials redacted, no control characters (stdout is the protocol's).
  const stderr = humanSink({ isTTY: false, write: (t) => void process.stderr.write(t) });
  try {
    await runHelper(
      {
        env,
        reader: streamReader(process.stdin),
        write: (t) => void process.stdout.write(t),
        warn: (l) => stderr.write(`${l}\n`),
      },
      argv,
    );
    exit(0);
  } catch (raw) {
    const err = toLoreError(raw);
    log.remote('failed: %O', raw);
    stderr.write(`fatal: ${err.message}\n`);
    if (err.hint) stderr.write(`hint: ${err.hint}\n`);
    exit(128);
  }
}

/** Exits once stdout is flushed: the stdin reader would otherwise keep the process alive. */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}
