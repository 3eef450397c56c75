#!/usr/bin/env node
// Bundles the two executables (after `tsc` has compiled src/ into dist/src/) into
// dist/bundle/{main,remote-helper}.cjs, then writes V8 code caches beside them.
// Why a bundle at all: one file to compile saves ~100 ms of module resolution per command
// (docs/architecture.md, "Start-up"). Run by `npm run build`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const outdir = path.join(dist, 'bundle');

/**
 * yargs finds its message catalogues (locales/*.json) relative to its own module file:
 * `resolve(__dirname, '../../../locales')` in lib/platform-shims/esm.mjs. Once bundled, __dirname
 * is dist/bundle, so that path pointed outside the checkout and y18n silently fell back (the
 * bundle and the unbundled code answered differently under LANG=de_DE). This plugin points it at
 * node_modules/yargs/locales resolved from the bundle (node_modules stays beside dist: the native
 * packages are external). It fails the build if yargs changes that line, rather than ship a
 * broken path.
 */
const yargsLocales = {
  name: 'yargs-locales',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const from = "resolve(__dirname, '../../../locales')";
      if (!source.includes(from)) throw new Error(`yargs-locales: "${from}" not found in ${args.path}; check how this yargs finds its locales`);
      // Here __dirname is the bundle file itself (dist/bundle/main.cjs), as it was esm.mjs before.
      const to = "resolve(__dirname, '../../../node_modules/yargs/locales')";
      return { contents: source.replace(from, to), loader: 'js' };
    });
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(dist, 'src/cli/main.js'), path.join(dist, 'src/cli/remote-helper.js')],
  bundle: true,
  platform: 'node',
  // CommonJS so the launcher can compile it with vm.Script and a code cache (src/cli/launch.ts).
  format: 'cjs',
  target: 'node20',
  // Native addons cannot be bundled; the MCP SDK is large and only `git lore mcp` loads it.
  external: ['better-sqlite3', 'argon2', '@modelcontextprotocol/sdk'],
  // yargs imports string-width (an ESM-only package with a large Unicode table); ours is smaller
  // and is the one the CLI already uses for column widths.
  alias: { 'string-width': path.join(dist, 'src/cli/string-width.js') },
  // `import.meta.url` does not exist in CommonJS: every use becomes the bundle file's own URL.
  inject: [path.join(dist, 'src/cli/import-meta.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  outdir,
  outExtension: { '.js': '.cjs' },
  plugins: [yargsLocales],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// One run of each executable with LORE_WRITE_CODE_CACHE naming its cache file makes the launcher
// write V8's code cache beside the bundle. The remote helper exits non-zero without a remote to
// talk to: only the cache matters here.
const cache = (bin, name, args) => {
  try {
    execFileSync(process.execPath, [path.join(root, 'bin', bin), ...args], {
      env: { ...process.env, LORE_WRITE_CODE_CACHE: path.join(outdir, `${name}.cache`) },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  } catch (err) {
    if (name === 'main') throw err;
  }
};
cache('git-lore', 'main', ['--help']);
cache('git-remote-lore', 'remote-helper', []);
