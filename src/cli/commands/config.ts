import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { LoreError } from '../../errors.js';
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
          handler: async (argv: Record<string, unknown>) => setSetting(ctx, String(argv.name), String(argv.value)),
        })
        .command({
          command: 'unset <name>',
          describe: 'Remove a setting',
          handler: async (argv: Record<string, unknown>) => unsetSetting(ctx, String(argv.name)),
        })
        .command({
          command: 'list',
          describe: 'Every setting that has a value',
          handler: async () => {
            for (const s of await listSettings(ctx)) ctx.env.stdout.write(`${s.name}=${s.value}${s.from === 'env' ? ` (from ${SETTINGS[s.name].env})` : ''}\n`);
          },
        })
        .demandCommand(1)
        .epilogue(`Settings:\n${Object.entries(SETTINGS).map(([n, s]) => `  ${n.padEnd(20)} ${s.describe}`).join('\n')}`)
        .example('git lore config set sync_global_remote git@host:me/lore-private.git', 'where the global store syncs'),
    handler: () => undefined,
  };
}
