import fs from 'node:fs';
import path from 'node:path';
import { CryptoError, UsageError } from '../../errors.js';
import type { LoreContext } from '../context.js';
import { openLegacySlot, type Descriptor, type KeySlot } from '../../format/descriptor.js';
import { passphraseSlot, publicKeySlot, rotate, slotFingerprint, slotKind, unlockWithPassphrase, withSlots, type SlotMeta } from '../../format/slots.js';
import { deriveKey } from '../../crypto/primitives.js';
import { AGE_RECIPIENT } from '../../crypto/age-wrap.js';
import { parseSshPublicKey } from '../../crypto/ssh-key.js';
import { readPassphrase } from '../passphrase.js';
import { commitDescriptor, openRemoteStore, type StoreChoice } from './change.js';
import { currentKeys, machineSlot, rememberKey } from './machine-key.js';
import { assertStrongPassphrase } from './strength.js';

/** One slot as `git lore keys list` shows it (docs/json.md). */
export interface KeyInfo {
  id: string;
  kind: 'passphrase' | 'ssh-ed25519' | 'x25519';
  label: string | null;
  fingerprint: string;
  addedBy: string | null;
  addedAt: string | null;
  thisMachine: boolean;
}

export interface KeyList {
  remote: string;
  storeId: string;
  /** the store's format version (2, or 3 once keys were managed) */
  format: number;
  epoch: number;
  keys: KeyInfo[];
}

const info = (s: KeySlot, mine: string | undefined): KeyInfo => ({
  id: s.id, kind: slotKind(s), label: s.label ?? null, fingerprint: slotFingerprint(s), addedBy: s.addedBy ?? null, addedAt: s.addedAt ?? null, thisMachine: s.id === mine,
});

/** `git lore keys list`: the remote store's slots, checked against the key (a slot list edited by the host is refused). */
export async function listKeys(ctx: LoreContext, opts: StoreChoice = {}): Promise<KeyList> {
  const store = await openRemoteStore(ctx, opts);
  try {
    const d = store.state.descriptor;
    await currentKeys(ctx, d);
    const mine = machineSlot(ctx, d.storeId)?.slot;
    return { remote: store.remote, storeId: d.storeId, format: d.version, epoch: d.epoch ?? 0, keys: d.slots.map((s) => info(s, mine)) };
  } finally {
    await store.cat.close();
  }
}

async function slotMeta(ctx: LoreContext, label: string, git: { configGet(k: string): Promise<string | null> }): Promise<SlotMeta> {
  const who = (await git.configGet('user.name')) ?? (await git.configGet('user.email')) ?? 'unknown';
  // Minutes only: the descriptor is plaintext (docs/SECURITY.md).
  return { label, addedBy: who.slice(0, 100), addedAt: `${ctx.env.now().toISOString().slice(0, 16)}Z` };
}

function checkLabel(label: string): void {
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._@+-]{0,63}$/u.test(label)) {
    throw new UsageError(`the label ${JSON.stringify(label.slice(0, 80))} is not allowed`, { hint: 'Use 1 to 64 letters, digits, spaces and ._@+- (e.g. a name), starting with a letter or digit.' });
  }
}

export interface AddKeyOptions extends StoreChoice {
  label: string;
  /** an ssh public key: a .pub file or its line */
  ssh?: string;
  /** an age X25519 recipient (age1…) */
  age?: string;
}

/** `git lore keys add`: wraps the store's current key to a member's public key (one CAS-pushed commit). */
export async function addKey(ctx: LoreContext, opts: AddKeyOptions): Promise<{ slot: KeyInfo; storeId: string; commit: string; remote: string }> {
  checkLabel(opts.label);
  if (!opts.ssh === !opts.age) throw new UsageError('give exactly one of --ssh <public key> and --age <age1…>', { hint: 'e.g. `git lore keys add ann --ssh ~/ann.pub`' });
  let what: { ssh?: string; age?: string };
  if (opts.ssh) {
    const file = path.resolve(ctx.env.cwd, opts.ssh);
    const text = !/^(ssh-|ecdsa-|sk-)/.test(opts.ssh.trim()) && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : opts.ssh;
    what = { ssh: parseSshPublicKey(text).line };
  } else {
    if (!AGE_RECIPIENT.test(opts.age!.trim())) throw new UsageError(`malformed age recipient ${JSON.stringify(opts.age!.slice(0, 80))}`, { hint: 'An age X25519 recipient looks like age1 followed by 58 characters (`age-keygen -y key.txt`). Nothing was written.' });
    what = { age: opts.age!.trim() };
  }
  return commitDescriptor(ctx, opts, `keys: add ${opts.label}`, async ({ git, state }) => {
    const d = state.descriptor;
    const keys = await currentKeys(ctx, d);
    const slot = await publicKeySlot(d.slots, keys.at(-1)!, what, await slotMeta(ctx, opts.label, git));
    const fp = slotFingerprint(slot);
    const same = d.slots.find((s) => s.label === opts.label || slotFingerprint(s) === fp);
    if (same) throw new UsageError(`the store already has a key slot ${same.label === opts.label ? `labelled ${opts.label}` : `for ${fp}`} (${same.id})`, { hint: 'See `git lore keys list`. Nothing was written.' });
    const descriptor = withSlots(d, keys.at(-1)!, [...d.slots, slot]);
    return { descriptor, result: { slot: info(slot, undefined), storeId: d.storeId } };
  });
}

