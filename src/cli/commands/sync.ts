import fs from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { globalDir, runSync, setupStore, syncStatus, type SyncResult } from '../../core/sync/index.js';
import { CryptoError, LoreError, toLoreError, type FailureKind } from '../../errors.js';
import { PASSPHRASE_TRIES } from '../../core/passphrase.js';
import { installHooks } from '../../core/hooks.js';
import { getSetting, setSetting } from '../../core/config.js';
import { progressLine, jsonText, localTime, relativeTime } from '../output.js';

interface SyncArgs {
  remote?: string;
  global: boolean;
  'dry-run': boolean;
  quiet: boolean;
  verbose: boolean;
  json: boolean;
}

/**
 * The global store's repository calls its remote `origin`, a name the user never chose: every
 * word about it says "the global store" instead.
 */
export function remoteLabel(remote: string, global: boolean): string {
  return global ? 'the global store' : remote;
}

const ORIGIN_WORDS = /\b(on|to|from|reach|with) origin\b/g;

/** An error (or warning) of a global sync, reworded to name the global store instead of `origin`. */
export function globalWording<T>(global: boolean, run: () => Promise<T>): Promise<T> {
  if (!global) return run();
  return run().catch((raw: unknown) => {
    const err = toLoreError(raw);
    const fix = (t: string) => t.replace(/`git fetch origin` works/g, 'the address in sync_global_remote is reachable (`git lore config get sync_global_remote`)').replace(ORIGIN_WORDS, '$1 the global store');
    throw new LoreError(fix(err.message), { cause: err, exitCode: err.exitCode, ...(err.hint ? { hint: fix(err.hint) } : {}) });
  });
}

/** The object `git lore sync --json` prints (docs/json.md). */
export function syncJson(r: SyncResult, global: boolean) {
  return {
    version: 1, remote: r.remote, global, storeId: r.storeId, dryRun: r.dryRun, received: r.pulled, sent: r.pushed,
    oversized: r.oversized, failed: r.failed, commit: r.commit, retries: r.retries, converted: r.converted, warnings: r.warnings,
  };
}

/** Prints a sync result; throws (exit 1) when some sessions failed authentication. */
export function reportSync(ctx: LoreContext, r: SyncResult, opts: { quiet: boolean; verbose: boolean; global?: boolean; json?: boolean }): void {
  const err = ctx.env.stderr;
  const where = remoteLabel(r.remote, Boolean(opts.global));
  const fix = (t: string) => (opts.global ? t.replace(ORIGIN_WORDS, '$1 the global store') : t);
  if (opts.json) ctx.env.stdout.write(`${jsonText(syncJson(r, Boolean(opts.global)), 2)}\n`);
  for (const w of r.warnings) err.write(`warning: ${fix(w)}\n`);
  // A hostile ref can list thousands of bad entries: name the first few, count the rest.
  for (const f of opts.verbose ? r.failed : r.failed.slice(0, 10)) err.write(`error: session ${f.id}: ${f.reason}\n`);
  if (!opts.verbose && r.failed.length > 10) err.write(`error: ... and ${r.failed.length - 10} more sessions that cannot be read (\`git lore sync -v\` lists them all)\n`);
  if (r.converted && (r.commit || r.dryRun)) {
    err.write(`lore: ${r.dryRun ? 'would convert' : 'converted'} the store on ${where} to format 2 (docs/FORMAT.md); its history is kept, and git-lore versions that read only format 1 now stop and ask to be upgraded\n`);
  }
  if (!opts.quiet && !opts.json) {
    const would = r.dryRun ? 'would ' : '';
    const out = ctx.env.stdout;
    if (!r.pulled.length && !r.pushed.length) out.write(`lore: up to date with ${where}${r.dryRun ? ' (dry run)' : ''}\n`);
    else {
      out.write(`lore: ${would}receive ${r.pulled.length} session${r.pulled.length === 1 ? '' : 's'} from ${where}, ${would}send ${r.pushed.length}${r.retries ? ` (${r.retries} retr${r.retries === 1 ? 'y' : 'ies'})` : ''}\n`);
      if (opts.verbose || r.dryRun) {
        for (const id of r.pulled) out.write(`  < ${id}\n`);
        for (const id of r.pushed) out.write(`  > ${id}\n`);
      }
    }
  }
  if (r.failed.length) throw failedSessions(r.failed, where);
}

