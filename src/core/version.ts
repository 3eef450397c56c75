import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from './hooks.js';

/** This installation's version, from its package.json. */
export function loreVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
