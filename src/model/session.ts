/**
 * The vocabulary of a normalized session, shared by the sources (which produce it) and the
 * store (which keeps it). A leaf: it imports nothing, so both can depend on it without the store
 * reaching up into `sources/`.
 */

/** The tool names of the registered sources (src/sources/registry.ts), as `sessions --json` prints them. */
export type ToolName = 'claude-code' | 'codex' | 'gemini-cli' | 'copilot-cli' | 'cursor'
  | 'cline' | 'aider' | 'opencode';
export type Role = 'user' | 'assistant' | 'system' | 'tool';
export type MessageKind = 'text' | 'thinking' | 'tool_call' | 'tool_result';
export type EditOp = 'edit' | 'multiedit' | 'write' | 'notebook' | 'add' | 'update' | 'delete' | 'move';
