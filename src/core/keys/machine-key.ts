import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CryptoError, LoreError, UsageError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { Keyring } from '../../store/keyring.js';
import { ensureLoreHome, writePrivateFile } from '../../store/home.js';
import { verifyKey, type Descriptor, type KeySlot } from '../../format/descriptor.js';
import { epochKeys, openPassphraseSlot, slotFingerprint, unlockWithPassphrase, verifyDescriptor } from '../../format/slots.js';
import { readSshPrivateKey, sshKeyIsEncrypted, sshPublicKeyOfPrivate } from '../../crypto/ssh-key.js';
import { identityOfEd25519, recipientOf, unwrapWithIdentity } from '../../crypto/age-wrap.js';
import { log } from '../../log.js';
import { secretPrompt } from '../passphrase.js';

/**
 * Which key slot this machine opens, per store: `$LORE_HOME/keys/<store-id>.slot` (0600), beside
 * the cached data key. With it a machine picks up a new key epoch by itself: a passphrase slot
 * through its cached KEK (the Argon2id output, never the passphrase), an ssh or age slot through
 * the identity file it joined with (read again; an encrypted ssh key asks its passphrase).
 */
export interface MachineSlot {
  slot: string;
  kind: 'passphrase' | 'ssh-ed25519' | 'x25519';
  /** passphrase slots: base64 KEK */
  kek?: string;
  /** ssh and age slots: the identity file joined with */
  identityFile?: string;
  /** ssh and age slots: the slot's fingerprint */
  fingerprint?: string;
}

const slotFile = (ctx: LoreContext, storeId: string) => {
  if (!/^[0-9a-f]{32}$/.test(storeId)) throw new LoreError(`invalid store id ${storeId}`);
  return path.join(ensureLoreHome(ctx.paths.loreHome), 'keys', `${storeId}.slot`);
};

/** The slot this machine uses for a store, or null. */
export function machineSlot(ctx: LoreContext, storeId: string): MachineSlot | null {
  try {
    const m = JSON.parse(fs.readFileSync(slotFile(ctx, storeId), 'utf8')) as MachineSlot;
    return m && typeof m.slot === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** Caches a store's current key and the slot this machine opens it with. */
export function rememberKey(ctx: LoreContext, storeId: string, key: Buffer, slot?: MachineSlot): void {
  new Keyring(ctx.paths.loreHome).put(storeId, key);
  if (slot) writePrivateFile(slotFile(ctx, storeId), `${JSON.stringify(slot)}\n`);
}

/** The ssh or age identity file: `--identity`, LORE_SSH_KEY, else ~/.ssh/id_ed25519 (null when absent). */
export function identityPath(ctx: LoreContext, explicit?: string): string | null {
  const chosen = explicit ?? ctx.env.vars.LORE_SSH_KEY;
  if (chosen) return path.resolve(ctx.env.cwd, chosen.replace(/^~(?=\/)/, ctx.env.vars.HOME ?? os.homedir()));
  const def = path.join(ctx.env.vars.HOME ?? os.homedir(), '.ssh', 'id_ed25519');
  return fs.existsSync(def) ? def : null;
}

function readIdentityFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the identity file ${file} (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err, hint: 'Name your ssh private key with --identity or LORE_SSH_KEY.' });
  }
}

/** The slot of `d` an identity file opens (matched by public key, nothing decrypted yet), or null. */
export async function slotForIdentity(d: Descriptor, text: string): Promise<KeySlot | null> {
  if (/AGE-SECRET-KEY-1/.test(text)) {
    const recipient = await recipientOf(text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!.trim());
    return d.slots.find((s) => s.kind === 'x25519' && s.recipient === recipient) ?? null;
  }
  const fp = sshPublicKeyOfPrivate(text).fingerprint;
  return d.slots.find((s) => s.kind === 'ssh-ed25519' && slotFingerprint(s) === fp) ?? null;
}

/**
 * The current key through an identity file (ssh-ed25519 or age), verified against `d`. An
 * encrypted ssh key asks its passphrase on a terminal (or takes LORE_SSH_PASSPHRASE); without
 * either (hooks, the remote helper: their stdin is never a terminal) it fails at once, never waits.
 * `rotation`: the key is opened to pick up a rotated store key (the error then says so).
 */
