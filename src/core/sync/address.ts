import path from 'node:path';

/** An address as a pin key: without `lore::`, credentials, a trailing slash or `.git`; local paths absolute. */
export function normalizeAddress(address: string, cwd: string): string {
  let a = address.startsWith('lore::') ? address.slice('lore::'.length) : address;
  a = a.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(a) && !/^[^/]+:/.test(a)) a = path.resolve(cwd, a);
  return a.replace(/\/+$/, '').replace(/\.git$/, '');
}
