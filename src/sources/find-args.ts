/**
 * The command line of a capture's first `find` (listing.ts), built in one place so that the
 * launcher's early start of it (src/core/early-listing.ts) and the listing agree to the byte.
 * No imports: the launcher loads this before the CLI bundle.
 */

/** One file: "<type> <size> <sec.nsec mtime> <mode> <path>", NUL-terminated. */
export const FILE_FORMAT = '%y %s %T@ %m %p\\0';
/** One folder: "d <inode> <path>", NUL-terminated. */
export const DIR_FORMAT = 'd %i %p\\0';

/**
 * find's arguments listing `roots` (existing ones) to `maxDepth`: every folder, every symbolic
 * link, and every file (or, with `ref`, only files whose ctime is after it).
 */
export function listingFindArgs(roots: readonly string[], maxDepth: number, ref?: string): string[] {
  const changed = ref === undefined ? [] : ['-newerct', `@${ref}`];
  return ['-H', ...roots, '-maxdepth', String(maxDepth), '(', '-type', 'd', '-printf', DIR_FORMAT, ')', '-o', '(', '-type', 'l', '-printf', FILE_FORMAT, ')', '-o', '(', '-type', 'f', ...changed, '-printf', FILE_FORMAT, ')'];
}

/**
 * Whether `argv` is exactly what listingFindArgs builds for some absolute roots, depth and
 * reference: anything else (another action, a relative root) is not run from a saved file.
 */
export function isListingFindArgs(argv: unknown): argv is string[] {
  if (!Array.isArray(argv) || argv.length > 10_000 || !argv.every((a) => typeof a === 'string' && !a.includes('\0'))) return false;
  const at = argv.indexOf('-maxdepth');
  if (argv[0] !== '-H' || at < 2) return false;
  const roots = argv.slice(1, at) as string[];
  const depth = Number(argv[at + 1]);
  if (!roots.every((r) => r.startsWith('/')) || !Number.isInteger(depth) || depth < 1 || depth > 16) return false;
  const newer = argv.indexOf('-newerct');
  const ref = newer > 0 ? /^@(\d+\.\d{9})$/.exec(String(argv[newer + 1]))?.[1] : undefined;
  if (newer > 0 && ref === undefined) return false;
  const want = listingFindArgs(roots, depth, ref);
  return want.length === argv.length && want.every((a, i) => a === argv[i]);
}
