import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/machine.js';

/**
 * src/git/ owns git: no code outside it builds git argv (the runner's raw/exec/text, or a spawn
 * of `git` through process/spawn.ts), imports its internals (the runner, the concern files) or
 * names the runner. Only `src/git/git.js` is imported from outside.
 */
const RULES: Array<{ what: string; re: RegExp }> = [
  { what: 'runs git argv itself (raw/exec/text)', re: /\.(?:raw\(|exec\(\s*\[|text\(\s*\[)/ },
  { what: 'spawns git itself', re: /['"]git['"]\s*,\s*\[/ },
  { what: 'imports an internal of src/git/', re: /from\s+['"][^'"]*\/git\/(?!git\.js['"])[^'"]+['"]/ },
  { what: 'names the git runner', re: /\bGitRunner\b|\bgitChildEnv\b/ },
];

/**
 * Files allowed one rule, with the reason. The demo runs the commands a person would type
 * (`git clone`, `git push`, `git lore ...`) on two simulated machines and shows their output: it
 * plays the user, it is not git-lore's own use of git.
 */
const ALLOWED: Record<string, string> = { 'src/core/demo.ts': 'spawns git itself' };

function violations(files: Array<{ path: string; text: string }>): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (f.path.startsWith('src/git/')) continue;
    f.text.split('\n').forEach((line, i) => {
      for (const r of RULES) if (r.re.test(line) && ALLOWED[f.path] !== r.what) out.push(`${f.path}:${i + 1}: ${r.what}: ${line.trim()}`);
    });
  }
  return out;
}

function sources(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts')) out.push({ path: rel, text: fs.readFileSync(path.join(ROOT, rel), 'utf8') });
  }
  return out;
}

test('no source outside src/git/ runs git argv, spawns git or reaches into src/git/ internals', () => {
  const files = sources('src');
  assert.ok(files.length > 50 && files.some((f) => f.path === 'src/core/blame.ts'), 'the sources were found');
  assert.deepEqual(violations(files), []);
});

test('the ownership rules catch each kind of violation (the check can fail)', () => {
  const planted = [
    { path: 'src/core/a.ts', text: "const r = await git.raw(['update-ref', ref, oid]);" },
    { path: 'src/core/b.ts', text: "await git.exec(['remote', 'add', name, url]);\nconst t = await git.text([ 'rev-parse', 'HEAD' ]);" },
    { path: 'src/sources/c.ts', text: "const r = await run('git', ['-C', dir, 'log']);" },
    { path: 'src/remote/d.ts', text: "import { GitRunner } from '../git/runner.js';" },
    { path: 'src/core/demo.ts', text: "import { lsTree } from '../git/objects.js';" },
    { path: 'src/git/refs.ts', text: "await g.raw(['update-ref', ref, oid]);" },
    { path: 'src/store/db.ts', text: 'this.db.exec(`CREATE TABLE t (x)`);' },
  ];
  assert.deepEqual(violations(planted).map((v) => v.split(': ')[0]), ['src/core/a.ts:1', 'src/core/b.ts:1', 'src/core/b.ts:2', 'src/sources/c.ts:1', 'src/remote/d.ts:1', 'src/remote/d.ts:1', 'src/core/demo.ts:1']);
});
