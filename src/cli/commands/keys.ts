import type { Argv, CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { addKey, changePassphrase, listKeys, removeKey } from '../../core/keys/manage.js';
import { resealAll } from '../../core/keys/reseal.js';
import { generatePassphrase } from '../../core/keys/strength.js';
import { jsonText } from '../output.js';

interface StoreArgs {
  remote?: string;
  global?: boolean;
}

const storeOpts = (a: StoreArgs) => ({ ...(a.remote ? { remote: a.remote } : {}), ...(a.global ? { global: true } : {}) });

/** `git lore keys list|add|remove`: the store's key slots (docs/FORMAT.md "Key slots and epochs"). */
export function keysCommand(ctx: LoreContext): CommandModule<object, object> {
  return {
    command: 'keys',
    describe: 'List, add and remove who can open the store: passphrases, ssh-ed25519 keys, age recipients',
    builder: (y: Argv) =>
      y
        .option('remote', { type: 'string', describe: 'Remote that holds the store' })
        .option('global', { alias: 'g', type: 'boolean', default: false, describe: 'The global personal store' })
        .command(listCommand(ctx))
        .command(addCommand(ctx))
        .command(removeCommand(ctx))
        .command({
          command: 'reseal',
          describe: 'Re-seal every session under the current key (after a rotation; run again if interrupted)',
          builder: (yy: Argv) => yy.example('git lore keys reseal', 'after `git lore keys remove` without --reseal'),
          handler: async (argv) => {
            const s = await resealAll(ctx, storeOpts(argv as StoreArgs));
            ctx.env.stdout.write(`lore: re-sealed ${s.resealed} session${s.resealed === 1 ? '' : 's'} under the current key${s.missing.length ? `; ${s.missing.length} not held here stay under the old key` : ''}\n`);
          },
        })
        .demandCommand(1, 'Name a keys command: list, add, remove or reseal')
        .example('git lore keys add ann --ssh ~/ann.pub', 'let Ann join with her ssh key')
        .example('git lore keys remove bob --reseal', 'remove Bob, rotate the key, re-seal every session'),
    handler: () => undefined,
  };
}

function listCommand(ctx: LoreContext): CommandModule<object, StoreArgs & { json: boolean }> {
  return {
    command: 'list',
    describe: 'Every key slot of the store: kind, label, fingerprint, who added it and when, which one this machine uses',
    builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Stable JSON output (docs/json.md)' }).example('git lore keys list --json', 'for scripts') as unknown as Argv<StoreArgs & { json: boolean }>,
    handler: async (argv) => {
      const r = await listKeys(ctx, storeOpts(argv));
      if (argv.json) {
        ctx.env.stdout.write(`${jsonText({ version: 1, ...r }, 2)}\n`);
        return;
      }
      const out = ctx.env.stdout;
      out.write(`store ${r.storeId} on ${r.remote}, key epoch ${r.epoch}\n`);
      for (const k of r.keys) {
        out.write(`${k.thisMachine ? '*' : ' '} ${k.id}  ${k.kind.padEnd(11)}  ${(k.label ?? '-').padEnd(16)}  ${k.fingerprint}${k.addedBy ? `  added by ${k.addedBy}${k.addedAt ? ` ${k.addedAt}` : ''}` : ''}\n`);
      }
      out.write('(* this machine)\n');
    },
  };
}

function addCommand(ctx: LoreContext): CommandModule<object, StoreArgs & { label: string; ssh?: string; age?: string }> {
  return {
    command: 'add <label>',
    describe: 'Wrap the store key to a member\'s public key: --ssh <.pub file or "ssh-ed25519 AAAA…" line> or --age <age1…>',
    builder: (y) =>
      y
        .positional('label', { type: 'string', demandOption: true, describe: 'A name for the slot (e.g. the member\'s name)' })
        .option('ssh', { type: 'string', describe: 'ssh-ed25519 public key: a .pub file or its line (RSA and ECDSA keys do not work)' })
        .option('age', { type: 'string', describe: 'age X25519 recipient (age1…)' })
        .example('git lore keys add ann --ssh ~/ann.pub', 'then Ann runs `git lore sync setup` with her ~/.ssh/id_ed25519') as unknown as Argv<StoreArgs & { label: string; ssh?: string; age?: string }>,
    handler: async (argv) => {
      const r = await addKey(ctx, { ...storeOpts(argv), label: argv.label, ...(argv.ssh ? { ssh: argv.ssh } : {}), ...(argv.age ? { age: argv.age } : {}) });
      ctx.env.stdout.write(`lore: added ${r.slot.kind} key ${r.slot.label} (${r.slot.fingerprint}) to store ${r.storeId} on ${r.remote}\n`);
      ctx.env.stdout.write(`lore: ${r.slot.label} joins with \`git lore sync setup\` (their private key: ~/.ssh/id_ed25519, LORE_SSH_KEY or --identity); tell them the store id ${r.storeId} to check\n`);
    },
  };
}

function removeCommand(ctx: LoreContext): CommandModule<object, StoreArgs & { which: string; reseal: boolean }> {
  return {
    command: 'remove <which>',
    describe: 'Remove a key slot (by label or fingerprint) and rotate the store key; --reseal re-seals every session under the new key',
    builder: (y) =>
      y
        .positional('which', { type: 'string', demandOption: true, describe: 'Label, fingerprint or slot id (`git lore keys list`)' })
        .option('reseal', { type: 'boolean', default: false, describe: 'Also re-seal every session under the new key' })
        .example('git lore keys remove bob', 'Bob can no longer read what is written from now on') as unknown as Argv<StoreArgs & { which: string; reseal: boolean }>,
    handler: async (argv) => {
      const r = await removeKey(ctx, { ...storeOpts(argv), which: argv.which });
      const out = ctx.env.stdout;
      out.write(`lore: removed ${r.removed.kind} key ${r.removed.label ?? r.removed.id} (${r.removed.fingerprint}) and rotated the store key to epoch ${r.epoch}\n`);
      if (argv.reseal) {
        const s = await resealAll(ctx, storeOpts(argv));
        out.write(`lore: re-sealed ${s.resealed} session${s.resealed === 1 ? '' : 's'} under the new key${s.missing.length ? `; ${s.missing.length} not held here stay under the old key` : ''}\n`);
        out.write('lore: the removed key still opens what it could before in git history (old commits keep the old objects); only a history rewrite on every clone removes those\n');
      } else {
        out.write(`lore: the removed key can still read every session written before now (in this ref and in git history); nothing written from now on. \`git lore keys remove … --reseal\` or \`git lore keys reseal\` re-seals the current sessions\n`);
      }
    },
  };
}

/** `git lore passphrase change|generate`. */
export function passphraseCommand(ctx: LoreContext): CommandModule<object, object> {
  return {
    command: 'passphrase',
    describe: 'Change the store passphrase, or print a generated one',
    builder: (y: Argv) =>
      y
        .option('remote', { type: 'string', describe: 'Remote that holds the store' })
        .option('global', { alias: 'g', type: 'boolean', default: false, describe: 'The global personal store' })
        .command({
          command: 'change',
          describe: 'New passphrase slot, old one removed, no session re-encrypted (without a terminal: LORE_PASSPHRASE[_FILE] and LORE_NEW_PASSPHRASE[_FILE])',
          builder: (yy: Argv) =>
            yy
              .option('rotate', { type: 'boolean', default: false, describe: 'Also rotate the store key: whoever knew only the old passphrase reads nothing written from now on' })
              .example('git lore passphrase change --rotate', 'new passphrase and new store key: whoever knew only the old one reads nothing new')
              .example('LORE_PASSPHRASE_FILE=old LORE_NEW_PASSPHRASE_FILE=new git lore passphrase change', 'without a terminal'),
          handler: async (argv: StoreArgs & { rotate: boolean }) => {
            const r = await changePassphrase(ctx, { ...storeOpts(argv), rotate: argv.rotate });
            ctx.env.stdout.write(`lore: the passphrase of the store on ${r.remote} is changed (slot ${r.slot})${argv.rotate ? `; the store key was rotated to epoch ${r.epoch}` : '; machines that already joined keep working'}\n`);
          },
        })
        .command({
          command: 'generate',
          describe: 'Print a generated passphrase (six diceware words, about 77 bits)',
          builder: (yy: Argv) => yy.example('git lore passphrase generate', 'six words to use when creating a store or changing its passphrase'),
          handler: async () => {
            ctx.env.stdout.write(`${await generatePassphrase()}\n`);
          },
        })
        .demandCommand(1, 'Name a passphrase command: change or generate')
        .example('git lore passphrase change', 'asks the current passphrase, then the new one twice'),
    handler: () => undefined,
  };
}
