import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { MAX_CANDIDATES, NoMatch, jsonResults, markSnippet, searchSessions } from '../../core/search.js';
import { colors, jsonText, progressLine, sanitize as f } from '../output.js';
import { captureQuietly } from './import.js';

interface SearchArgs {
  query: string[];
  json: boolean;
  all: boolean;
  tool?: string;
  since?: string;
  authorMachine?: string;
  n: number;
}

export function searchCommand(ctx: LoreContext): CommandModule<object, SearchArgs> {
  return {
    command: 'search <query..>',
    describe: 'Full-text search of the sessions\' messages (exit 1 when nothing matches)',
    builder: (y: Argv) =>
      y
        .positional('query', { type: 'string', array: true, demandOption: true, describe: 'Words (all must match) and "quoted phrases"; word* for a prefix' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Sessions of every repository, and outside any' })
        .option('tool', { type: 'string', describe: 'Only sessions of this agent: claude-code or codex' })
        .option('since', { type: 'string', describe: 'Only messages since a date (2026-01-31) or a span back (36h, 7d, 2w)' })
        .option('author-machine', { type: 'string', describe: 'Only sessions captured on this machine (id prefix, or `me`)' })
        .option('n', { type: 'number', default: 20, describe: 'At most this many results' })
        .example('git lore search "retry backoff" --since 2w', 'messages of the last two weeks with that phrase') as unknown as Argv<SearchArgs>,
    handler: async (argv) => {
      // The capture lists the agents' files in a child process; the search runs meanwhile.
      const captured = captureQuietly(ctx);
      const changed = captured.then((s) => s.sessionsNew + s.sessionsUpdated > 0);
      changed.catch(() => undefined); // awaited by the search, or its failure reported by the finally below
      const query = argv.query.join(' ');
      const progress = ctx.env.stderr.isTTY ? (done: number, total: number) => ctx.env.stderr.write(progressLine('indexing sessions for search', done, total)) : undefined;
      let r: Awaited<ReturnType<typeof searchSessions>>;
      try {
        r = await searchSessions(ctx, {
          query, all: argv.all, limit: argv.n,
          ...(argv.tool !== undefined ? { tool: argv.tool } : {}),
          ...(argv.since !== undefined ? { since: argv.since } : {}),
          ...(argv.authorMachine !== undefined ? { authorMachine: argv.authorMachine } : {}),
        }, { ...(progress ? { progress } : {}), capture: changed });
      } finally {
        // A usage error must not leave the capture writing while the process exits.
        await captured.catch(() => undefined);
      }
      if (argv.json) ctx.env.stdout.write(`${jsonText({ version: 1, query: r.query, repository: r.repository, truncated: r.truncated, results: jsonResults(r.results) }, 2)}\n`);
      else {
        const c = colors(ctx.env.stdout, ctx.env.vars);
        const out: string[] = [];
        for (const h of r.results) {
          const when = h.ts ? h.ts.slice(0, 16).replace('T', ' ') : '';
          const what = h.kind === 'text' ? h.role : `${h.role} ${h.kind}${h.toolName ? ` ${h.toolName}` : ''}`;
          out.push(`${c.yellow(f(h.id))} ${c.cyan(f(h.tool))} ${f(when)} ${c.dim(f(what))}${h.title ? `  ${f(h.title)}` : ''}`);
          // Each piece is sanitized before the highlight is added.
          out.push(`    ${markSnippet(h.snippet, (t, m) => (m ? c.bold(c.red(f(t))) : f(t)))}`);
        }
        if (out.length) ctx.env.stdout.write(`${out.join('\n')}\n`);
        if (r.truncated) ctx.env.stderr.write(`lore: more than ${MAX_CANDIDATES} messages match: these are the best of the ${MAX_CANDIDATES} most recent; add words, --since or --tool to narrow\n`);
      }
      if (!r.results.length) {
        throw new NoMatch(`no message matches ${JSON.stringify(query)}${r.repository ? ' in this repository\'s sessions' : ''}`, {
          hint: r.repository ? 'Search every repository with `git lore search --all`, or use fewer words.' : 'Use fewer words, or a word* prefix.',
        });
      }
    },
  };
}
