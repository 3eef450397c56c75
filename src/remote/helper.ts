import path from 'node:path';
import type { Env } from '../env.js';
import { LoreError, UsageError, toLoreError } from '../errors.js';
import { log } from '../log.js';
import { Git, gitReason, type PushOptions, type TransferOptions } from '../git/git.js';
import type { LoreContext } from '../core/context.js';
import { LORE_REF, fetchRefspec, trackingRef } from '../format/refs.js';

// Lore's own machinery (SQLite, crypto, sync) is loaded only when a lore ref is involved: most
// fetches and pushes through the helper must cost no more than a plain remote's.
const loreSync = () => import('../core/sync/index.js');

/**
 * git-remote-lore: git's remote-helper protocol over an inner address of any transport git
 * supports, by running the system git against it. Sessions ride along: fetches bring the lore
 * ref (and import when a key is cached), pushes send it in the same inner push. Lore failures
 * never fail the code transfer: one warning line on stderr.
 */

/** Reads protocol lines one at a time. */
export interface LineReader {
  next(): Promise<string | null>;
}

/** Makes an inner address usable from any folder: relative local paths become absolute. */
export function absolutizeAddress(address: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) || path.isAbsolute(address)) return address;
  if (/^[^/]*:/.test(address) && !/^[a-zA-Z]:[\\/]/.test(address)) return address; // scp-like host:path
  return path.resolve(cwd, address);
}

interface HelperState {
  progress: boolean;
  verbosity: number;
  dryRun: boolean;
  force: boolean;
  atomic: boolean;
  cas: string[];
  cloning: boolean;
  checkConnectivity: boolean;
  pushOptions: string[];
}

export interface HelperIo {
  env: Env;
  reader: LineReader;
  write: (text: string) => void;
  warn: (line: string) => void;
}

/** Runs the helper for `git-remote-lore <remote> <address>` until git closes stdin. */
export async function runHelper(io: HelperIo, argv: string[]): Promise<void> {
  const [remoteArg, rawAddress] = argv;
  if (!remoteArg) throw new UsageError('git-remote-lore is run by git for lore:: remotes', { hint: 'Use `git clone lore::<address>` or `git lore remote enable <remote>`.' });
  const address0 = rawAddress ?? remoteArg;
  if (address0.startsWith('lore::')) throw new UsageError(`refusing a nested lore:: address (${address0})`, { hint: 'Use lore::<address> once: the inner address is any ordinary git URL or path.' });
  const env = io.env;
  const gitDirVar = env.vars.GIT_DIR;
  if (!gitDirVar) throw new LoreError('GIT_DIR is not set: git-remote-lore must be run by git', { hint: 'Use `git fetch` or `git clone lore::<address>`.' });
  const gitDir = path.resolve(env.cwd, gitDirVar);
  const workDir = path.basename(gitDir) === '.git' ? path.dirname(gitDir) : gitDir;
  const git = new Git(env, workDir, { GIT_DIR: gitDir });
  const address = absolutizeAddress(address0, env.cwd);
  // argv[1] is the remote's name, or the whole URL when git has no remote by that name.
  const remote = (await git.configGet(`remote.${remoteArg}.url`)) !== null ? remoteArg : null;
  const state: HelperState = { progress: false, verbosity: 1, dryRun: false, force: false, atomic: false, cas: [], cloning: false, checkConnectivity: false, pushOptions: [] };
  log.remote('start remote=%s address=%s gitDir=%s', remote, address, gitDir);

  for (;;) {
    const line = await io.reader.next();
    if (line === null) return;
    log.remote('< %s', line);
    if (line === '') return;
    if (line === 'capabilities') {
      io.write('option\nfetch\npush\ncheck-connectivity\n\n');
    } else if (line.startsWith('option ')) {
      io.write(`${setOption(state, line.slice(7))}\n`);
    } else if (line === 'list' || line === 'list for-push') {
      io.write(await list(git, address));
    } else if (line.startsWith('fetch ')) {
      const wants = [line, ...(await batch(io.reader))];
      // git sends `option cloning true` after the listing: fix the stored address now.
      if (state.cloning && remote) await rememberAbsoluteUrl(git, remote, address0, address);
      await fetchBatch(io, git, address, remote, state, wants);
      io.write(`${state.checkConnectivity ? 'connectivity-ok\n' : ''}\n`);
    } else if (line.startsWith('push ')) {
      const refspecs = [line, ...(await batch(io.reader))].map((l) => l.slice(5));
      io.write(await pushBatch(io, git, address, remote, state, refspecs));
    } else {
      throw new LoreError(`unknown remote-helper command ${JSON.stringify(line)}`, { hint: 'Report this with GIT_TRANSPORT_HELPER_DEBUG=1 output.' });
    }
  }
}

async function batch(reader: LineReader): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const l = await reader.next();
    if (l === null || l === '') return out;
    out.push(l);
  }
}