/** The error of a sync some of whose sessions failed: its message and hint say whose fault it is. */
function failedSessions(failed: ReadonlyArray<{ cause: FailureKind }>, where: string): LoreError {
  const count = (cause: FailureKind) => failed.filter((f) => f.cause === cause).length;
  const n = (k: number) => `${k} session${k === 1 ? '' : 's'}`;
  const parts = [
    count('authentication') && `${n(count('authentication'))} failed authentication`,
    count('malformed') && `${n(count('malformed'))} ${count('malformed') === 1 ? 'is' : 'are'} malformed`,
    count('bug') && `${n(count('bug'))} hit a bug in git-lore`,
    count('other') && `${n(count('other'))} could not be read`,
  ].filter(Boolean);
  const hints = [
    (count('authentication') || count('malformed')) && 'A writer without the passphrase may have tampered with the lore ref, or a member\'s git-lore wrote data this one refuses (docs/SECURITY.md); a teammate with a good copy runs `git lore sync` to write it again, or anyone runs `git lore repair`.',
    count('bug') && 'The bug is ours, not the remote\'s: re-run with DEBUG=lore:* to see its stack, and report it with that output.',
    count('other') && 'The errors above say why; fix that and run `git lore sync` again.',
  ].filter(Boolean);
  return new LoreError(`from ${where}: ${parts.join(', ')}; the rest synced and local data was left as it was`, { hint: hints.join(' ') });
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
        .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON (docs/json.md)' })
        .example('git lore sync', 'sync this repository\'s sessions with origin')
        .example('git lore sync setup', 'create or join the encrypted store (once per repository)') as unknown as Argv<SyncArgs>,
    handler: async (argv) => {
      const showProgress = ctx.env.stderr.isTTY && !argv.quiet && !argv.json;
      const r = await globalWording(argv.global, () =>
        runSync(ctx, {
          ...(argv.remote ? { remote: argv.remote } : {}),
          ...(argv.global ? { global: true } : {}),
          dryRun: argv['dry-run'],
          ...(showProgress ? { onProgress: (phase: string, done: number, total: number) => ctx.env.stderr.write(progressLine(phase, done, total)) } : {}),
        }),
      );
      reportSync(ctx, r, { quiet: argv.quiet, verbose: argv.verbose, global: argv.global, json: argv.json });
    },
  };
}

