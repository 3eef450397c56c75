#!/usr/bin/env node
// Bundles the two executables (after `tsc` has compiled src/ into dist/src/) into
// dist/bundle/{main,remote-helper}.cjs, then writes V8 code caches beside them.
// Why a bundle at all: one file to compile saves ~100 ms of module resolution per command
// (docs/architecture.md, "Start-up"). Run by `npm run build`.
import { build } from 'esbuild';
import { writeCodeCaches } from './code-cache.mjs';
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
const yargsShim = {
  name: 'yargs-shim',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const from = "resolve(__dirname, '../../../locales')";
      if (!source.includes(from)) throw new Error(`yargs-shim: "${from}" not found in ${args.path}; check how this yargs finds its locales`);
      // Here __dirname is the bundle file itself (dist/bundle/main.cjs), as it was esm.mjs before.
      const to = "resolve(__dirname, '../../../node_modules/yargs/locales')";
      // The same shim takes the folder above node_modules as yargs' "main file"; in the bundle
      // there is none, so it fell back to the working folder, from which yargs walked up to the
      // root looking for a package.json at every start (the user's, parsed; ~2 ms, and an
      // exception, where there was none): the bundle file instead, whose package.json is ours.
      const mainFrom = 'mainFilename: mainFilename || process.cwd(),';
      if (!source.includes(mainFrom)) throw new Error(`yargs-shim: "${mainFrom}" not found in ${args.path}; check how this yargs finds its package.json`);
      return { contents: source.replace(from, to).replace(mainFrom, 'mainFilename: mainFilename || __dirname,'), loader: 'js' };
    });
  },
};

/**
 * Packages only a few rare commands load (with a dynamic `import()`): the passphrase-strength
 * estimator and its 1.6 MB of dictionaries (creating a store or a slot), and age's encrypter and
 * noble's Ed25519 (key slots). Inside the main bundle they made every command read, check and
 * load 2.4 MB where it needs 0.7 MB (~15 ms of each start-up on this machine). Each is bundled
 * on its own into dist/bundle/vendor/<name>.cjs, which the main bundle requires when the import
 * runs; the unbundled code (dist/src, the tests) imports the packages themselves, as before.
 */
const LAZY = ['@zxcvbn-ts/core', '@zxcvbn-ts/language-common', '@zxcvbn-ts/language-en', 'age-encryption', '@noble/curves/ed25519.js'];
const vendorFile = (spec) => `vendor/${spec.replace(/^@/, '').replace(/[^A-Za-z0-9.-]+/g, '-')}.cjs`;
const lazyVendor = {
  name: 'lazy-vendor',
  setup(b) {
    const filter = new RegExp(`^(${LAZY.map((x) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      // A static import would load the package with the bundle anyway: refuse it, so the saving cannot silently go.
      if (args.kind !== 'dynamic-import') return { errors: [{ text: `lazy-vendor: ${args.path} must be loaded with import() (${args.importer})` }] };
      return { path: args.path, namespace: 'lazy-vendor' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-vendor' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(`./${vendorFile(args.path)}`)});`, loader: 'js', resolveDir: outdir }));
    b.onResolve({ filter: /^\.\/vendor\//, namespace: 'lazy-vendor' }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * `import fs from 'node:fs'` in CommonJS output becomes `__toESM(require("node:fs"))` at every
 * importing module, and __toESM copies every export of the module onto a new object as a getter:
 * 112 default imports of node:fs, node:path, node:crypto, node:os and node:zlib made ~6,500
 * property definitions at every start (~15 ms of each command on this machine). This plugin
 * points those default imports of our own modules at one small module per builtin,
 * `export default require(...)`, so each builtin is required once and used as it is. Named imports
 * are left alone (esbuild already compiles them to a plain require).
 */
const BUILTIN_DEFAULT = /^import (\w+) from '(node:[a-z_/]+)';$/gm;
const builtinDefaults = {
  name: 'builtin-defaults',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      return { contents: source.replace(BUILTIN_DEFAULT, "import $1 from 'lore-builtin:$2';"), loader: 'js', resolveDir: path.dirname(args.path) };
    });
    b.onResolve({ filter: /^lore-builtin:/ }, (args) => ({ path: args.path.slice('lore-builtin:'.length), namespace: 'lore-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lore-builtin' }, (args) => ({ contents: `const m = require(${JSON.stringify(args.path)});\nexport default m;\n`, loader: 'js' }));
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
for (const spec of LAZY) {
  await build({
    stdin: { contents: `export * from ${JSON.stringify(spec)};`, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: path.join(outdir, vendorFile(spec)),
    minify: true,
    logLevel: 'warning',
  });
}
await build({
  entryPoints: [path.join(dist, 'src/cli/main.js'), path.join(dist, 'src/cli/remote-helper.js')],
  bundle: true,
  platform: 'node',
  // CommonJS so the launcher can compile it with vm.Script and a code cache (src/cli/launch.ts).
  format: 'cjs',
  target: 'node20',
  // Native addons cannot be bundled (better-sqlite3's JavaScript is, and src/store/sqlite.ts
  // names its addon; `bindings`, which it would otherwise ask, stays outside); the MCP SDK is
  // large and only `git lore mcp` loads it.
  external: ['bindings', 'argon2', '@modelcontextprotocol/sdk'],
  // yargs imports string-width (an ESM-only package with a large Unicode table); ours is smaller
  // and is the one the CLI already uses for column widths.
  alias: { 'string-width': path.join(dist, 'src/cli/string-width.js') },
  // `import.meta.url` does not exist in CommonJS: every use becomes the bundle file's own URL.
  inject: [path.join(dist, 'src/cli/import-meta.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  outdir,
  outExtension: { '.js': '.cjs' },
  plugins: [yargsShim, lazyVendor, builtinDefaults],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The launcher bin/* require (src/cli/launch.ts), as CommonJS beside the bundles: bin/ is
// CommonJS (bin/package.json), since Node's ESM loader costs ~5 ms more to start even for a
// two-line entry point that imports one file.
await build({
  entryPoints: [path.join(dist, 'src/cli/launch.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  inject: [path.join(dist, 'src/cli/import-meta.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  outfile: path.join(outdir, 'launch.cjs'),
  plugins: [builtinDefaults],
  logLevel: 'warning',
});

// The V8 code caches beside the bundles, written by runs of the executables on a small workload
// (scripts/code-cache.mjs says why a workload).
await writeCodeCaches(root, outdir);
