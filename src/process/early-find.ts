import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './child-env.js';

type Refable = { ref?: () => void; unref?: () => void };

/** What a `find` started early gives: as src/process/spawn.ts's RunResult. */
export interface EarlyResult {
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: string;
  failed: boolean;
}

/**
 * Starts `find argv` (cwd /, LC_ALL=C, the usual child environment) and collects its output.
 * Not through spawn.ts: this runs in the launcher before the CLI bundle, and spawn.ts would load
 * the debug logger with it. The child does not keep the process alive until `keep` is called (by
 * the capture that takes its result): a command that exits without capturing does not wait for
 * it (the orphan ends at its first write to the closed pipe). `result` never rejects.
 */
export function startFind(argv: readonly string[], vars: Readonly<Record<string, string | undefined>>): { result: Promise<EarlyResult>; keep(): void } {
  let child: ChildProcess | null = null;
  const result = new Promise<EarlyResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let failed = false;
    try {
      const c = spawn('find', argv, { cwd: '/', env: childEnv(vars, { LC_ALL: 'C' }), stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout.on('data', (d: Buffer) => out.push(d));
      c.stderr.on('data', (d: Buffer) => err.push(d));
      c.on('error', () => (failed = true));
      c.on('close', (code) => resolve({ exitCode: code ?? undefined, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), failed: failed || code !== 0 }));
      // The stdio pipes are sockets (net.Socket has ref/unref; the Readable type does not say so).
      c.unref();
      (c.stdout as unknown as Refable).unref?.();
      (c.stderr as unknown as Refable).unref?.();
    } catch (e) {
      resolve({ exitCode: undefined, stdout: Buffer.alloc(0), stderr: String(e), failed: true });
    }
  });
  return {
    result,
    keep() {
      const c = child as ChildProcess | null;
      if (!c) return;
      c.ref();
      (c.stdout as unknown as Refable | null)?.ref?.();
      (c.stderr as unknown as Refable | null)?.ref?.();
    },
  };
}
