import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { runSync, setupStore, syncStatus, type SyncResult } from '../../core/sync/index.js';
import { LoreError, toLoreError } from '../../errors.js';
import { installHooks } from '../../core/hooks.js';
import { getSetting, setSetting } from '../../core/config.js';
import { progressLine, jsonText } from '../output.js';

interface SyncArgs {
  remote?: string;
  global: boolean;
  'dry-run': boolean;
  quiet: boolean;
  verbose: boolean;
}

/** Prints a sync result; throws (exit 1) when some sessions failed authentication. */
export function reportSync(ctx: LoreContext, r: SyncResult, opts: { quiet: boolean; verbose: boolean }): void {
  const err = ctx.env.stderr;
  for (const w of r.warnings) err.write(`warning: ${w}\n`);
  for (const f of r.failed) err.write(`error: session ${f.id}: ${f.reason}\n`);
  if (r.converted && (r.commit || r.dryRun)) {
    err.write(`lore: ${r.dryRun ? 'would convert' : 'converted'} the store on ${r.remote} to format 2 (docs/FORMAT.md); its history is kept, and git-lore versions that read only format 1 now stop and ask to be upgraded\n`);
  }
  if (!opts.quiet) {
    const would = r.dryRun ? 'would ' : '';
    const out = ctx.env.stdout;
    if (!r.pulled.length && !r.pushed.length) out.write(`lore: up to date with ${r.remote}${r.dryRun ? ' (dry run)' : ''}\n`);
    else {
      out.write(`lore: ${would}receive ${r.pulled.length} session${r.pulled.length === 1 ? '' : 's'} from ${r.remote}, ${would}send ${r.pushed.length}${r.retries ? ` (${r.retries} retr${r.retries === 1 ? 'y' : 'ies'})` : ''}\n`);
      if (opts.verbose || r.dryRun) {
        for (const id of r.pulled) out.write(`  < ${id}\n`);
        for (const id of r.pushed) out.write(`  > ${id}\n`);
      }
    }
  }
  if (r.failed.length) {
    throw new LoreError(`${r.failed.length} session${r.failed.length === 1 ? '' : 's'} from ${r.remote} failed authentication or could not be read; the rest synced and local data was left as it was`, {
      hint: 'See docs/SECURITY.md: a writer without the passphrase may have tampered with the lore ref. A teammate with a good copy can run `git lore sync` to write it again.',
    });
  }
}

export function syncCommand(ctx: LoreContext): CommandModule<object, SyncArgs> {
  return {
    command: 'sync',
    describe: 'Fetch, merge, encrypt and push the sessions of this repository through refs/lore/sessions',
    builder: (y: Argv) =>
      y
        .command(setupCommand(ctx))
        .command(statusCommand(ctx))
        .option('remote', { type: 'string', describe: 'Remote to sync with (default: lore.remote, the only remote, or origin)' })
        .option('global', { alias: 'g', type: 'boolean', default: false, describe: 'The global personal store: every session of this machine, to sync_global_remote' })
        .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Show what would be received and sent; change nothing' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing but warnings and errors' })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'List the sessions received and sent' })
        .example('git lore sync', 'sync this repository\'s sessions with origin')
        .example('git lore sync setup', 'create or join the encrypted store (once per machine)') as unknown as Argv<SyncArgs>,
    handler: async (argv) => {
      const showProgress = ctx.env.stderr.isTTY && !argv.quiet;
      const r = await runSync(ctx, {
        ...(argv.remote ? { remote: argv.remote } : {}),
        ...(argv.global ? { global: true } : {}),
        dryRun: argv['dry-run'],
        ...(showProgress ? { onProgress: (phase: string, done: number, total: number) => ctx.env.stderr.write(progressLine(phase, done, total)) } : {}),
      });
      reportSync(ctx, r, { quiet: argv.quiet, verbose: argv.verbose });
    },
  };
}

