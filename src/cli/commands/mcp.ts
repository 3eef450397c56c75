import type { CommandModule } from 'yargs';
import type { LoreContext } from '../../core/context.js';
import { LORE_VERSION } from '../version.js';

export function mcpCommand(ctx: LoreContext): CommandModule<object, object> {
  return {
    command: 'mcp',
    describe: 'Serve this repository\'s sessions to AI agents: a Model Context Protocol server on stdio (read-only)',
    builder: (y) => y.example('git lore mcp', 'serve on stdio (an agent starts it in its working folder)').example('claude mcp add git-lore -- git lore mcp', 'register it with Claude Code (README: Codex, Gemini CLI)'),
    handler: async () => {
      // Loaded here only: the MCP SDK costs ~300 ms to load, which no other command should pay.
      const { serveMcp } = await import('../mcp.js');
      await serveMcp(ctx, LORE_VERSION);
    },
  };
}