/** The slot named by label, fingerprint, or slot id; UsageError when none or several. */
function findSlot(d: Descriptor, which: string): KeySlot {
  const hits = d.slots.filter((s) => s.id === which || s.label === which || slotFingerprint(s) === which);
  if (hits.length === 1) return hits[0]!;
  if (!hits.length) throw new UsageError(`no key slot is labelled ${JSON.stringify(which)} or has that fingerprint`, { hint: 'See `git lore keys list`. Nothing was written.' });
  throw new UsageError(`${hits.length} key slots match ${JSON.stringify(which)}`, { hint: 'Name it by its fingerprint or id (`git lore keys list`). Nothing was written.' });
}

/**
 * Format-2 passphrase slots cannot take a new key without their passphrase: upgraded here with
 * the KEK this machine cached for it, else with LORE_PASSPHRASE / the terminal. UsageError when neither opens it.
 */
async function upgradeLegacy(ctx: LoreContext, d: Descriptor, slots: KeySlot[], key: Buffer, passphrase?: Buffer): Promise<KeySlot[]> {
  const mine = machineSlot(ctx, d.storeId);
  const out: KeySlot[] = [];
  for (const s of slots) {
    if (s.kind) {
      out.push(s);
      continue;
    }
    let kek: Buffer | null = mine?.slot === s.id && mine.kek ? Buffer.from(mine.kek, 'base64') : null;
    if (!kek) {
      const pass = passphrase ?? (await readPassphrase(ctx.env, { confirm: false, purpose: `carry the passphrase slot ${s.id} over to the new key` }).catch((err) => {
        throw new UsageError(`the passphrase slot ${s.id} predates key rotation: the new key can be wrapped to it only with its passphrase`, {
          cause: err, hint: 'Set LORE_PASSPHRASE (or run in a terminal), or have its holder run `git lore passphrase change` first. Nothing was written.',
        });
      }));
      try {
        kek = await deriveKey(pass, s.kdf!);
      } finally {
        if (pass !== passphrase) pass.fill(0);
      }
    }
    try {
      openLegacySlot(d.storeId, s, kek);
    } catch (err) {
      throw new CryptoError(`the passphrase given does not open the passphrase slot ${s.id}, which the new key must be wrapped to`, { cause: err, hint: 'Set LORE_PASSPHRASE to that slot\'s passphrase. Nothing was written.' });
    }
    const { slot } = await passphraseSlot(d.storeId, out, key, null, { label: s.label ?? 'passphrase', addedBy: s.addedBy ?? 'unknown', addedAt: s.addedAt ?? '' }, { id: s.id, kdf: s.kdf!, kek });
    out.push(slot);
  }
  return out;
}

export interface RemoveKeyOptions extends StoreChoice {
  which: string;
}

/**
 * `git lore keys remove`: drops the slot and rotates the store's key in the same commit: a new
 * epoch whose key every other slot gets and the removed one cannot unwrap. Refuses the last slot
 * and the slot this machine uses.
 */
