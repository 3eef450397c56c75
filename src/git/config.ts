import { GitError } from '../errors.js';
import type { GitRunner } from './runner.js';

/** git config, and the settings git itself resolves (pager, colours). Keys are git-lore's own or validated by the caller. */

const fileArgs = (file?: string) => (file ? ['-f', file] : []);

/** Reads one config value; null when unset. `file` reads a config file instead of the repository's. */
export async function configGet(g: GitRunner, key: string, file?: string): Promise<string | null> {
  const r = await g.raw(['config', ...fileArgs(file), '-z', '--get', '--end-of-options', key]);
  if (r.exitCode === 1) return null;
  if (r.exitCode !== 0) throw new GitError(['config', '--get', key], r.exitCode, r.stderr);
  return r.stdout.toString('utf8').replace(/\0$/, '');
}

/** A boolean config value the way git reads it (true/yes/on/1, false/no/off/0); null when unset or not a boolean. */
export async function configGetBool(g: GitRunner, key: string): Promise<boolean | null> {
  const r = await g.raw(['config', '--type=bool', '--get', '--end-of-options', key]);
  if (r.exitCode !== 0) return null;
  return r.stdout.toString('utf8').trim() === 'true';
}

/** Every value of a multi-valued key ([] when unset). */
export async function configGetAll(g: GitRunner, key: string, file?: string): Promise<string[]> {
  const r = await g.raw(['config', ...fileArgs(file), '-z', '--get-all', '--end-of-options', key]);
  if (r.exitCode === 1) return [];
  if (r.exitCode !== 0) throw new GitError(['config', '--get-all', key], r.exitCode, r.stderr);
  return r.stdout.toString('utf8').split('\0').filter((l) => l.length > 0);
}

/** `key`/`value` pairs of the keys matching `regexp` (git's extended regexp over lower-cased names), in config order. */
export async function configGetRegexp(g: GitRunner, regexp: string): Promise<Array<[string, string]>> {
  const r = await g.raw(['config', '-z', '--get-regexp', '--end-of-options', regexp]);
  if (r.exitCode === 1) return [];
  if (r.exitCode !== 0) throw new GitError(['config', '--get-regexp'], r.exitCode, r.stderr);
  return parseConfigZ(r.stdout);
}

/** Lists `key=value` pairs of a config file ([] when it cannot be read). */
export async function configList(g: GitRunner, file: string): Promise<Array<[string, string]>> {
  const r = await g.raw(['config', '-f', file, '--list', '-z']);
  if (r.exitCode !== 0) return [];
  return parseConfigZ(r.stdout);
}

/**
 * Parses git config's `-z` output: `<key>\\n<value>\\0` records (a key without a value, as in
 * `[section] flag`, has no newline). Values may hold newlines; keys never do.
 */
export function parseConfigZ(out: Buffer): Array<[string, string]> {
  return out.toString('utf8').split('\0').filter(Boolean).map((rec) => {
    const nl = rec.indexOf('\n');
    return nl < 0 ? [rec, ''] : [rec.slice(0, nl), rec.slice(nl + 1)];
  });
}

export async function configSet(g: GitRunner, key: string, value: string, file?: string): Promise<void> {
  await g.exec(['config', ...fileArgs(file), '--end-of-options', key, value]);
}

export async function configAdd(g: GitRunner, key: string, value: string, file?: string): Promise<void> {
  await g.exec(['config', ...fileArgs(file), '--add', '--end-of-options', key, value]);
}

/** Removes every value of `key` (unset: no-op). */
export async function configUnset(g: GitRunner, key: string, file?: string): Promise<void> {
  const r = await g.raw(['config', ...fileArgs(file), '--unset-all', '--end-of-options', key]);
  if (r.exitCode !== 0 && r.exitCode !== 5) throw new GitError(['config', '--unset-all', key], r.exitCode, r.stderr);
}

/** Removes the values of a multi-valued key that equal `value` exactly (none: no-op). */
export async function configUnsetValue(g: GitRunner, key: string, value: string): Promise<void> {
  const r = await g.raw(['config', '--fixed-value', '--unset-all', '--end-of-options', key, value]);
  if (r.exitCode !== 0 && r.exitCode !== 5) throw new GitError(['config', '--unset-all', key], r.exitCode, r.stderr);
}

/**
 * The pager git itself would use here (`git var GIT_PAGER`: GIT_PAGER, core.pager, PAGER, then
 * git's built-in default); null when that is `cat` or empty, or git cannot say.
 */
export async function pagerCommand(g: GitRunner): Promise<string | null> {
  const r = await g.raw(['var', 'GIT_PAGER']);
  const cmd = r.exitCode === 0 ? r.stdout.toString('utf8').trim() : '';
  return cmd && cmd !== 'cat' ? cmd : null;
}

/** Whether git would colour output for `name` (`git config --get-colorbool`: color.ui and friends; auto means "on a terminal"). */
export async function colorBool(g: GitRunner, name: string, stdoutIsTTY: boolean): Promise<boolean> {
  const r = await g.raw(['config', '--get-colorbool', name, stdoutIsTTY ? 'true' : 'false']);
  return r.exitCode === 0 ? r.stdout.toString('utf8').trim() === 'true' : stdoutIsTTY;
}
