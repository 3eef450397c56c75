import { spawn } from 'node:child_process';
import type { Machine } from './machine.js';

/** Single-quotes a word for sh. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `git lore <args>` on a pseudo-terminal (util-linux `script`), the way a user at a terminal
 * does: stdin, stdout and stderr are the terminal. `steps` are typed in order, each once the
 * screen shows its `after` text (so raw-mode keys reach the prompt, not the line discipline).
 * Returns the exit code and everything the terminal showed (CRLF turned into LF).
 */
export function inTerminal(
  m: Machine,
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; steps?: Array<{ after: string | RegExp; type: string }>; timeoutMs?: number },
): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...m.vars, TERM: 'xterm', ...(opts.env ?? {}) })) if (v !== undefined) env[k] = v;
    const cmd = ['git', 'lore', ...args].map(shq).join(' ');
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let shown = 0;
    const steps = [...(opts.steps ?? [])];
    const next = () => {
      while (steps.length) {
        const s = steps[0]!;
        const seen = screen.slice(shown);
        const at = typeof s.after === 'string' ? seen.indexOf(s.after) : seen.search(s.after);
        if (at < 0) return;
        shown += at + 1;
        steps.shift();
        child.stdin.write(s.type);
      }
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; the terminal showed:\n${screen}`));
    }, opts.timeoutMs ?? 60000);
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString('utf8');
      next();
    });
    child.stderr.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n') });
    });
  });
}
