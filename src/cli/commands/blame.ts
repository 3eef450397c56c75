import fs from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { blameFile, explainLine, loreLog, type BlamedLine } from '../../core/blame.js';
import { agentTrace } from '../../core/agent-trace.js';
import { LORE_VERSION } from '../version.js';
import { colors, jsonText, localTime, sanitize as f } from '../output.js';

interface BlameArgs {
  target: string;
  rev?: string;
  L?: string;
  json: boolean;
  w: boolean;
  M: boolean;
  C: boolean;
}

/** `file:line` asks for the reasoning behind one line (unless a file by that whole name exists). */
function splitTarget(cwd: string, target: string): { file: string; line?: number } {
  const m = /^(.*):(\d+)$/.exec(target);
  if (m && !fs.existsSync(path.resolve(cwd, target))) return { file: m[1]!, line: Number(m[2]) };
  return { file: target };
}

export function blameCommand(ctx: LoreContext): CommandModule<object, BlameArgs> {
  return {
    command: 'blame <target> [rev]',
    describe: 'Which session wrote each line of a file, and why (<file>:<line> for the reasoning)',
    builder: (y: Argv) =>
      y
        .positional('target', { type: 'string', demandOption: true, describe: '<file>, or <file>:<line> for the reasoning behind one line' })
        .positional('rev', { type: 'string', describe: 'Blame the file as of this revision' })
        .option('L', { type: 'string', describe: 'Only lines <start>,<end> (git blame -L syntax)' })
        .option('json', { type: 'boolean', default: false, describe: 'One object per line (docs/json.md)' })
        .option('w', { type: 'boolean', default: false, describe: 'Ignore whitespace (git blame -w)' })
        .option('M', { type: 'boolean', default: false, describe: 'Detect moved lines within a file (git blame -M)' })
        .option('C', { type: 'boolean', default: false, describe: 'Detect lines copied from other files (git blame -C)' })
        .example('git lore blame src/app.ts', 'sessions and people behind every line')
        .example('git lore blame src/app.ts:42', 'the prompt and reasoning behind line 42') as unknown as Argv<BlameArgs>,
    handler: async (argv) => {
      const flags = [...(argv.w ? ['-w'] : []), ...(argv.M ? ['-M'] : []), ...(argv.C ? ['-C'] : [])];
      const { file, line } = splitTarget(ctx.env.cwd, argv.target);
      const c = colors(ctx.env.stdout, ctx.env.vars);
      if (line !== undefined) {
        const r = await explainLine(ctx, { file, line, flags, ...(argv.rev ? { rev: argv.rev } : {}) });
        if (argv.json) {
          ctx.env.stdout.write(`${jsonText({ version: 1, ...r, session: r.session ? { id: r.session.id, tool: r.session.tool, title: r.session.title } : null }, 2)}\n`);
          return;
        }
        const out: string[] = [];
        // Every field from a session, a file or git is sanitized before colours are added.
        out.push(`${c.yellow(r.line.commit.slice(0, 8))} ${f(file)}:${line}  ${f(r.line.text)}`);
        if (!r.session || !r.line.session) {
          out.push(`written by a person (${f(r.line.author)}); no session edit wrote this line`);
        } else {
          out.push(`session ${c.yellow(f(r.session.id))} (${f(r.session.tool)}, ${f(localTime(r.line.session.time))})${r.session.title ? `: ${f(r.session.title)}` : ''}`);
          if (r.prompt) out.push('', c.bold('prompt:'), indent(f(r.prompt.text)));
          for (const m of r.before) out.push('', c.bold(m.kind === 'thinking' ? 'thinking:' : 'assistant:'), indent(m.kind === 'thinking' ? c.dim(f(m.text)) : f(m.text)));
          if (r.edit) out.push('', c.cyan(`edit [${r.edit.seq}] ${f(r.edit.toolName ?? '')}`));
          for (const m of r.after) out.push('', c.bold('assistant, after:'), indent(f(m.text)));
          out.push('', `the whole session at that point: ${f(r.showCommand ?? '')}`);
        }
        ctx.env.stdout.write(`${out.join('\n')}\n`);
        return;
      }
      const r = await blameFile(ctx, { file, flags, ...(argv.rev ? { rev: argv.rev } : {}), ...(argv.L ? { range: argv.L } : {}) });
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, file: r.file, rev: r.rev, lines: r.lines.map(jsonLine) })}\n`);
        return;
      }
      const width = String(r.lines.at(-1)?.line ?? 1).length;
      const rows = r.lines.map((l) => {
        // A line no session wrote: its commit's author and date, as `git blame` shows them.
        const who = l.session
          ? f(`${l.session.id.slice(0, 8)} ${l.session.tool.padEnd(11)} ${localTime(l.session.time, { dateOnly: true })}`)
          : `${fit(f(l.author), 20)} ${/^0+$/.test(l.commit) ? ''.padEnd(10) : localTime(l.committerTime, { dateOnly: true })}`;
        const commit = /^0+$/.test(l.commit) ? '00000000' : l.commit.slice(0, 8);
        return `${c.yellow(commit)} ${l.session ? c.cyan(who) : who} ${String(l.line).padStart(width)}) ${f(l.text)}`;
      });
      ctx.env.stdout.write(`${rows.join('\n')}\n`);
    },
  };
}

function jsonLine(l: BlamedLine) {
  return { line: l.line, text: l.text, commit: l.commit, author: l.author, filename: l.filename, session: l.session };
}

/** `text` cut or padded to exactly `width` columns. */
function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

export function logCommand(ctx: LoreContext): CommandModule<object, { range?: string; json: boolean; format?: string }> {
  return {
    command: 'log [range]',
    describe: 'Per commit: the sessions that wrote its added lines, and the share written by people',
    builder: (y) =>
      y
        .positional('range', { type: 'string', describe: 'Revision range (default: commits not on the upstream yet, else the last 20)' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .option('format', { type: 'string', choices: ['agent-trace'], describe: 'agent-trace: one Agent Trace record (JSON) per commit and line (docs/agent-trace.md)' })
        .example('git lore log main..feature', 'what a reviewer wants to see for a pull request')
        .example('git lore log --format agent-trace main..feature', 'the same attribution as Agent Trace records'),
    handler: async (argv) => {
      if (argv.format === 'agent-trace') {
        const records = await agentTrace(ctx, { ...(argv.range ? { range: argv.range } : {}), toolVersion: LORE_VERSION });
        ctx.env.stdout.write(records.map((r) => `${jsonText(r)}\n`).join(''));
        return;
      }
      const commits = await loreLog(ctx, argv.range ? { range: argv.range } : {});
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, commits }, 2)}\n`);
        return;
      }
      const c = colors(ctx.env.stdout, ctx.env.vars);
      const pct = (x: number) => `${Math.round(x * 100)}%`.padStart(4);
      const out: string[] = [];
      for (const k of commits) {
        out.push(`${c.yellow(k.commit.slice(0, 8))} ${f(k.subject)}  ${c.dim(`(${k.added} added line${k.added === 1 ? '' : 's'})`)}`);
        for (const s of k.sessions) out.push(`  ${pct(s.share)}  ${c.cyan(f(`${s.id.slice(0, 8)} ${s.tool}`))}  ${f(s.title ?? '')}`);
        if (k.added) out.push(`  ${pct(k.people.share)}  written by people`);
      }
      ctx.env.stdout.write(out.length ? `${out.join('\n')}\n` : 'no commits in that range\n');
    },
  };
}
