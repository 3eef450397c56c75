import createDebug from 'debug';

/**
 * Diagnostics through `debug` namespaces (see docs/debugging.md). Enable with DEBUG=lore:*.
 * Never pass key material or passphrases to these loggers.
 */
export const log = {
  main: createDebug('lore'),
  git: createDebug('lore:git'),
  store: createDebug('lore:store'),
  import: createDebug('lore:import'),
  sync: createDebug('lore:sync'),
  remote: createDebug('lore:remote'),
  hooks: createDebug('lore:hooks'),
  blame: createDebug('lore:blame'),
};
