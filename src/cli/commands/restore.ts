import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { restoreSession } from '../../core/restore.js';
import { jsonText } from '../output.js';

export function restoreCommand(ctx: LoreContext): CommandModule<object, { id: string; to?: string; force: boolean; json: boolean }> {
  return {
    command: 'restore <id>',
    describe: 'Write a session back where its agent looks for it, so it can be resumed here',
    builder: (y) =>
      y
        .positional('id', { type: 'string', demandOption: true, describe: 'Session id or a unique prefix' })
        .option('to', { type: 'string', describe: 'Local folder of the repository (default: the session\'s repository here)' })
        .option('force', { type: 'boolean', default: false, describe: 'Overwrite native files that differ' })
        .option('json', { type: 'boolean', default: false, describe: 'Print what was written as JSON (docs/json.md)' })
        .example('git lore restore 5c0375b4', 'write a teammate\'s session back, and print the command that resumes it'),
    handler: async (argv) => {
      const r = await restoreSession(ctx, { id: argv.id, force: argv.force, ...(argv.to ? { to: argv.to } : {}) });
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...r }, 2)}\n`);
        return;
      }
      ctx.env.stdout.write(`lore: restored ${r.written.length} file${r.written.length === 1 ? '' : 's'}${r.unchanged.length ? ` (${r.unchanged.length} already in place)` : ''} of session ${r.id}\n`);
      for (const f of r.written) ctx.env.stdout.write(`  ${f}\n`);
      for (const n of r.notes) ctx.env.stdout.write(`lore: ${n}\n`);
      ctx.env.stdout.write(`resume it with: ${r.resume}\n`);
    },
  };
}