function setupCommand(ctx: LoreContext): CommandModule<object, { remote?: string; hooks: boolean; global?: boolean; 'dry-run'?: boolean; json?: boolean; identity?: string; 'accept-store'?: string }> {
  return {
    command: 'setup',
    describe: 'Create the encrypted store on the remote, or join the one there (asks for the passphrase)',
    builder: (y) =>
      y
        .option('remote', { type: 'string', describe: 'Remote that holds (or will hold) the store' })
        .option('hooks', { type: 'boolean', default: true, describe: 'Offer to install the git hooks (--no-hooks to skip)' })
        .option('identity', { alias: 'i', type: 'string', describe: 'Join with this ssh-ed25519 (or age) private key (default: LORE_SSH_KEY, or ~/.ssh/id_ed25519 when a member added it)' })
        .option('accept-store', { type: 'string', describe: 'Accept this store id (the one `git lore keys add` printed) when joining by key a store other than the one this clone knew' })
        .example('git lore sync setup --dry-run', 'say whether setup would create a store or join one; change nothing')
        .example('LORE_PASSPHRASE_FILE=~/.lore-pass git lore sync setup', 'without a terminal')
        .example('git lore sync setup --identity ~/.ssh/work_ed25519', 'join with an ssh key a member added (`git lore keys add`)'),
    handler: async (argv) => {
      const dryRun = Boolean(argv['dry-run']);
      const global = Boolean(argv.global);
      if (global && !dryRun && !(await getSetting(ctx, 'sync_global_remote')) && ctx.env.stdinIsTTY && ctx.env.prompt) {
        const url = (await ctx.env.prompt('URL of a private repository for your global store: ', false)).trim();
        if (url) await setSetting(ctx, 'sync_global_remote', url);
      }
      const setup = () => setupStore(ctx, { ...(argv.remote ? { remote: argv.remote } : {}), ...(global ? { global: true } : {}), ...(argv.identity ? { identity: argv.identity } : {}), ...(argv['accept-store'] ? { acceptStore: argv['accept-store'] } : {}), dryRun });
      // The global store's repository is created before the passphrase is asked: a setup that
      // fails or is interrupted before it worked leaves no such folder behind.
      const fresh = global && !dryRun && !fs.existsSync(path.join(globalDir(ctx), 'HEAD'));
      let r: Awaited<ReturnType<typeof setupStore>>;
      try {
        r = await globalWording(global, () => withPassphraseRetries(ctx, setup));
      } catch (err) {
        if (fresh) fs.rmSync(globalDir(ctx), { recursive: true, force: true });
        throw err;
      }
      const where = remoteLabel(r.remote, global);
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, action: r.action, dryRun, storeId: r.storeId, remote: r.remote, global }, 2)}\n`);
        return;
      }
      if (dryRun) {
        const what = r.action === 'created' ? `would create a new lore store on ${where} (there is none yet) and ask for a new passphrase twice`
          : r.action === 'joined' ? `would join the lore store${r.storeId ? ` ${r.storeId}` : ''} on ${where} (asks for its passphrase)`
          : `the lore store ${r.storeId} on ${where} is already set up here`;
        ctx.env.stdout.write(`lore: ${what}; dry run, nothing was changed\n`);
        return;
      }
      const what = r.action === 'created' ? 'created a new lore store' : r.action === 'joined' ? 'joined the lore store' : 'the lore store is already set up';
      ctx.env.stdout.write(`lore: ${what} ${r.storeId} on ${where}; the key is cached in LORE_HOME/keys\n`);
      if (!global) await offerHooks(ctx, argv.hooks);
      ctx.env.stdout.write(`lore: run \`git lore sync${global ? ' --global' : ''}\` to send and receive sessions\n`);
    },
  };
}

/**
 * A wrong passphrase typed at the terminal is asked again, three tries in all, as ssh-keygen and
 * gpg do. Safe because setup writes nothing until a passphrase opens the store.
 */
async function withPassphraseRetries<T>(ctx: LoreContext, run: () => Promise<T>): Promise<T> {
  const typed = ctx.env.stdinIsTTY && ctx.env.prompt && !ctx.env.vars.LORE_PASSPHRASE && !ctx.env.vars.LORE_PASSPHRASE_FILE;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!typed || attempt >= PASSPHRASE_TRIES || !(err instanceof CryptoError) || !/^wrong passphrase/.test(err.message)) throw err;
      ctx.env.stderr.write('Wrong passphrase. Try again.\n');
    }
  }
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
      y
        .option('remote', { type: 'string', describe: 'Remote whose store to describe (default: lore.remote, the only remote, or origin)' })
        .option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' })
        .example('git lore sync status', 'is this clone set up, and is anything waiting to be sent?'),
    handler: async (argv) => {
      const s = await globalWording(Boolean(argv.global), () => syncStatus(ctx, { ...(argv.remote ? { remote: argv.remote } : {}), ...(argv.global ? { global: true } : {}) }));
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...s }, 2)}\n`);
        return;
      }
      const out = ctx.env.stdout;
      out.write(`remote:    ${remoteLabel(s.remote, Boolean(argv.global))}\n`);
      const setupCmd = `git lore sync${argv.global ? ' --global' : ''} setup`;
      out.write(`store:     ${s.storeId ?? `none (run \`${setupCmd}\`)`}\n`);
      out.write(`key:       ${s.keyCached ? 'cached' : `not cached (run \`${setupCmd}\`)`}\n`);
      out.write(`pending:   ${s.pending} session${s.pending === 1 ? '' : 's'} to send\n`);
      out.write(`last sync: ${s.lastSync ? `${localTime(s.lastSync, { seconds: true })} (${relativeTime(s.lastSync, ctx.env.now())})` : 'never'}\n`);
      out.write(`ref:       ${s.relation}\n`);
    },
  };
}
