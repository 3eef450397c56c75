import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { resolveSession, sessionHead, streamSessionMessages } from '../../core/sessions.js';
import { colors, jsonStream, transcriptWriter } from '../output.js';
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
      // Written as the messages are parsed: a session of tens of MB is never whole in memory.
      const row = resolveSession(ctx, argv.id);
      const head = sessionHead(ctx, row);
      const out = ctx.env.stdout;
      if (argv.json) {
        const json = jsonStream({ version: 1, session: head.session, messages: [], edits: head.edits });
        out.write(json.head);
        let n = 0;
        await streamSessionMessages(ctx, row, (m) => out.write(json.item(m, n++)));
        out.write(json.tail(n));
        return;
      }
      const writer = transcriptWriter(head, colors(out, ctx.env.vars), argv.at, ctx.env.now());
      out.write(writer.head);
      await streamSessionMessages(ctx, row, (m) => {
        const text = writer.message(m);
        if (text) out.write(text);
      });
    },
  };
}
