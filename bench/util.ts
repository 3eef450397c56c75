import type { Machine } from '../test/helpers/machine.js';
import path from 'node:path';
import { spawn } from 'node:child_process';

/** Runs a command and returns its wall time in milliseconds; throws on a non-zero exit. */
export function timed(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<{ ms: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

/** A machine's repository whose origin is one bare remote (lore), beside a second bare remote (plain git). */
export function remotesFor(m: Machine): { bareLore: string; barePlain: string; repo: string } {
  const bareLore = path.join(m.home, 'lore.git');
  const barePlain = path.join(m.home, 'plain.git');
  m.git(m.home, 'init', '-q', '--bare', bareLore);
  m.git(m.home, 'init', '-q', '--bare', barePlain);
  const repo = m.initRepo(path.join(m.home, 'repo'));
  m.git(repo, 'remote', 'add', 'origin', bareLore);
  m.git(repo, 'push', '-q', 'origin', 'main');
  return { bareLore, barePlain, repo };
}
