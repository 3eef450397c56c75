import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { listSessions } from '../../core/sessions.js';
import { colors, sessionsTable, jsonText } from '../output.js';
import { captureQuietly } from './import.js';

export function sessionsCommand(ctx: LoreContext): CommandModule<object, { all: boolean; json: boolean }> {
  return {
    command: 'sessions',
    describe: 'List the agent sessions of this repository',
    builder: (y) =>
      y
        .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Sessions of every repository, and outside any' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .example('git lore sessions --all --json', 'every session, as JSON'),
    handler: async (argv) => {
      await captureQuietly(ctx);
      const result = await listSessions(ctx, { all: argv.all });
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...result }, 2)}\n`);
        return;
      }
      if (!result.sessions.length) {
        ctx.env.stderr.write(argv.all ? 'no sessions yet\n' : 'no sessions for this repository yet (try `git lore sessions --all`)\n');
        return;
      }
      ctx.env.stdout.write(sessionsTable(result.sessions, colors(ctx.env.stdout, ctx.env.vars)));
    },
  };
}