function setOption(state: HelperState, rest: string): string {
  const sp = rest.indexOf(' ');
  const name = sp < 0 ? rest : rest.slice(0, sp);
  const value = sp < 0 ? '' : rest.slice(sp + 1);
  const bool = value === 'true';
  switch (name) {
    case 'progress': state.progress = bool; return 'ok';
    case 'verbosity': state.verbosity = Number(value) || 0; return 'ok';
    case 'dry-run': state.dryRun = bool; return 'ok';
    case 'force': state.force = bool; return 'ok';
    case 'atomic': state.atomic = bool; return 'ok';
    case 'cas': state.cas.push(value); return 'ok';
    case 'cloning': state.cloning = bool; return 'ok';
    case 'check-connectivity': state.checkConnectivity = bool; return 'ok';
    case 'push-option': state.pushOptions.push(value); return 'ok';
    case 'followtags': return 'ok';
    default: return 'unsupported';
  }
}

/** During clone, store the absolute inner address so fetches from the work tree keep working. */
async function rememberAbsoluteUrl(git: Git, remote: string, original: string, absolute: string): Promise<void> {
  if (original === absolute) return;
  const url = await git.configGet(`remote.${remote}.url`);
  if (url === `lore::${original}`) await git.configSet(`remote.${remote}.url`, `lore::${absolute}`);
}

/**
 * The inner code transfers stand in for the user's own `git fetch`/`git push`: git may ask for
 * credentials on the terminal exactly when it would without lore (the user's GIT_TERMINAL_PROMPT
 * is left alone). Lore's own extra fetch never asks: it follows a transfer that already had its
 * chance to ask, and a failure there only costs a warning (docs/architecture.md, "git").
 */
const CODE_PROMPT = 'inherit' as const;
const LORE_PROMPT = 'never' as const;

/** `list`: the inner remote's refs, without lore's own; an inner failure fails loudly (never an empty list). */
async function list(git: Git, address: string): Promise<string> {
  const listing = await git.lsRemoteAll(address, CODE_PROMPT).catch((err: { stderr?: string }) => {
    const msg = err.stderr?.trim() || `git ls-remote ${address} failed`;
    throw new LoreError(msg.replace(/^fatal: /, ''), { hint: `Check the address ${address}.`, cause: err });
  });
  const out: string[] = [];
  const head = listing.symrefs.get('HEAD') ?? null;
  for (const { oid, name } of listing.refs) {
    if (name.startsWith('refs/lore/')) continue;
    if (name === 'HEAD' && head) continue;
    out.push(`${oid} ${name}`);
  }
  if (head) out.push(`@${head} HEAD`);
  return `${out.join('\n')}${out.length ? '\n' : ''}\n`;
}

/** The inner transfer's verbosity as git asked for it; its progress goes to the user's terminal, stdout stays the protocol's. */
function transferOptions(state: HelperState): TransferOptions {
  if (state.verbosity <= 0) return { prompt: CODE_PROMPT, quiet: true, inheritStderr: true };
  return { prompt: CODE_PROMPT, progress: state.progress, verbose: state.verbosity > 1, inheritStderr: true };
}

async function fetchBatch(io: HelperIo, git: Git, address: string, remote: string | null, state: HelperState, lines: string[]): Promise<void> {
  const wants = new Map<string, string>();
  for (const l of lines) {
    const [, oid, name] = l.split(' ');
    if (oid && name) wants.set(oid, name);
  }
  const opts = { ...transferOptions(state), noTags: true, untrusted: false };
  let r = await git.fetch(address, [...wants.keys()], opts);
  if (r.exitCode !== 0) {
    log.remote('fetch by id failed (%s); by name', r.exitCode);
    r = await git.fetch(address, [...new Set(wants.values())], opts);
  }
  if (r.exitCode !== 0) throw new LoreError(`fetch from ${address} failed`, { hint: 'See git\'s message above.' });
  if (remote && !state.dryRun) await loreAfterFetch(io, git, address, remote, state);
}

async function loreAfterFetch(io: HelperIo, git: Git, address: string, remote: string, state: HelperState): Promise<void> {
  try {
    const fetched = await git.fetch(address, [fetchRefspec(remote)], { prompt: LORE_PROMPT, quiet: true });
    if (fetched.exitCode !== 0) {
      // The exact refspec fails when the remote has no lore ref: then there is nothing to do.
      if ((await git.lsRemote(address, LORE_REF, LORE_PROMPT).catch(() => undefined)) === null) return;
      throw new LoreError(`cannot fetch the lore ref: ${fetched.stderr.trim().split('\n')[0]}`);
    }
    const tip = await git.resolve(trackingRef(remote));
    if (!tip) return;
    const { runSync, setupStore } = await loreSync();
    const ctx = await helperContext(io, git);
    try {
      const local = await git.resolve(LORE_REF);
      const hasPassphrase = Boolean(io.env.vars.LORE_PASSPHRASE || io.env.vars.LORE_PASSPHRASE_FILE);
      if (!local || hasPassphrase) {
        try {
          await setupStore(ctx, { remote, url: address });
        } catch (err) {
          const e = toLoreError(err);
          if (!local && e instanceof UsageError) {
            io.warn(`lore: this repository carries encrypted agent sessions; run \`git lore sync setup\` to read them`);
            return;
          }
          throw err;
        }
      }
      const r = await runSync(ctx, { remote, url: address, push: false });
      if (r.failed.length) io.warn(`lore: ${r.failed.length} session(s) failed authentication and were skipped; run \`git lore sync\` for details`);
      else if (r.pulled.length && state.verbosity > 0) io.warn(`lore: received ${r.pulled.length} session${r.pulled.length === 1 ? '' : 's'}`);
    } finally {
      ctx.close();
    }
  } catch (err) {
    const e = toLoreError(err);
    log.remote('lore after fetch failed: %O', err);
    io.warn(`lore: sessions not fetched (${e.message.split('\n')[0]})`);
  }
}

