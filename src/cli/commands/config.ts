import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { LoreError } from '../../errors.js';
import { jsonText } from '../output.js';
import { getSetting, listSettings, setSetting, unsetSetting, SETTINGS } from '../../core/config.js';

export function configCommand(ctx: LoreContext): CommandModule<object, object> {
  return {
    command: 'config <action>',
    describe: 'Get and set lore\'s settings ($LORE_HOME/config)',
    builder: (y: Argv) =>
      y
        .command({
          command: 'get <name>',
          describe: 'Print a setting (exit 1 when unset)',
          builder: (b: Argv) => b.example('git lore config get sync_global_remote', 'where the global store syncs'),
          handler: async (argv: Record<string, unknown>) => {
            const v = await getSetting(ctx, String(argv.name));
            // Like `git config --get`: nothing printed, exit 1.
            if (v === null) throw new LoreError('');
            ctx.env.stdout.write(`${v}\n`);
          },
        })
        .command({
          command: 'set <name> <value>',
          describe: 'Set a setting',
          builder: (b: Argv) => b.example('git lore config set max_file_bytes 536870912', 'capture native files up to 512 MiB'),
          handler: async (argv: Record<string, unknown>) => setSetting(ctx, String(argv.name), String(argv.value)),
        })
        .command({
          command: 'unset <name>',
          describe: 'Remove a setting',
          builder: (b: Argv) => b.example('git lore config unset max_file_bytes', 'back to the default'),
          handler: async (argv: Record<string, unknown>) => unsetSetting(ctx, String(argv.name)),
        })
        .command({
          command: 'list',
          describe: 'Every setting that has a value',
          builder: (b: Argv) =>
            b.option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' }).example('git lore config list', 'name=value, one a line'),
          handler: async (argv: Record<string, unknown>) => {
            const list = await listSettings(ctx);
            if (argv.json) {
              ctx.env.stdout.write(`${jsonText({ version: 1, settings: list.map((s) => ({ name: s.name, value: s.value, from: s.from, ...(s.from === 'env' ? { variable: SETTINGS[s.name].env } : {}) })) }, 2)}\n`);
              return;
            }
            for (const s of list) ctx.env.stdout.write(`${s.name}=${s.value}${s.from === 'env' ? ` (from ${SETTINGS[s.name].env})` : ''}\n`);
          },
        })
        .demandCommand(1)
        .epilogue(`Settings:\n${Object.entries(SETTINGS).map(([n, s]) => `  ${n.padEnd(20)} ${s.describe}`).join('\n')}`)
        .example('git lore config set sync_global_remote git@host:me/lore-private.git', 'where the global store syncs'),
    handler: () => undefined,
  };
}