export async function openWithIdentity(ctx: LoreContext, d: Descriptor, file: string, rotation = false): Promise<{ key: Buffer; slot: KeySlot }> {
  const text = readIdentityFile(file);
  const slot = await slotForIdentity(d, text);
  if (!slot) {
    throw new CryptoError(`the key ${file} has no key slot in lore store ${d.storeId}`, {
      hint: 'Ask a member to run `git lore keys add <your name> --ssh <your .pub file>`, or join with the passphrase (LORE_PASSPHRASE). Nothing was written.',
    });
  }
  let identity: string;
  if (slot.kind === 'x25519') identity = text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!.trim();
  else {
    let passphrase: string | Buffer | undefined;
    if (sshKeyIsEncrypted(text)) {
      passphrase = ctx.env.vars.LORE_SSH_PASSPHRASE;
      const ask = secretPrompt(ctx.env);
      if (passphrase === undefined) {
        if (!ask || !ctx.env.stdinIsTTY) {
          if (rotation) {
            throw new UsageError(`the key of lore store ${d.storeId} was rotated (epoch ${d.epoch ?? 0}) and picking it up takes your ssh key ${file}, which is encrypted; there is no terminal here to ask its passphrase: run \`git lore sync\` in a terminal once`, {
              hint: 'Run `git lore sync` in a terminal (it asks the ssh key\'s passphrase once, then caches the new store key), or set LORE_SSH_PASSPHRASE for that one command. Hooks never ask.',
            });
          }
          throw new UsageError(`the ssh key ${file} is encrypted, and there is no terminal to ask its passphrase`, { hint: 'Set LORE_SSH_PASSPHRASE, or run the command in a terminal.' });
        }
        passphrase = await ask(`Passphrase for ${file}: `);
      }
    }
    let seed: Buffer;
    try {
      ({ seed } = await readSshPrivateKey(text, passphrase));
    } finally {
      if (Buffer.isBuffer(passphrase)) passphrase.fill(0);
    }
    identity = await identityOfEd25519(seed);
    seed.fill(0);
  }
  const key = await unwrapWithIdentity(slot.wrapped, identity, `key slot ${slot.id}`);
  verifyDescriptor(d, key);
  return { key, slot };
}

/** Joins with the passphrase: the verified key, cached with the slot's KEK. */
export async function joinWithPassphrase(ctx: LoreContext, d: Descriptor, passphrase: string | Uint8Array): Promise<Buffer> {
  const { key, slot, kek } = await unlockWithPassphrase(d, passphrase);
  rememberKey(ctx, d.storeId, key, { slot: slot.id, kind: 'passphrase', kek: kek.toString('base64') });
  return key;
}

/** Joins with an identity file (ssh or age): the verified key, cached with the file's path. */
export async function joinWithIdentity(ctx: LoreContext, d: Descriptor, file: string): Promise<Buffer> {
  const { key, slot } = await openWithIdentity(ctx, d, file);
  rememberKey(ctx, d.storeId, key, { slot: slot.id, kind: slot.kind as 'ssh-ed25519' | 'x25519', identityFile: file, fingerprint: slotFingerprint(slot) });
  return key;
}

/**
 * The identity file to join `d` with, when one is named (--identity, LORE_SSH_KEY) or the default
 * ~/.ssh/id_ed25519 has a slot in it; null: join with the passphrase.
 */
export async function identityToJoin(ctx: LoreContext, d: Descriptor, explicit?: string): Promise<string | null> {
  const file = identityPath(ctx, explicit);
  if (!file) return null;
  if (explicit ?? ctx.env.vars.LORE_SSH_KEY) return file;
  try {
    return (await slotForIdentity(d, readIdentityFile(file))) ? file : null;
  } catch {
    return null;
  }
}

/**
 * Every epoch's key of `d` (index = epoch; the last is current), from the cached key. When the
 * store's key was rotated since it was cached, the new one is picked up through this machine's
 * slot, accepted only if its key history holds the key cached here (so only a member holding that
 * key can have rotated it), and cached.
 */
export async function currentKeys(ctx: LoreContext, d: Descriptor): Promise<Buffer[]> {
  const { key: cached, problem } = new Keyring(ctx.paths.loreHome).get(d.storeId);
  if (!cached) {
    throw new LoreError(problem ? `${problem} for lore store ${d.storeId}` : `no key is cached for lore store ${d.storeId} on this machine`, {
      hint: 'Run `git lore sync setup` once to enter the passphrase (or join with your ssh key).',
    });
  }
  try {
    verifyKey(d, cached);
    return epochKeys(d, cached);
  } catch (err) {
    if (!(d.epoch ?? 0)) throw err;
  }
  const mine = machineSlot(ctx, d.storeId);
  if (!mine) {
    throw new CryptoError(`the key of lore store ${d.storeId} was rotated (epoch ${d.epoch}), and this machine does not know which key slot it joined with`, {
      hint: 'Run `git lore sync setup` once (passphrase or ssh key) to pick up the new key; machines that joined with an older git-lore need this once.',
    });
  }
  const slot = d.slots.find((s) => s.id === mine!.slot);
  if (!slot) {
    throw new CryptoError(`this machine's key slot (${mine!.slot}) is no longer in lore store ${d.storeId}: the store's key was rotated without it`, {
      hint: 'A member removed this key (`git lore keys remove`): ask one to add it again. Sessions written before the removal stay readable here; nothing newer is.',
    });
  }
  log.sync('store %s is at key epoch %d; picking up its key through slot %s', d.storeId, d.epoch, slot.id);
  let key: Buffer;
  if (mine!.kind === 'passphrase') key = await openPassphraseSlot(d, slot, Buffer.from(mine!.kek ?? '', 'base64'));
  else key = (await openWithIdentity(ctx, d, mine!.identityFile!, true)).key;
  const keys = epochKeys(d, key);
  if (!keys.some((k) => k.equals(cached))) {
    throw new CryptoError(`the new key of lore store ${d.storeId} does not carry the key this machine had: refusing it`, { hint: 'The lore ref may have been tampered with (docs/SECURITY.md).' });
  }
  rememberKey(ctx, d.storeId, key);
  return keys;
}
