import type { Sink } from '../env.js';
import type { ImportSummary } from '../core/import.js';
import type { SessionDetail, SessionSummary } from '../core/sessions.js';
import type { NormalizedMessage } from '../sources/types.js';
import { redactCredentials } from '../redact.js';

/**
 * Terminal control sequences: CSI (ESC [ … final byte), OSC/DCS/SOS/PM/APC strings up to BEL
 * or ST (or the end of the line), other ESC escapes, and their one-byte C1 forms.
 */
const SEQUENCES = /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?/g;
/** What is left of C0 (but \n and \t), DEL and C1. */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text from outside (session text, titles, paths, git's words, error messages) made safe to
 * print: no terminal control sequence and no control character but newline and tab. The one
 * sanitizer of human output: the CLI's sinks pass everything through it, and formatters apply
 * it to each field from a session before adding their own colours.
 */
export function sanitize(text: string): string {
  return text.replace(SEQUENCES, '').replace(CONTROLS, '');
}

/** The colour sequences `colors` writes: the only escapes a terminal sink lets through. */
const OUR_SGR = /(\x1b\[(?:0|1|2|31|32|33|35|36)m)/;

/**
 * The sink every human word of the CLI goes through: credentials redacted, control characters
 * removed. Not a terminal: no ESC byte at all. A terminal: our own colours, and the CR that ends a
 * progress line, survive.
 */
export function humanSink(sink: Sink): Sink {
  const clean = (t: string) => {
    if (!sink.isTTY) return sanitize(t);
    const cr = t.endsWith('\r') && !t.endsWith('\n\r') ? '\r' : '';
    return (cr ? t.slice(0, -1) : t).split(OUR_SGR).map((part, i) => (i % 2 ? part : sanitize(part))).join('') + cr;
  };
  return { isTTY: sink.isTTY, write: (t: string) => sink.write(clean(redactCredentials(t))) };
}

/**
 * `jsonText(value, 2)` of an object whose `messages` array is written item by item (show --json
 * streams a session): `head`, then `item(m, i)` for each message, then `tail(count)`; joined, the
 * same bytes as jsonText of the object with every message in the array.
 */
export function jsonStream(value: { messages: unknown[] } & Record<string, unknown>): { head: string; item(m: unknown, i: number): string; tail(count: number): string } {
  const marker = '\u0000lore-messages\u0000';
  const whole = jsonText({ ...value, messages: [marker] }, 2);
  const at = whole.indexOf(`    ${JSON.stringify(marker)}`);
  const head = whole.slice(0, at);
  const rest = whole.slice(at + `    ${JSON.stringify(marker)}`.length);
  return {
    head: head.replace(/\[\n$/, '['),
    item: (m, i) => `${i ? ',' : ''}\n${jsonText(m, 2).replace(/^/gm, '    ')}`,
    tail: (count) => (count ? `${rest}\n` : `${rest.replace(/^\n\s*/, '')}\n`),
  };
}

/** JSON for stdout: like JSON.stringify, with DEL and C1 characters escaped (\u0080), so no sink has to drop them. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

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

/** A session's start in the table: local time with its offset, a fixed 22 columns. */
const shortDate = (iso: string | null) => (iso ? localTime(iso) : '').padEnd(22);

/** The table of `git lore sessions`. */
export function sessionsTable(list: SessionSummary[], c: ReturnType<typeof colors>): string {
  if (!list.length) return '';
  return list
    .map((s) => {
      const id = c.yellow(s.id.slice(0, 8));
      const tool = sanitize(s.tool).padEnd(11);
      const counts = `${String(s.messageCount).padStart(5)} msgs ${String(s.editCount).padStart(4)} edits`;
      const from = s.origin === 'sync' ? c.cyan(' [synced]') : '';
      return `${id}  ${shortDate(s.startedAt)}  ${tool} ${counts}  ${sanitize(s.title ?? '')}${from}`;
    })
    .join('\n') + '\n';
}

/** The readable transcript of `git lore show`. Every field from the session is sanitized before colours are added. */
export function transcript(d: SessionDetail, c: ReturnType<typeof colors>, at?: number, now: Date = new Date()): string {
  const writer = transcriptWriter(d, c, at, now);
  return writer.head + d.messages.map((m) => writer.message(m)).join('');
}

/**
 * The transcript in parts, for `show` to write as messages are parsed (never the whole session
 * in memory): the head (summary and edits), then each message's text; joined, `transcript`.
 */
export function transcriptWriter(d: Omit<SessionDetail, 'messages'>, c: ReturnType<typeof colors>, at?: number, now: Date = new Date()): { head: string; message(m: NormalizedMessage): string } {
  const s = d.session;
  const f = sanitize;
  const out: string[] = [];
  out.push(`${c.bold('session')} ${c.yellow(f(s.id))}`);
  out.push(`tool:     ${f(s.tool)}${s.toolVersion ? ` ${f(s.toolVersion)}` : ''}`);
  if (s.branch) out.push(`branch:   ${f(s.branch)}`);
  const when = (iso: string | null) => (iso ? `${localTime(iso, { seconds: true })} (${relativeTime(iso, now)})` : '?');
  out.push(`started:  ${when(s.startedAt)}`);
  out.push(`updated:  ${when(s.updatedAt)}`);
  out.push(`messages: ${s.messageCount}${s.subagentCount ? ` (with ${s.subagentCount} subagent${s.subagentCount === 1 ? '' : 's'})` : ''}`);
  if (d.edits.length) {
    const perFile = new Map<string, { edits: number; lines: number }>();
    for (const e of d.edits) {
      const file = e.move_path ?? e.file;
      const cur = perFile.get(file) ?? { edits: 0, lines: 0 };
      cur.edits += 1;
      cur.lines += e.added_count;
      perFile.set(file, cur);
    }
    out.push(`edits:    ${d.edits.length} in ${perFile.size} file${perFile.size === 1 ? '' : 's'}`);
    for (const [file, v] of perFile) out.push(`  ${f(file)}  ${c.green(`+${v.lines}`)} (${v.edits} edit${v.edits === 1 ? '' : 's'})`);
  }
  out.push('');
  const editsBySeq = new Map<number, SessionDetail['edits']>();
  for (const e of d.edits) editsBySeq.set(e.seq, [...(editsBySeq.get(e.seq) ?? []), e]);
  const message = (m: NormalizedMessage): string => {
    if (at !== undefined && m.seq < at) return '';
    const lines: string[] = [];
    const who = m.agentId ? ` ${c.dim(`(subagent ${f(m.agentId)})`)}` : '';
    const time = m.ts ? c.dim(` ${f(localTime(m.ts, { seconds: true }).slice(11, 19))}`) : '';
    const mark = at !== undefined && m.seq === at ? c.magenta('▶ ') : '';
    if (m.kind === 'tool_call') {
      const edits = editsBySeq.get(m.seq);
      const detail = edits
        ? edits.map((e) => `${f(e.op)} ${f(e.move_path ? `${e.file} -> ${e.move_path}` : e.file)} ${c.green(`+${e.added_count}`)}`).join(', ')
        : oneLine(m.text, 100);
      lines.push(`${mark}${c.cyan(`[${m.seq}] tool ${f(m.toolName ?? '')}`)}${time}${who}: ${detail}`);
    } else if (m.kind === 'tool_result') {
      lines.push(`${mark}${c.dim(`[${m.seq}] result${time}: ${oneLine(m.text, 100)}`)}`);
    } else if (m.kind === 'thinking') {
      lines.push(`${mark}${c.dim(`[${m.seq}] thinking${time}${who}:`)}`);
      lines.push(indent(c.dim(f(m.text))));
    } else {
      const label = m.role === 'user' ? c.bold('user') : m.role === 'assistant' ? c.green('assistant') : c.dim(f(m.role));
      lines.push(`${mark}[${m.seq}] ${label}${time}${who}:`);
      lines.push(indent(f(m.text)));
    }
    return `${lines.join('\n')}\n`;
  };
  return { head: `${out.join('\n')}\n`, message };
}

function oneLine(text: string, max: number): string {
  const t = sanitize(text.replace(/\s+/g, ' ')).trim();
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

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time with its offset, as git prints dates: `2026-01-01 14:27 +0100` (`seconds` adds `:SS`). Empty for null or an unreadable time. */
export function localTime(time: string | number | Date | null, opts: { seconds?: boolean; dateOnly?: boolean } = {}): string {
  if (time === null) return '';
  const d = time instanceof Date ? time : new Date(typeof time === 'number' ? time * 1000 : time);
  if (Number.isNaN(d.getTime())) return typeof time === 'string' ? time : '';
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  if (opts.dateOnly) return date;
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${pad2(Math.floor(Math.abs(off) / 60))}${pad2(Math.abs(off) % 60)}`;
  return `${date} ${pad2(d.getHours())}:${pad2(d.getMinutes())}${opts.seconds ? `:${pad2(d.getSeconds())}` : ''} ${zone}`;
}

/** How long ago, in git's words (`git log --date=relative`): "2 hours ago", "3 weeks ago", "1 year, 2 months ago". */
export function relativeTime(time: string | Date | null, now: Date): string {
  if (time === null) return '';
  const d = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(d.getTime())) return '';
  let diff = Math.round((now.getTime() - d.getTime()) / 1000);
  if (diff < 0) return 'in the future';
  const n = (v: number, unit: string) => `${v} ${unit}${v === 1 ? '' : 's'} ago`;
  if (diff < 90) return n(diff, 'second');
  diff = Math.round(diff / 60);
  if (diff < 90) return n(diff, 'minute');
  diff = Math.round(diff / 60);
  if (diff < 36) return n(diff, 'hour');
  diff = Math.round(diff / 24);
  if (diff < 14) return n(diff, 'day');
  if (diff < 70) return n(Math.round(diff / 7), 'week');
  if (diff < 365) return n(Math.round(diff / 30), 'month');
  const totalMonths = Math.round((diff * 12) / 365);
  const years = Math.floor(totalMonths / 12);
  const months = totalMonths % 12;
  if (years < 5 && months) return `${years} year${years === 1 ? '' : 's'}, ${n(months, 'month')}`;
  return n(years, 'year');
}
