import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { open, sealWithNonce, subkey, type SubkeyPurpose } from '../../src/crypto/primitives.js';

const hkdf = (key: Buffer, label: string) => Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), label, 32));

test('subkeys: HKDF-SHA256 with the labels of docs/FORMAT.md, all distinct', () => {
  const dataKey = Buffer.alloc(32, 7);
  const labels: Record<SubkeyPurpose, string> = {
    check: 'git-lore/1 check', digest: 'git-lore/1 digest', payload: 'git-lore/1 payload',
    'chunk-id': 'git-lore/2 chunk-id', chunk: 'git-lore/2 chunk', 'chunk-nonce': 'git-lore/2 chunk-nonce', index: 'git-lore/2 index',
    slots: 'git-lore/3 slots', history: 'git-lore/3 history',
  };
  const seen = new Set<string>();
  for (const [purpose, label] of Object.entries(labels) as Array<[SubkeyPurpose, string]>) {
    const k = subkey(dataKey, purpose);
    assert.deepEqual(k, hkdf(dataKey, label), purpose);
    seen.add(k.toString('hex'));
  }
  assert.equal(seen.size, 9);
});

test('sealWithNonce: the layout open reads, the nonce given, 12 bytes only', () => {
  const key = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(12);
  const aad = Buffer.from('aad');
  const sealed = sealWithNonce(key, nonce, Buffer.from('secret'), aad);
  assert.deepEqual(sealed.subarray(0, 12), nonce);
  assert.deepEqual(sealWithNonce(key, nonce, Buffer.from('secret'), aad), sealed, 'deterministic');
  assert.equal(open(key, sealed, aad, 't').toString(), 'secret');
  assert.throws(() => open(key, sealed, Buffer.from('other'), 't'), /authentication failed/);
  assert.throws(() => sealWithNonce(key, Buffer.alloc(11), Buffer.from('x'), aad), /12 bytes/);
});
