import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3's Database class, loaded on first use rather than when the CLI starts: loading
 * it costs ~8 ms, and a command that captures starts its `find` listing first, so the load runs
 * while `find` walks the agent folders (docs/architecture.md, "Start-up"). Node caches the module.
 */
export function sqliteDatabase(): typeof BetterSqlite3 {
  return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
}