function setupCommand(ctx: LoreContext): CommandModule<object, { remote?: string; hooks: boolean; global?: boolean; identity?: string }> {
  return {
    command: 'setup',
    describe: 'Create the encrypted store on the remote, or join the one there (asks for the passphrase)',
    builder: (y) =>
      y
        .option('remote', { type: 'string', describe: 'Remote that holds (or will hold) the store' })
        .option('hooks', { type: 'boolean', default: true, describe: 'Offer to install the git hooks (--no-hooks to skip)' })
        .option('identity', { alias: 'i', type: 'string', describe: 'Join with this ssh-ed25519 (or age) private key (default: LORE_SSH_KEY, or ~/.ssh/id_ed25519 when a member added it)' })
        .example('LORE_PASSPHRASE_FILE=~/.lore-pass git lore sync setup', 'without a terminal')
        .example('git lore sync setup --identity ~/.ssh/work_ed25519', 'join with an ssh key a member added (`git lore keys add`)'),
    handler: async (argv) => {
      if (argv.global && !(await getSetting(ctx, 'sync_global_remote')) && ctx.env.stdinIsTTY && ctx.env.prompt) {
        const url = (await ctx.env.prompt('URL of a private repository for your global store: ', false)).trim();
        if (url) await setSetting(ctx, 'sync_global_remote', url);
      }
      const r = await setupStore(ctx, { ...(argv.remote ? { remote: argv.remote } : {}), ...(argv.global ? { global: true } : {}), ...(argv.identity ? { identity: argv.identity } : {}) });
      const what = r.action === 'created' ? 'created a new lore store' : r.action === 'joined' ? 'joined the lore store' : 'the lore store is already set up';
      ctx.env.stdout.write(`lore: ${what} ${r.storeId} on ${r.remote}; the key is cached in LORE_HOME/keys\n`);
      if (!argv.global) await offerHooks(ctx, argv.hooks);
      ctx.env.stdout.write('lore: run `git lore sync` to send and receive sessions\n');
    },
  };
}

/** After setup: install the hooks when the user agrees (default yes on a terminal; never without one). */
async function offerHooks(ctx: LoreContext, wanted: boolean): Promise<void> {
  if (!wanted) return;
  if (!ctx.env.stdinIsTTY || !ctx.env.prompt) {
    ctx.env.stdout.write('lore: to sync on every git push and pull, run `git lore hooks install`\n');
    return;
  }
  const answer = (await ctx.env.prompt('Install git hooks so sessions sync on every push and pull? [Y/n] ', false)).trim().toLowerCase();
  if (answer && !answer.startsWith('y')) return;
  try {
    const r = await installHooks(ctx);
    ctx.env.stdout.write(`lore: hooks installed in ${r.dir}${r.chained.length ? ` (your ${r.chained.join(', ')} chained)` : ''}\n`);
  } catch (err) {
    const e = toLoreError(err);
    ctx.env.stderr.write(`warning: hooks not installed: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
  }
}

function statusCommand(ctx: LoreContext): CommandModule<object, { remote?: string; json: boolean; global?: boolean }> {
  return {
    command: 'status',
    describe: 'Is the store set up, is the key cached, how many sessions are pending, in sync or not',
    builder: (y) =>
      y.option('remote', { type: 'string' }).option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' }),
    handler: async (argv) => {
      const s = await syncStatus(ctx, { ...(argv.remote ? { remote: argv.remote } : {}), ...(argv.global ? { global: true } : {}) });
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...s }, 2)}\n`);
        return;
      }
      const out = ctx.env.stdout;
      out.write(`remote:    ${s.remote}\n`);
      out.write(`store:     ${s.storeId ?? 'none (run `git lore sync setup`)'}\n`);
      out.write(`key:       ${s.keyCached ? 'cached' : 'not cached (run `git lore sync setup`)'}\n`);
      out.write(`pending:   ${s.pending} session${s.pending === 1 ? '' : 's'} to send\n`);
      out.write(`last sync: ${s.lastSync ?? 'never'}\n`);
      out.write(`ref:       ${s.relation}\n`);
    },
  };
}