export async function removeKey(ctx: LoreContext, opts: RemoveKeyOptions): Promise<{ removed: KeyInfo; epoch: number; storeId: string; commit: string; remote: string }> {
  const r = await commitDescriptor(ctx, opts, `keys: remove ${opts.which}, rotate the key`, async ({ state }) => {
    const d = state.descriptor;
    const keys = await currentKeys(ctx, d);
    const s = findSlot(d, opts.which);
    if (d.slots.length === 1) throw new UsageError('that is the store\'s last key slot: removing it would lock everyone out', { hint: 'Add another key first (`git lore keys add`). Nothing was written.' });
    const mine = machineSlot(ctx, d.storeId);
    if (mine?.slot === s.id) throw new UsageError(`slot ${s.label ?? s.id} is the one this machine uses`, { hint: 'Remove it from another member\'s machine, or change the passphrase (`git lore passphrase change`). Nothing was written.' });
    const kept = await upgradeLegacy(ctx, d, d.slots.filter((x) => x !== s), keys.at(-1)!);
    const { descriptor, key } = await rotate(d, keys, kept);
    return { descriptor, result: { removed: info(s, undefined), epoch: descriptor.epoch!, storeId: d.storeId, key } };
  });
  // Cached once pushed. Killed before this line, the machine still holds the old key, and its
  // next command picks the new one up through its slot (the new history holds the old key).
  rememberKey(ctx, r.storeId, r.key);
  const { key: _key, ...out } = r;
  return out;
}

/** The new passphrase: LORE_NEW_PASSPHRASE, LORE_NEW_PASSPHRASE_FILE, or the terminal (twice). */
async function readNewPassphrase(ctx: LoreContext): Promise<Buffer> {
  const vars = ctx.env.vars;
  return readPassphrase({ ...ctx.env, vars: { ...vars, LORE_PASSPHRASE: vars.LORE_NEW_PASSPHRASE, LORE_PASSPHRASE_FILE: vars.LORE_NEW_PASSPHRASE_FILE } as typeof vars }, { confirm: true, purpose: 'set the new passphrase (LORE_NEW_PASSPHRASE)', prompt: 'New passphrase' });
}

export interface ChangePassphraseOptions extends StoreChoice {
  /** also rotate the store's key */
  rotate?: boolean;
}

/**
 * `git lore passphrase change`: a new passphrase slot for the new passphrase, the slot the current
 * one opens removed, nothing re-encrypted. With `rotate`, a new key epoch too.
 */
export async function changePassphrase(ctx: LoreContext, opts: ChangePassphraseOptions): Promise<{ slot: string; epoch: number; commit: string; remote: string }> {
  const r = await changePassphraseCommit(ctx, opts);
  rememberKey(ctx, r.storeId, r.key, { slot: r.slot, kind: 'passphrase', kek: r.kek });
  return { slot: r.slot, epoch: r.epoch, commit: r.commit, remote: r.remote };
}

async function changePassphraseCommit(ctx: LoreContext, opts: ChangePassphraseOptions) {
  const current = await readPassphrase(ctx.env, { confirm: false, purpose: 'change it (the current passphrase, LORE_PASSPHRASE)' });
  let next: Buffer | null = null;
  try {
    next = await readNewPassphrase(ctx);
    return await changePassphraseWith(ctx, opts, current, next);
  } finally {
    current.fill(0);
    next?.fill(0);
  }
}

/** The descriptor commit of a passphrase change; the caller zeroes both passphrases afterwards. */
async function changePassphraseWith(ctx: LoreContext, opts: ChangePassphraseOptions, current: Buffer, next: Buffer) {
  if (next.equals(current)) throw new UsageError('the new passphrase is the current one', { hint: 'Choose another. Nothing was written.' });
  await assertStrongPassphrase(next);
  return commitDescriptor(ctx, opts, `passphrase change${opts.rotate ? ', rotate the key' : ''}`, async ({ git, state }) => {
    const d = state.descriptor;
    const keys = await currentKeys(ctx, d);
    const old = await unlockWithPassphrase(d, current);
    const others = d.slots.filter((s) => s.id !== old.slot.id);
    const meta = { ...(await slotMeta(ctx, old.slot.label ?? 'passphrase', git)) };
    const made = await passphraseSlot(d.storeId, d.slots, keys.at(-1)!, next, meta);
    let descriptor: Descriptor;
    let key = keys.at(-1)!;
    if (opts.rotate) {
      const kept = await upgradeLegacy(ctx, d, others, key, current);
      ({ descriptor, key } = await rotate(d, keys, [...kept, made.slot]));
    } else descriptor = withSlots(d, key, [...others, made.slot]);
    return { descriptor, result: { slot: made.slot.id, epoch: descriptor.epoch ?? 0, storeId: d.storeId, key, kek: made.kek.toString('base64') } };
  });
}
