import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { hooksStatus, installHooks, runHook, runHookWithLimit, uninstallHooks, CHAINED_SUFFIX } from '../../core/hooks.js';
import { jsonText } from '../output.js';

export function hooksCommand(ctx: LoreContext): CommandModule<object, object> {
  return {
    command: 'hooks <action>',
    describe: 'Install, remove or inspect the git hooks that sync sessions on push and pull',
    builder: (y: Argv) =>
      y
        .command({
          command: 'install',
          describe: 'Install pre-push, post-merge and post-rewrite hooks (an existing hook is kept and chained)',
          builder: (b) =>
            b.option('force', { type: 'boolean', default: false, describe: 'Write into a hooks folder managed by another tool' }).example('git lore hooks install', 'sync sessions on every git push and pull'),
          handler: async (argv: Record<string, unknown>) => {
            const r = await installHooks(ctx, { force: Boolean(argv.force) });
            for (const n of r.chained) ctx.env.stdout.write(`lore: kept your ${n} hook as ${n}${CHAINED_SUFFIX}; it runs first, and decides the exit status\n`);
            ctx.env.stdout.write(r.installed.length ? `lore: installed ${r.installed.join(', ')} in ${r.dir}\n` : `lore: hooks already installed in ${r.dir}\n`);
          },
        })
        .command({
          command: 'uninstall',
          describe: 'Remove the hooks and put back the hooks they chained, byte for byte',
          builder: (b) => b.example('git lore hooks uninstall', 'back to plain git hooks'),
          handler: async () => {
            const r = await uninstallHooks(ctx);
            for (const n of r.left) ctx.env.stderr.write(`warning: ${r.dir}/${n} is not git-lore's; left alone\n`);
            ctx.env.stdout.write(`lore: removed ${r.removed.length ? r.removed.join(', ') : 'nothing'}${r.restored.length ? `; restored ${r.restored.join(', ')}` : ''}\n`);
          },
        })
        .command({
          command: 'status',
          describe: 'Show which hooks are installed, chained or foreign',
          builder: (b) => b.option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' }).example('git lore hooks status', 'which hooks are ours, chained or foreign'),
          handler: async (argv: Record<string, unknown>) => {
            const s = await hooksStatus(ctx);
            if (argv.json) {
              ctx.env.stdout.write(`${jsonText({ version: 1, ...s }, 2)}\n`);
              return;
            }
            ctx.env.stdout.write(`hooks folder: ${s.dir}${s.managedBy ? ` (managed by ${s.managedBy})` : ''}\n`);
            ctx.env.stdout.write(`enabled:      ${s.enabled ? 'yes' : 'no (LORE_SKIP or lore.hooks=false)'}\n`);
            for (const h of s.hooks) ctx.env.stdout.write(`  ${h.name.padEnd(13)} ${h.state}\n`);
          },
        })
        .demandCommand(1)
        .example('git lore hooks install', 'sync sessions on every git push and pull'),
    handler: () => undefined,
  };
}

/** `git-lore hook <name> …`: what the shims call. Hidden; always exits 0; at most one line on stderr. */
export function hookCommand(ctx: LoreContext, readStdin: () => Promise<string>): CommandModule<object, { name: string; args?: string[] }> {
  return {
    command: 'hook <name> [args..]',
    describe: false,
    handler: async (argv) => {
      const stdin = argv.name === 'pre-push' ? await readStdin() : '';
      const line = await runHookWithLimit(ctx, argv.name, (argv.args ?? []).map(String), stdin);
      if (line) ctx.env.stderr.write(`${line}\n`);
    },
  };
}

/** `git-lore hook-worker <name> …`: the work of a hook, in the process group `hook` kills at its time limit. Hidden. */
export function hookWorkerCommand(ctx: LoreContext, readStdin: () => Promise<string>): CommandModule<object, { name: string; args?: string[] }> {
  return {
    command: 'hook-worker <name> [args..]',
    describe: false,
    handler: async (argv) => {
      const stdin = argv.name === 'pre-push' ? await readStdin() : '';
      ctx.busyTimeoutMs = 2000;
      const warning = await runHook(ctx, argv.name, (argv.args ?? []).map(String), stdin);
      if (warning) ctx.env.stderr.write(`${warning}\n`);
    },
  };
}
