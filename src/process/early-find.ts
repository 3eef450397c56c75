import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './child-env.js';
import { collect, notStarted, type RunResult } from './collect.js';

type Refable = { ref?: () => void; unref?: () => void };

/**
 * Starts `find argv` (cwd /, LC_ALL=C, the usual child environment) and collects its output.
 * Not through spawn.ts's run (it shares collect.ts with it): this runs in the launcher before
 * the CLI bundle, and spawn.ts would load the debug logger with it. The child does not keep the
 * process alive until `keep` is called (by the capture that takes its result): a command that
 * exits without capturing does not wait for it (the orphan ends at its first write to the closed
 * pipe). `result` never rejects.
 */
export function startFind(argv: readonly string[], vars: Readonly<Record<string, string | undefined>>): { result: Promise<RunResult>; keep(): void } {
  let child: ChildProcess | null = null;
  let result: Promise<RunResult>;
  try {
    const c = spawn('find', argv, { cwd: '/', env: childEnv(vars, { LC_ALL: 'C' }), stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    result = collect(c);
    // The stdio pipes are sockets (net.Socket has ref/unref; the Readable type does not say so).
    c.unref();
    (c.stdout as unknown as Refable).unref?.();
    (c.stderr as unknown as Refable).unref?.();
  } catch (e) {
    result = Promise.resolve(notStarted(e));
  }
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
