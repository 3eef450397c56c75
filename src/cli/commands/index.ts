import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { importCommand } from './import.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { searchCommand } from './search.js';
import { mcpCommand } from './mcp.js';
import { syncCommand } from './sync.js';
import { hookCommand, hookWorkerCommand, hooksCommand } from './hooks.js';
import { blameCommand, logCommand } from './blame.js';
import { remoteCommand } from './remote.js';
import { configCommand } from './config.js';
import { restoreCommand } from './restore.js';
import { demoCommand } from './demo.js';
import { repairCommand } from './repair.js';
import { keysCommand, passphraseCommand } from './keys.js';

/** Every `git lore` command, in the order `--help` lists them. */
export function commands(ctx: LoreContext, readStdin: () => Promise<string>): Array<CommandModule<any, any>> {
  return [demoCommand(ctx), importCommand(ctx), sessionsCommand(ctx), showCommand(ctx), searchCommand(ctx), blameCommand(ctx), logCommand(ctx), syncCommand(ctx), repairCommand(ctx), keysCommand(ctx), passphraseCommand(ctx), restoreCommand(ctx), hooksCommand(ctx), remoteCommand(ctx), configCommand(ctx), mcpCommand(ctx), hookCommand(ctx, readStdin), hookWorkerCommand(ctx, readStdin)];
}
