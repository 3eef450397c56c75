import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tmpdir } from '../helpers/machine.js';

/**
 * The layering rules (.dependency-cruiser.cjs, run by `npm run lint`) catch what they forbid:
 * a small tree with one violation each is checked with the project's own config.
 */
function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = tmpdir('layering');
  fs.copyFileSync(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, out: r.stdout + r.stderr };
}

const entry = "import './core/use.js';\nexport {};\n";

test('the layering check passes a tree that keeps the arrows', () => {
  const r = cruise({
    'src/cli/main.ts': "import { use } from '../core/use.js';\nuse();\n",
    'src/core/use.ts': "import { open } from '../store/db.js';\nexport const use = () => open();\n",
    'src/store/db.ts': "import { fail } from '../errors.js';\nexport const open = () => fail();\n",
    'src/errors.ts': 'export const fail = () => 1;\n',
  });
  assert.equal(r.status, 0, r.out);
});

test('an upward import fails the check, naming the rule and the import', () => {
  const r = cruise({
    'src/cli/main.ts': "import { use } from '../core/use.js';\nuse();\n",
    'src/core/use.ts': "export const use = () => 1;\n",
    'src/store/db.ts': "import { use } from '../core/use.js';\nexport const open = () => use();\n",
    'src/core/other.ts': "import { open } from '../store/db.js';\nexport const x = open();\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-upward-from-store-git: src\/store\/db\.ts → src\/core\/use\.ts/);
});

test('child_process outside src/process fails the check', () => {
  const r = cruise({
    'src/cli/main.ts': entry,
    'src/core/use.ts': "import { spawn } from 'node:child_process';\nexport const use = spawn;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /child-process-only-in-process: src\/core\/use\.ts → (node:)?child_process/);
});

test('a cycle fails the check', () => {
  const r = cruise({
    'src/cli/main.ts': entry,
    'src/core/use.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/core/b.ts': "import { a } from './use.js';\nexport const b = () => a;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-circular/);
});
