import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseSshPublicKey, readSshPrivateKey, sshPublicKeyOfPrivate } from '../../src/crypto/ssh-key.js';
import { identityOfEd25519, recipientOf, recipientOfEd25519, unwrapWithIdentity, wrapToRecipient } from '../../src/crypto/age-wrap.js';
import { assertStrongPassphrase, generatePassphrase } from '../../src/core/keys/strength.js';
import { tmpdir } from '../helpers/machine.js';

function keygen(type: string, pass = ''): { priv: string; pub: string } {
  const f = path.join(tmpdir('lore-ssh-'), `id_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', pass, '-C', 'me@test', '-f', f], { stdio: 'ignore' });
  return { priv: fs.readFileSync(f, 'utf8'), pub: fs.readFileSync(`${f}.pub`, 'utf8') };
}

test('ssh keys: an ed25519 pair made by ssh-keygen wraps and unwraps; fingerprints as ssh-keygen -l prints them', async () => {
  const k = keygen('ed25519');
  const pub = parseSshPublicKey(k.pub);
  const f = path.join(tmpdir('lore-ssh-'), 'k.pub');
  fs.writeFileSync(f, k.pub);
  assert.equal(pub.fingerprint, execFileSync('ssh-keygen', ['-l', '-f', f], { encoding: 'utf8' }).split(' ')[1]);
  assert.equal(sshPublicKeyOfPrivate(k.priv).fingerprint, pub.fingerprint);
  const { seed } = await readSshPrivateKey(k.priv);
  const key = Buffer.alloc(32, 9);
  const wrapped = await wrapToRecipient(key, await recipientOfEd25519(pub.key));
  const identity = await identityOfEd25519(seed);
  assert.equal(await recipientOf(identity), await recipientOfEd25519(pub.key));
  assert.deepEqual(await unwrapWithIdentity(wrapped, identity, 't'), key);
});

test('ssh keys: an encrypted key opens with its passphrase; a wrong one is a clear error', async () => {
  const k = keygen('ed25519', 'open sesame please');
  await assert.rejects(readSshPrivateKey(k.priv, 'wrong'), /wrong passphrase for the ssh key/);
  const { publicKey } = await readSshPrivateKey(k.priv, 'open sesame please');
  assert.equal(publicKey.fingerprint, parseSshPublicKey(k.pub).fingerprint);
});

test('ssh keys: RSA and ECDSA are refused naming what works; malformed lines are refused', async () => {
  const ec = keygen('ecdsa');
  assert.throws(() => parseSshPublicKey(ec.pub), /kind ecdsa-sha2-nistp256 are not supported/);
  await assert.rejects(readSshPrivateKey(ec.priv), /kind ecdsa-sha2-nistp256 are not supported/);
  assert.throws(() => parseSshPublicKey('ssh-rsa AAAAB3NzaC1yc2E= me'), (e: Error & { hint?: string }) => /ssh-rsa are not supported/.test(e.message) && /ssh-ed25519/.test(e.hint ?? ''));
  assert.throws(() => parseSshPublicKey('ssh-ed25519 AAAA'), /malformed ssh public key/);
  assert.throws(() => parseSshPublicKey('ssh-ed25519'), /malformed ssh public key/);
  assert.throws(() => parseSshPublicKey(ec.priv), /that is a private key/);
  // A valid blob of another kind under the ed25519 name.
  const blob = Buffer.from(ec.pub.split(' ')[1]!, 'base64').toString('base64');
  assert.throws(() => parseSshPublicKey(`ssh-ed25519 ${blob}`), /not an ssh-ed25519 key/);
});

test('passphrase strength: password, 12345678 and lore refused with a generated one offered; correct horse battery accepted', async () => {
  for (const weak of ['password', '12345678', 'lore']) {
    await assert.rejects(assertStrongPassphrase(weak), (e: Error & { hint?: string }) => /too weak|at least 8 characters/.test(e.message) && /"(\S+ ){5}\S+"/.test(e.hint ?? ''), weak);
  }
  await assertStrongPassphrase('correct horse battery');
  const g = await generatePassphrase();
  assert.equal(g.split(' ').length, 6);
  await assertStrongPassphrase(g);
});
