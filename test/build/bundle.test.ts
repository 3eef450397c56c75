import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/machine.js';

/** `--help` of the bundled CLI (bin/git-lore) and of the unbundled modules, under one locale. */
function help(entry: 'bundle' | 'modules', lang: string): string {
  const script = entry === 'bundle'
    ? [path.join(ROOT, 'bin', 'git-lore'), '--help']
    : ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(ROOT, 'dist/src/cli/main.js'))}); await m.main(['--help']);`];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', LANG: lang };
  const r = spawnSync(process.execPath, script, { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// The bundle used to look for yargs' message catalogues outside the checkout (scripts/bundle.mjs
// explains why), so under a German locale it answered in English where the modules answered in
// German. Broken on purpose (the yargs-shim plugin removed from scripts/bundle.mjs), this test
// fails on the first assertion.
test('the bundled CLI finds yargs\' locales as the unbundled modules do', () => {
  const bundled = help('bundle', 'de_DE.UTF-8');
  assert.match(bundled, /Hilfe anzeigen/, 'yargs\' own labels translated in the bundle');
  assert.equal(bundled, help('modules', 'de_DE.UTF-8'));
  assert.match(help('bundle', 'C'), /Show help/);
});

// The strength estimator's dictionaries and age's encrypter are bundled apart (scripts/bundle.mjs,
// lazy-vendor): the main bundle must not carry them, and the commands that use them must still
// find them. Inlined again (the plugin removed), the first assertion fails.
test('the bundle leaves the rarely used packages out and loads them when a command needs them', async () => {
  const fs = await import('node:fs');
  const main = fs.readFileSync(path.join(ROOT, 'dist/bundle/main.cjs'), 'utf8');
  assert.ok(!main.includes('qwertz') && !main.includes('zymurgy'), 'no zxcvbn keyboard graph or dictionary in the main bundle');
  assert.ok(main.length < 1_200_000, `the main bundle is ${main.length} bytes`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'git-lore'), 'passphrase', 'generate'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\S+( \S+){5}$/, 'six words from the dictionary loaded on demand');
});

// The code cache is written after a workload of real commands (scripts/code-cache.mjs), so a sync
// finds capture, seal and push compiled. Written after `--help` alone again, the manifest is
// missing and the first assertion fails; a cache V8 refuses (written for another source) fails
// the second.
test('the main bundle\'s code cache was written after a sync workload and V8 accepts it', async () => {
  const fs = await import('node:fs');
  const vm = await import('node:vm');
  const { default: Module } = await import('node:module');
  const dir = path.join(ROOT, 'dist/bundle');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'main.cache.json'), 'utf8')) as { steps: string[] };
  for (const step of ['sync', 'sync (one new session)', 'sync (a session grown)', 'blame']) assert.ok(manifest.steps.includes(step), `the workload ran ${step}`);
  const file = path.join(dir, 'main.cjs');
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData: fs.readFileSync(path.join(dir, 'main.cache')) });
  assert.equal(script.cachedDataRejected, false, 'V8 accepts the cache for this bundle');
});

// Default imports of node's modules used to become one __toESM copy of the whole module per
// importing file (scripts/bundle.mjs, builtin-defaults). With the plugin removed, esbuild's
// `x(require("node:fs"),1)` calls come back and this fails.
test('the bundle requires node\'s modules once instead of copying them per importing file', async () => {
  const fs = await import('node:fs');
  const main = fs.readFileSync(path.join(ROOT, 'dist/bundle/main.cjs'), 'utf8');
  const copies = main.match(/[\w$]+\(require\("node:(fs|path|crypto|os|zlib)"\),1\)/g) ?? [];
  assert.deepEqual(copies, []);
  assert.ok((main.match(/require\("node:fs"\)/g) ?? []).length <= 2, 'node:fs required once (and by a bundled package at most once more)');
});

// yargs looked for "its" package.json from the working folder up (in the bundle it had no other
// start), and read what it found: a repository whose package.json is a FIFO hung every command.
// With the bundle's yargs patch removed (scripts/bundle.mjs, mainFilename), this times out.
test('the bundled CLI does not read a package.json of the folder it runs in', async () => {
  const fs = await import('node:fs');
  const { tmpdir } = await import('../helpers/machine.js');
  const dir = tmpdir('lore-pkg-fifo-');
  const made = spawnSync('mkfifo', [path.join(dir, 'package.json')]);
  assert.equal(made.status, 0, 'mkfifo');
  assert.ok(fs.statSync(path.join(dir, 'package.json')).isFIFO());
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'git-lore'), '--help'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, LANG: 'C' }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, 'git-lore --help finished');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /git lore <command>/);
});
