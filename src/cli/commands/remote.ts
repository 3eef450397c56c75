import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { setRemoteHelper } from '../../core/remote-config.js';

export function remoteCommand(ctx: LoreContext): CommandModule<object, object> {
  const sub = (enable: boolean): CommandModule<object, { remote?: string }> => ({
    command: `${enable ? 'enable' : 'disable'} [remote]`,
    describe: enable ? 'Route a remote through git-remote-lore (remote.<name>.vcs=lore)' : 'Stop routing a remote through git-remote-lore',
    builder: (y) =>
      y
        .positional('remote', { type: 'string', describe: 'Remote name (default: lore.remote, the only remote, or origin)' })
        .example(`git lore remote ${enable ? 'enable' : 'disable'} origin`, enable ? 'plain git fetch and push of origin carry the sessions' : 'origin is a plain git remote again'),
    handler: async (argv) => {
      const r = await setRemoteHelper(ctx, { enable, ...(argv.remote ? { remote: argv.remote } : {}) });
      const state = enable ? 'goes through git-remote-lore' : 'no longer goes through git-remote-lore';
      ctx.env.stdout.write(`lore: ${r.remote} ${r.changed ? 'now ' : ''}${state}${r.changed ? '' : ' already'}\n`);
    },
  });
  return {
    command: 'remote <action>',
    describe: 'Make plain git fetch/push/clone of a remote carry the sessions (git-remote-lore)',
    builder: (y: Argv) => y.command(sub(true)).command(sub(false)).demandCommand(1).example('git lore remote enable origin', 'fetch and push through git-remote-lore'),
    handler: () => undefined,
  };
}
