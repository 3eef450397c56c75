import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { importSessions, type ImportSummary } from '../../core/import.js';
import { importLine, jsonText } from '../output.js';
import { rebuildStore } from '../../core/rebuild.js';

/** Runs the implicit capture that most commands start with, and reports warnings on stderr. */
export async function captureQuietly(ctx: LoreContext, verbose = false): Promise<ImportSummary> {
  const summary = await importSessions(ctx);
  reportImport(ctx, summary, verbose, true);
  return summary;
}

export function reportImport(ctx: LoreContext, summary: ImportSummary, verbose: boolean, toStderr: boolean): void {
  for (const w of summary.warnings) ctx.env.stderr.write(`warning: ${w}\n`);
  const line = importLine(summary, verbose);
  if (line && (verbose || !toStderr)) (toStderr ? ctx.env.stderr : ctx.env.stdout).write(`${line}\n`);
}

export function importCommand(ctx: LoreContext): CommandModule<object, { verbose: boolean; json: boolean; rebuild: boolean }> {
  return {
    command: 'import',
    describe: 'Capture the agents\' sessions into the local store (other commands do it too)',
    builder: (y) =>
      y
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Say what was checked even when nothing changed' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the import summary as JSON' })
        .option('rebuild', { type: 'boolean', default: false, describe: 'Move a damaged lore.db aside and build a new one from the agents\' files' })
        .example('git lore import', 'import new and grown sessions')
        .example('git lore import --rebuild && git lore sync', 'recover from a corrupt lore.db'),
    handler: async (argv) => {
      if (argv.rebuild) {
        const r = await rebuildStore(ctx);
        if (argv.json) {
          ctx.env.stdout.write(`${jsonText({ ...r.summary, movedTo: r.movedTo }, 2)}\n`);
          return;
        }
        for (const w of r.summary.warnings) ctx.env.stderr.write(`warning: ${w}\n`);
        if (r.movedTo) ctx.env.stdout.write(`lore: moved the old lore.db aside to ${r.movedTo}\n`);
        ctx.env.stdout.write(`lore: rebuilt lore.db: ${importLine(r.summary, true) ?? 'nothing to import'}\n`);
        ctx.env.stdout.write('lore: sessions received through sync come back with the next `git lore sync` in each repository (and `git lore sync --global`)\n');
        return;
      }
      const summary = await importSessions(ctx);
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText(summary, 2)}\n`);
        return;
      }
      for (const w of summary.warnings) ctx.env.stderr.write(`warning: ${w}\n`);
      ctx.env.stdout.write(`${importLine(summary, true) ?? 'nothing to import'}\n`);
    },
  };
}
