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

/** How a merge treats two versions of one line (same key, different text). */
export interface MergeOptions {
  /**
   * Keep every version (a sync's merge: a line this machine has is never replaced by what a sync
   * brings). Without it, the byte-wise greater version is kept (capture's merge of the agent's
   * own file with the stored copy).
   */
  keepConflicts?: boolean;
  /**
   * The repository roots the session's recorded paths use on each machine: two versions that
   * differ only by them (a session restored on another machine has its paths rewritten) are one
   * line, never a conflict.
   */
  roots?: readonly string[];
}

export function mergeFile(p: string, x: Buffer, y: Buffer, opts: MergeOptions = {}): Buffer {
  return mergeFileReport(p, x, y, opts).data;
}

/** mergeFile, with the number of lines that arrived in conflicting versions (kept side by side with keepConflicts). */
export function mergeFileReport(p: string, x: Buffer, y: Buffer, opts: MergeOptions = {}): { data: Buffer; conflicts: number } {
  if (x.equals(y)) return { data: x, conflicts: 0 };
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (long.subarray(0, short.length).equals(short)) return { data: long, conflicts: 0 };
  if (p.endsWith('.jsonl')) return mergeJsonl(x, y, opts);
  const c = x.length !== y.length ? x.length - y.length : Buffer.compare(x, y);
  return { data: c >= 0 ? x : y, conflicts: 0 };
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

function mergeJsonl(x: Buffer, y: Buffer, opts: MergeOptions): { data: Buffer; conflicts: number } {
  const a = linesOf(x);
  const b = linesOf(y);
  let common = 0;
  while (common < a.lines.length && common < b.lines.length && a.lines[common] === b.lines[common]) common++;
  const roots = [...new Set((opts.roots ?? []).filter((r) => r.length > 1))].sort((p, q) => q.length - p.length).map((r) => JSON.stringify(r).slice(1, -1));
  const sameLine = (p: string, q: string) => {
    if (!roots.length) return false;
    const norm = (t: string) => roots.reduce((acc, r) => acc.split(r).join('\0root\0'), t);
    return norm(p) === norm(q);
  };
  // Per key, its versions: one per distinct text, except texts that differ only by a root.
  const rest = new Map<string, Line[]>();
  for (const l of [...describe(a.lines.slice(common)), ...describe(b.lines.slice(common))]) {
    if (!l.text.trim()) continue;
    const versions = rest.get(l.key) ?? [];
    rest.set(l.key, versions);
    const same = versions.findIndex((v) => v.text === l.text || sameLine(v.text, l.text));
    if (same >= 0) {
      if (l.text > versions[same]!.text) versions[same] = l;
    } else if (opts.keepConflicts || !versions.length) versions.push(l);
    else if (l.text > versions[0]!.text) versions[0] = l;
  }
  let conflicts = 0;
  const tail: Line[] = [];
  for (const versions of rest.values()) {
    if (versions.length > 1) conflicts += 1;
    tail.push(...versions);
  }
  tail.sort((p, q) => (p.ts < q.ts ? -1 : p.ts > q.ts ? 1 : p.key < q.key ? -1 : p.key > q.key ? 1 : p.text < q.text ? -1 : p.text > q.text ? 1 : 0));
  const merged = [...a.lines.slice(0, common), ...tail.map((l) => l.text)];
  return { data: Buffer.from(merged.join('\n') + (a.finalNewline || b.finalNewline ? '\n' : ''), 'utf8'), conflicts };
}
