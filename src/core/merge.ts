import type { NativeFile } from '../store/bundle.js';

/**
 * Merges two versions of one session's native files. Pure and symmetric: merge(a, b) and
 * merge(b, a) give the same files, so machines converge whatever the order in which they sync.
 *
 * Per file path:
 * - present on one side only, or identical: kept;
 * - one is a prefix of the other (the transcript grew): the longer;
 * - JSONL that diverged (continued on two machines): the common prefix of lines, then every other
 *   line of both sides once (keyed by the line's `uuid`, or its whole text when it has none), in
 *   timestamp order; no message of either side is lost;
 * - anything else: deterministic newer-wins, approximated by the larger, then byte-wise greater
 *   content (both sides then pick the same one).
 */
export function mergeBundles(a: NativeFile[], b: NativeFile[]): NativeFile[] {
  const byPath = new Map<string, NativeFile[]>();
  for (const f of [...a, ...b]) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const out: NativeFile[] = [];
  for (const [p, versions] of [...byPath.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (versions.length === 1) {
      out.push(versions[0]!);
      continue;
    }
    const [x, y] = versions as [NativeFile, NativeFile];
    out.push({ path: p, mtimeMs: Math.max(x.mtimeMs, y.mtimeMs), data: mergeFile(p, x.data, y.data) });
  }
  return out;
}

export function mergeFile(p: string, x: Buffer, y: Buffer): Buffer {
  if (x.equals(y)) return x;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (long.subarray(0, short.length).equals(short)) return long;
  if (p.endsWith('.jsonl')) return mergeJsonl(x, y);
  const c = x.length !== y.length ? x.length - y.length : Buffer.compare(x, y);
  return c >= 0 ? x : y;
}

interface Line {
  text: string;
  key: string;
  ts: string;
}

function linesOf(buf: Buffer): { lines: string[]; finalNewline: boolean } {
  const text = buf.toString('utf8');
  const lines = text.split('\n');
  const finalNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

/**
 * The identity of a line: its `uuid` (Claude Code); else, for lines with a timestamp (Codex), the
 * timestamp, line type and payload type with an occurrence number, so that one line with its paths
 * rewritten by a restore on another machine is still the same line; else its text.
 */
function describe(lines: string[]): Line[] {
  let lastTs = '';
  const seen = new Map<string, number>();
  return lines.map((text) => {
    let key = `text:${text}`;
    let ts = lastTs;
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (typeof o.timestamp === 'string') ts = o.timestamp;
      if (typeof o.uuid === 'string') key = `uuid:${o.uuid}`;
      else if (typeof o.timestamp === 'string') {
        const p = o.payload && typeof o.payload === 'object' ? (o.payload as Record<string, unknown>) : {};
        const base = `at:${o.timestamp}|${String(o.type)}|${String(p.type ?? '')}|${String(p.call_id ?? p.role ?? '')}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        key = `${base}#${n}`;
      }
    } catch {
      /* a truncated line keeps its text as key */
    }
    lastTs = ts;
    return { text, key, ts };
  });
}

function mergeJsonl(x: Buffer, y: Buffer): Buffer {
  const a = linesOf(x);
  const b = linesOf(y);
  let common = 0;
  while (common < a.lines.length && common < b.lines.length && a.lines[common] === b.lines[common]) common++;
  const rest = new Map<string, Line>();
  for (const l of [...describe(a.lines.slice(common)), ...describe(b.lines.slice(common))]) {
    if (!l.text.trim()) continue;
    const prev = rest.get(l.key);
    if (!prev || l.text > prev.text) rest.set(l.key, l);
  }
  const tail = [...rest.values()].sort((p, q) => (p.ts < q.ts ? -1 : p.ts > q.ts ? 1 : p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  const merged = [...a.lines.slice(0, common), ...tail.map((l) => l.text)];
  return Buffer.from(merged.join('\n') + (a.finalNewline || b.finalNewline ? '\n' : ''), 'utf8');
}
