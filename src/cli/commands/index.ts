import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { importCommand } from './import.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { syncCommand } from './sync.js';
import { hookCommand, hookWorkerCommand, hooksCommand } from './hooks.js';
import { blameCommand, logCommand } from './blame.js';
import { remoteCommand } from './remote.js';
import { configCommand } from './config.js';
import { restoreCommand } from './restore.js';
import { demoCommand } from './demo.js';
import { keysCommand, passphraseCommand } from './keys.js';

/** Every `git lore` command, in the order `--help` lists them. */
export function commands(ctx: LoreContext, readStdin: () => Promise<string>): Array<CommandModule<any, any>> {
  return [demoCommand(ctx), importCommand(ctx), sessionsCommand(ctx), showCommand(ctx), blameCommand(ctx), logCommand(ctx), syncCommand(ctx), keysCommand(ctx), passphraseCommand(ctx), restoreCommand(ctx), hooksCommand(ctx), remoteCommand(ctx), configCommand(ctx), hookCommand(ctx, readStdin), hookWorkerCommand(ctx, readStdin)];
}
