import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { LoreContext } from './context.js';
import { ensureLoreHome } from '../store/home.js';

/**
 * lore's settings, in `$LORE_HOME/config` (git-config syntax, read and written with
 * `git config -f`). git-config names cannot hold underscores, so each setting has a key there.
 * Environment variables, where a setting has one, win over the file.
 */
export const SETTINGS = {
  sync_global_remote: { key: 'sync.globalRemote', env: undefined, describe: 'URL of the private remote of the global store' },
  max_file_bytes: { key: 'import.maxFileBytes', env: 'LORE_MAX_FILE_BYTES', describe: 'native files larger than this are skipped (default 268435456)' },
  max_payload_bytes: { key: 'sync.maxPayloadBytes', env: 'LORE_MAX_PAYLOAD_BYTES', describe: 'sessions whose native files add up to more are not synced, nor format-1 payloads larger than this read (default 1073741824)' },
  blame_tolerance: { key: 'blame.tolerance', env: 'LORE_BLAME_TOLERANCE', describe: 'seconds an edit may follow its commit and still claim its lines (default 300)' },
  hook_timeout: { key: 'hooks.timeout', env: 'LORE_HOOK_TIMEOUT', describe: 'seconds a hook sync may take before it gives up (default 60)' },
} as const;
export type SettingName = keyof typeof SETTINGS;

function resolveName(name: string): SettingName {
  const direct = name as SettingName;
  if (SETTINGS[direct]) return direct;
  const byKey = (Object.keys(SETTINGS) as SettingName[]).find((n) => SETTINGS[n].key.toLowerCase() === name.toLowerCase());
  if (byKey) return byKey;
  throw new UsageError(`unknown setting ${JSON.stringify(name)}`, { hint: `Known settings: ${Object.keys(SETTINGS).join(', ')}.` });
}

export function configFile(ctx: LoreContext): string {
  return path.join(ensureLoreHome(ctx.paths.loreHome), 'config');
}

/** One setting's value: environment first, then the config file; null when unset. */
export async function getSetting(ctx: LoreContext, name: string): Promise<string | null> {
  const n = resolveName(name);
  const env = SETTINGS[n].env;
  if (env && ctx.env.vars[env] !== undefined && ctx.env.vars[env] !== '') return ctx.env.vars[env]!;
  const file = configFile(ctx);
  if (!fs.existsSync(file)) return null;
  return ctx.git(ctx.paths.loreHome).configGet(SETTINGS[n].key, file);
}

export async function setSetting(ctx: LoreContext, name: string, value: string): Promise<void> {
  const n = resolveName(name);
  if (n !== 'sync_global_remote' && !/^\d+$/.test(value)) throw new UsageError(`${n} takes a whole number`, { hint: `e.g. git lore config set ${n} ${n === 'blame_tolerance' ? 300 : 1000}` });
  const file = configFile(ctx);
  await ctx.git(ctx.paths.loreHome).configSet(SETTINGS[n].key, value, file);
  fs.chmodSync(file, 0o600);
}

export async function unsetSetting(ctx: LoreContext, name: string): Promise<void> {
  const file = configFile(ctx);
  if (fs.existsSync(file)) await ctx.git(ctx.paths.loreHome).configUnset(SETTINGS[resolveName(name)].key, file);
}

/** Every setting that has a value, with where it comes from. */
export async function listSettings(ctx: LoreContext): Promise<Array<{ name: SettingName; value: string; from: 'env' | 'config' }>> {
  const file = configFile(ctx);
  const inFile = fs.existsSync(file) ? new Map((await ctx.git(ctx.paths.loreHome).configList(file)).map(([k, v]) => [k.toLowerCase(), v])) : new Map<string, string>();
  const out: Array<{ name: SettingName; value: string; from: 'env' | 'config' }> = [];
  for (const n of Object.keys(SETTINGS) as SettingName[]) {
    const env = SETTINGS[n].env;
    if (env && ctx.env.vars[env]) out.push({ name: n, value: ctx.env.vars[env]!, from: 'env' });
    else if (inFile.has(SETTINGS[n].key.toLowerCase())) out.push({ name: n, value: inFile.get(SETTINGS[n].key.toLowerCase())!, from: 'config' });
  }
  return out;
}
