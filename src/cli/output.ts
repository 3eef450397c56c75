import type { Sink } from '../env.js';
import type { ImportSummary } from '../core/import.js';
import type { SessionDetail, SessionSummary } from '../core/sessions.js';

/** Colours only on a terminal, and never when NO_COLOR is set. */
export function colors(sink: Sink, vars: Readonly<Record<string, string | undefined>>) {
  const on = sink.isTTY && !vars.NO_COLOR;
  const wrap = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { dim: wrap('2'), bold: wrap('1'), yellow: wrap('33'), cyan: wrap('36'), green: wrap('32'), red: wrap('31'), magenta: wrap('35') };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** One line about an import, or null when nothing happened worth saying. */
export function importLine(s: ImportSummary, verbose: boolean): string | null {
  const changed = s.sessionsNew + s.sessionsUpdated;
  const parts: string[] = [];
  if (changed || verbose) parts.push(`imported ${s.sessionsNew} new and ${s.sessionsUpdated} updated session${changed === 1 ? '' : 's'} (${s.filesRead} files, ${formatBytes(s.bytesRead)}; ${s.filesSeen} files checked)`);
  const skipped: string[] = [];
  if (s.malformedLines) skipped.push(`${s.malformedLines} malformed line${s.malformedLines === 1 ? '' : 's'}`);
  if (s.unknownLines && verbose) skipped.push(`${s.unknownLines} line${s.unknownLines === 1 ? '' : 's'} of unknown type`);
  if (s.unreadableFiles.length) skipped.push(`${s.unreadableFiles.length} unreadable file${s.unreadableFiles.length === 1 ? '' : 's'}`);
  if (s.tooLargeFiles.length) skipped.push(`${s.tooLargeFiles.length} file${s.tooLargeFiles.length === 1 ? '' : 's'} over the size limit`);
  if (skipped.length) parts.push(`skipped ${skipped.join(', ')}`);
  return parts.length ? parts.join('; ') : null;
}

const shortDate = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '                ');

/** The table of `git lore sessions`. */
export function sessionsTable(list: SessionSummary[], c: ReturnType<typeof colors>): string {
  if (!list.length) return '';
  return list
    .map((s) => {
      const id = c.yellow(s.id.slice(0, 8));
      const tool = s.tool.padEnd(11);
      const counts = `${String(s.messageCount).padStart(5)} msgs ${String(s.editCount).padStart(4)} edits`;
      const from = s.origin === 'sync' ? c.cyan(' [synced]') : '';
      return `${id}  ${shortDate(s.startedAt)}  ${tool} ${counts}  ${s.title ?? ''}${from}`;
    })
    .join('\n') + '\n';
}

/** The readable transcript of `git lore show`. */
export function transcript(d: SessionDetail, c: ReturnType<typeof colors>, at?: number): string {
  const s = d.session;
  const out: string[] = [];
  out.push(`${c.bold('session')} ${c.yellow(s.id)}`);
  out.push(`tool:     ${s.tool}${s.toolVersion ? ` ${s.toolVersion}` : ''}`);
  if (s.branch) out.push(`branch:   ${s.branch}`);
  out.push(`started:  ${s.startedAt ?? '?'}`);
  out.push(`updated:  ${s.updatedAt ?? '?'}`);
  out.push(`messages: ${s.messageCount}${s.subagentCount ? ` (with ${s.subagentCount} subagent${s.subagentCount === 1 ? '' : 's'})` : ''}`);
  if (d.edits.length) {
    const perFile = new Map<string, { edits: number; lines: number }>();
    for (const e of d.edits) {
      const f = e.move_path ?? e.file;
      const cur = perFile.get(f) ?? { edits: 0, lines: 0 };
      cur.edits += 1;
      cur.lines += e.added_count;
      perFile.set(f, cur);
    }
    out.push(`edits:    ${d.edits.length} in ${perFile.size} file${perFile.size === 1 ? '' : 's'}`);
    for (const [f, v] of perFile) out.push(`  ${f}  ${c.green(`+${v.lines}`)} (${v.edits} edit${v.edits === 1 ? '' : 's'})`);
  }
  out.push('');
  const editsBySeq = new Map<number, SessionDetail['edits']>();
  for (const e of d.edits) editsBySeq.set(e.seq, [...(editsBySeq.get(e.seq) ?? []), e]);
  for (const m of d.messages) {
    if (at !== undefined && m.seq < at) continue;
    const who = m.agentId ? ` ${c.dim(`(subagent ${m.agentId})`)}` : '';
    const time = m.ts ? c.dim(` ${m.ts.slice(11, 19)}`) : '';
    const mark = at !== undefined && m.seq === at ? c.magenta('▶ ') : '';
    if (m.kind === 'tool_call') {
      const edits = editsBySeq.get(m.seq);
      const detail = edits
        ? edits.map((e) => `${e.op} ${e.move_path ? `${e.file} -> ${e.move_path}` : e.file} ${c.green(`+${e.added_count}`)}`).join(', ')
        : oneLine(m.text, 100);
      out.push(`${mark}${c.cyan(`[${m.seq}] tool ${m.toolName ?? ''}`)}${time}${who}: ${detail}`);
    } else if (m.kind === 'tool_result') {
      out.push(`${mark}${c.dim(`[${m.seq}] result${time}: ${oneLine(m.text, 100)}`)}`);
    } else if (m.kind === 'thinking') {
      out.push(`${mark}${c.dim(`[${m.seq}] thinking${time}${who}:`)}`);
      out.push(indent(c.dim(m.text)));
    } else {
      const label = m.role === 'user' ? c.bold('user') : m.role === 'assistant' ? c.green('assistant') : c.dim(m.role);
      out.push(`${mark}[${m.seq}] ${label}${time}${who}:`);
      out.push(indent(m.text));
    }
  }
  return out.join('\n') + '\n';
}

function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

/** A git-style progress line ("Encrypting sessions:  40% (4/10)"), rewritten in place with \r. */
export function progressLine(phase: string, done: number, total: number): string {
  const pct = total ? Math.floor((done * 100) / total) : 100;
  return `${phase}: ${String(pct).padStart(3)}% (${done}/${total})${done >= total ? ', done.\n' : '\r'}`;
}
