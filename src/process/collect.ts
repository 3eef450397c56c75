import type { ChildProcess } from 'node:child_process';

/** What a finished child gives. */
export interface RunResult {
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: string;
  failed: boolean;
}

/**
 * Collects a child's stdout and stderr (when piped) until it closes; a start failure ('error')
 * is appended to stderr. Never rejects. Shared by the spawner (src/process/spawn.ts) and the
 * launcher's early find (src/process/early-find.ts), which must not load the debug logger:
 * nothing here but node's types.
 */
export function collect(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    let spawnError: Error | null = null;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code) => {
      const exitCode = code ?? undefined;
      const stderr = Buffer.concat(err).toString('utf8') + (spawnError ? String(spawnError) : '');
      resolve({ exitCode, stdout: Buffer.concat(out), stderr, failed: exitCode !== 0 });
    });
  });
}

/** The result of a child that could not be started at all. */
export const notStarted = (err: unknown): RunResult => ({ exitCode: undefined, stdout: Buffer.alloc(0), stderr: String(err), failed: true });
