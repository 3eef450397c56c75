import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { repairStore } from '../../core/sync/repair.js';
import { jsonText } from '../output.js';

export function repairCommand(ctx: LoreContext): CommandModule<object, { remote?: string; global: boolean; 'dry-run': boolean; json: boolean }> {
  return {
    command: 'repair',
    describe: 'Check the store on the remote and write one commit that holds every good session (never forced)',
    builder: (y) =>
      y
        .option('remote', { type: 'string', describe: 'Remote whose store to repair (default: as for sync)' })
        .option('global', { alias: 'g', type: 'boolean', default: false, describe: 'The global personal store' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Say what would be kept, written again and left out; change nothing' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .example('git lore repair --dry-run', 'see what is damaged on the remote')
        .example('git lore repair', 'write a clean store on top of the remote tip, so every sync works again'),
    handler: async (argv) => {
      const r = await repairStore(ctx, { ...(argv.remote ? { remote: argv.remote } : {}), ...(argv.global ? { global: true } : {}), dryRun: argv['dry-run'] });
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...r }, 2)}\n`);
        return;
      }
      const out = ctx.env.stdout;
      const would = r.dryRun ? 'would ' : '';
      out.write(`lore: store ${r.storeId} on ${r.remote}: ${r.kept.length} session${r.kept.length === 1 ? '' : 's'} whole\n`);
      if (r.descriptorRestored) out.write(`  ${would}restore the store descriptor from an earlier commit\n`);
      for (const id of r.rewritten) out.write(`  ${would}write again from this machine: ${id}\n`);
      for (const id of r.added) out.write(`  ${would}add (missing on the remote): ${id}\n`);
      for (const d of r.dropped) out.write(`  ${would}leave out (damaged, no copy here): ${d.id}: ${d.reason}\n`);
      if (r.removedEntries) out.write(`  ${would}drop ${r.removedEntries} entr${r.removedEntries === 1 ? 'y' : 'ies'} that belong to no good session\n`);
      if (r.commit) out.write(`lore: pushed the repaired store (${r.commit.slice(0, 12)}) to ${r.remote}\n`);
      else if (!r.dryRun) out.write('lore: nothing to repair\n');
    },
  };
}
