import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { showSession } from '../../core/sessions.js';
import { colors, transcript, jsonText } from '../output.js';
import { captureQuietly } from './import.js';
import { UsageError } from '../../errors.js';

export function showCommand(ctx: LoreContext): CommandModule<object, { id: string; json: boolean; at?: number }> {
  return {
    command: 'show <id>',
    describe: 'Show one session as a readable transcript',
    builder: (y) =>
      y
        .positional('id', { type: 'string', demandOption: true, describe: 'Session id or a unique prefix' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .option('at', { type: 'number', describe: 'Start at this message (seq), marked with ▶' })
        .example('git lore show 0ccf1a04', 'the transcript of a session'),
    handler: async (argv) => {
      if (argv.at !== undefined && !Number.isInteger(argv.at)) {
        throw new UsageError("--at: not a message number", { hint: 'Give the number shown in brackets in `git lore show <id>`, e.g. --at 12.' });
      }
      await captureQuietly(ctx);
      const detail = await showSession(ctx, argv.id);
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...detail }, 2)}\n`);
        return;
      }
      ctx.env.stdout.write(transcript(detail, colors(ctx.env.stdout, ctx.env.vars), argv.at, ctx.env.now()));
    },
  };
}
