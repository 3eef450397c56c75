import { createRequire } from 'node:module';
import type { RepoKey } from '../store/db.js';
import type { Server as McpServer } from '@modelcontextprotocol/sdk/server/index.js';
import type { StdioServerTransport as McpStdio } from '@modelcontextprotocol/sdk/server/stdio.js';
import type * as McpTypes from '@modelcontextprotocol/sdk/types.js';
import type { LoreContext } from '../core/context.js';
import { UsageError, toLoreError } from '../errors.js';
import { log } from '../log.js';
import { currentRepo } from '../core/sessions.js';
import { importSessions } from '../core/import.js';
import { toolBlame, toolListSessions, toolSearch, toolSessionsForCommit, toolShowSession } from '../core/agent-tools.js';

/**
 * `git lore mcp`: a Model Context Protocol server on stdin/stdout, over the official SDK. The SDK
 * (with zod, ajv and the HTTP transports it pulls in: ~300 ms to load) is required here, at run
 * time, and left out of the bundle, so that no other command pays for it (docs/architecture.md).
 * Read-only: the tools only read the local store and the repository; like every command, a call
 * first captures new agent sessions into the local store. Scoped to the repository it starts in.
 */

interface Tool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  run: (args: Record<string, unknown>) => Promise<unknown>;
}

const str = (description: string) => ({ type: 'string', description });
const int = (description: string, minimum = 0, maximum?: number) => ({ type: 'integer', description, minimum, ...(maximum ? { maximum } : {}) });

function tools(ctx: LoreContext, scope: RepoKey): Tool[] {
  return [
    {
      name: 'search_sessions',
      description: "Full-text search of this repository's AI agent sessions (prompts, replies, thinking, tool calls and results, edited file paths), the team's included. Words must all match; \"quoted phrases\" keep their order; word* is a prefix. Best matches first, each with session id, time, role and a snippet (matches in **bold**).",
      inputSchema: { type: 'object', properties: { query: str('words and "quoted phrases"'), limit: int('results, 1-50 (default 10)', 1, 50), tool: { type: 'string', enum: ['claude-code', 'codex'] }, since: str('only messages since a date (2026-01-31) or a span back (36h, 7d, 2w)') }, required: ['query'] },
      run: (a) => toolSearch(ctx, scope, a as { query: string }),
    },
    {
      name: 'list_sessions',
      description: "This repository's agent sessions, newest first, paged: id, tool, title, branch, times, message and edit counts, origin (local or received from a teammate through sync).",
      inputSchema: { type: 'object', properties: { offset: int('sessions to skip'), limit: int('sessions per page, 1-100 (default 20)', 1, 100) } },
      run: (a) => toolListSessions(ctx, scope, a),
    },
    {
      name: 'show_session',
      description: 'One session as a transcript, paged: messages from `offset` (seq), `limit` at a time (texts cut at 2,000 characters). nextOffset is null on the last page.',
      inputSchema: { type: 'object', properties: { id: str('session id, or a unique prefix of at least 4 characters'), offset: int('first message (seq)'), limit: int('messages per page, 1-100 (default 40)', 1, 100) }, required: ['id'] },
      run: (a) => toolShowSession(ctx, scope, a as { id: string }),
    },
    {
      name: 'blame',
      description: 'Why lines of a file are the way they are: for each line (git blame), the agent session whose edit wrote it, or null (a person); for each such edit, the prompt it answered and the reasoning around it. At most 200 lines.',
      inputSchema: { type: 'object', properties: { file: str('path relative to the repository root'), start_line: int('first line (1-based)', 1), end_line: int('last line (default: start_line)', 1) }, required: ['file', 'start_line'] },
      run: (a) => toolBlame(ctx, { file: a.file as string, startLine: a.start_line as number, ...(a.end_line !== undefined ? { endLine: a.end_line as number } : {}) }),
    },
    {
      name: 'sessions_for_commit',
      description: 'The agent sessions whose edits wrote the lines a commit added, with their share of its lines, and the share written by people.',
      inputSchema: { type: 'object', properties: { commit: str('commit id or ref (HEAD, HEAD~2, a branch)') }, required: ['commit'] },
      run: (a) => toolSessionsForCommit(ctx, a as { commit: string }),
    },
  ];
}

/** Serves MCP on the process's stdin and stdout until stdin ends. */
export async function serveMcp(ctx: LoreContext, version: string): Promise<void> {
  const scope = await currentRepo(ctx);
  if (!scope) throw new UsageError('not inside a git repository', { hint: 'Start `git lore mcp` in the repository whose sessions it should serve (your agent starts it in its working folder).' });
  // Resolved from this file (the bundle, or dist/): the SDK stays outside the bundle.
  const require = createRequire(import.meta.url);
  const { Server } = require('@modelcontextprotocol/sdk/server/index.js') as { Server: typeof McpServer };
  const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js') as { StdioServerTransport: typeof McpStdio };
  const types = require('@modelcontextprotocol/sdk/types.js') as typeof McpTypes;

  const list = tools(ctx, scope);
  const server = new Server({ name: 'git-lore', version }, { capabilities: { tools: {} }, instructions: `Sessions of AI coding agents for the repository ${scope.root}, captured and shared by git-lore. Search them before re-deriving a decision; use blame to learn why a line is the way it is.` });
  server.setRequestHandler(types.ListToolsRequestSchema, async () => ({
    tools: list.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, annotations: { readOnlyHint: true, openWorldHint: false } })),
  }));
  // One call at a time: they share the store handle and the capture.
  let queue: Promise<unknown> = Promise.resolve();
  server.setRequestHandler(types.CallToolRequestSchema, (req) => {
    const run = async () => {
      const tool = list.find((t) => t.name === req.params.name);
      if (!tool) return { isError: true, content: [{ type: 'text' as const, text: `unknown tool ${req.params.name}` }] };
      try {
        await importSessions(ctx);
        const result = await tool.run(req.params.arguments ?? {});
        return { content: [{ type: 'text' as const, text: JSON.stringify(result) }] };
      } catch (raw) {
        const err = toLoreError(raw);
        log.main('mcp %s failed: %O', tool.name, raw);
        return { isError: true, content: [{ type: 'text' as const, text: `${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}` }] };
      }
    };
    const next = queue.then(run, run);
    queue = next;
    return next;
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => void server.close().then(resolve, resolve));
  });
  await server.connect(transport);
  log.main('mcp server on stdio for %s', scope);
  await closed;
}
