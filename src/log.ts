import { formatWithOptions } from 'node:util';
import createDebug from 'debug';
import { redactCredentials } from './redact.js';

/**
 * Diagnostics through `debug` namespaces (see docs/debugging.md). Enable with DEBUG=lore:*.
 * Never pass key material or passphrases to these loggers. Every line goes through one writer,
 * which redacts credentials in addresses (`https://user:token@…`): argv and errors logged with
 * %o/%O may hold them.
 */
function write(...args: unknown[]): void {
  const opts = (createDebug as unknown as { inspectOpts?: object }).inspectOpts ?? {};
  process.stderr.write(`${redactCredentials(formatWithOptions(opts, ...args))}\n`);
}

function logger(namespace: string): createDebug.Debugger {
  const d = createDebug(namespace);
  d.log = write;
  return d;
}

export const log = {
  main: logger('lore'),
  git: logger('lore:git'),
  store: logger('lore:store'),
  import: logger('lore:import'),
  sync: logger('lore:sync'),
  remote: logger('lore:remote'),
  hooks: logger('lore:hooks'),
  blame: logger('lore:blame'),
};
