/** git-lore's version (package.json), as MCP clients and Agent Trace records see it. */
export const LORE_VERSION = '0.1.0';