async function helperContext(io: HelperIo, git: Git): Promise<LoreContext> {
  const { LoreContext } = await import('../core/context.js');
  return new LoreContext({ ...io.env, cwd: git.dir, stdinIsTTY: false, prompt: undefined as never });
}

/** Maps git's porcelain reasons to the words the helper protocol expects, so git prints its own hints. */
function reasonWords(reason: string): string {
  if (/non-fast-forward/.test(reason)) return 'non-fast forward';
  if (/fetch first/.test(reason)) return 'fetch first';
  if (/stale info/.test(reason)) return 'stale info';
  if (/already exists/.test(reason)) return 'already exists';
  if (/needs force/.test(reason)) return 'needs force';
  return reason || 'rejected';
}

async function pushBatch(io: HelperIo, git: Git, address: string, remote: string | null, state: HelperState, refspecs: string[]): Promise<string> {
  const dsts = refspecs.map((r) => r.replace(/^\+/, '').split(':')[1] ?? '');
  let loreCommit: string | null = null;
  // A push that names lore refs itself is left as asked.
  if (remote && !state.dryRun && !dsts.some((d) => d.startsWith('refs/lore/')) && (await git.resolve(LORE_REF))) {
    const { runSync } = await loreSync();
    const ctx = await helperContext(io, git);
    try {
      {
        const r = await runSync(ctx, { remote, url: address, deferPush: true });
        loreCommit = r.commit ?? null;
        if (!loreCommit) {
          const local = await git.resolve(LORE_REF);
          const tracking = await git.resolve(trackingRef(remote));
          if (local && local !== tracking) loreCommit = local;
        }
      }
    } catch (err) {
      io.warn(`lore: sessions not sent (${toLoreError(err).message.split('\n')[0]})`);
    } finally {
      ctx.close();
    }
  }
  const opts: PushOptions = { ...transferOptions(state), dryRun: state.dryRun, atomic: state.atomic, force: state.force, leases: state.cas, pushOptions: state.pushOptions };
  const lore = loreCommit ? [`${loreCommit}:${LORE_REF}`] : [];
  let { run: r, refs: results } = await git.push(address, [...refspecs, ...lore], opts);
  if (lore.length && state.atomic && r.exitCode !== 0 && results.find((x) => x.dst === LORE_REF)?.flag === '!') {
    // An atomic push must not fail for lore's sake: try again without the lore ref.
    ({ run: r, refs: results } = await git.push(address, refspecs, opts));
  }
  const lines: string[] = [];
  for (const dst of dsts) {
    const res = results.find((x) => x.dst === dst);
    if (!res) {
      lines.push(`error ${dst} ${r.exitCode === 0 ? 'no match' : gitReason(r.stderr, { stripPrefix: true }) || 'push failed'}`);
      continue;
    }
    if (res.flag === '=') lines.push(`error ${dst} up to date`);
    else if (res.flag === '!') lines.push(`error ${dst} ${reasonWords(res.reason || res.summary)}`);
    else if (res.flag === '+') lines.push(`ok ${dst} forced update`);
    else lines.push(`ok ${dst}`);
  }
  const loreResult = results.find((x) => x.dst === LORE_REF);
  if (remote && loreCommit && loreResult && loreResult.flag !== '!') {
    await git.setRef(trackingRef(remote), loreCommit);
  } else if (lore.length && loreResult?.flag === '!') {
    io.warn('lore: the remote\'s sessions moved meanwhile; they are merged on the next fetch or `git lore sync`');
  }
  return `${lines.join('\n')}\n\n`;
}

/** Line reader over a readable stream (stdin). */
export function streamReader(stream: NodeJS.ReadableStream): LineReader {
  let buf = '';
  let ended = false;
  const waiting: Array<(l: string | null) => void> = [];
  const pump = () => {
    while (waiting.length) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        waiting.shift()!(line);
      } else if (ended) {
        const rest = buf;
        buf = '';
        waiting.shift()!(rest.length ? rest : null);
      } else return;
    }
  };
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    pump();
  });
  stream.on('end', () => {
    ended = true;
    pump();
  });
  return { next: () => new Promise((resolve) => { waiting.push(resolve); pump(); }) };
}

