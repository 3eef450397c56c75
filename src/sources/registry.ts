import os from 'node:os';
import path from 'node:path';
import type { Reporter } from './discover.js';
import type { Source, SourceDefinition, ToolName } from './types.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { geminiCli } from './gemini-cli.js';
import { copilotCli } from './copilot-cli.js';
import { cursor } from './cursor.js';
import { cline } from './cline.js';
import { aider } from './aider.js';
import { opencode } from './opencode/index.js';

/**
 * The registry of agent sources: the one place that lists them. Everything outside
 * `src/sources/` asks here (which tools exist, which bundle paths are native files, which files
 * are transcripts, the folders the hook shims watch) and names no agent.
 */

/** Every source, in a fixed order (capture order, and the order of `sessions` ties). */
export const SOURCES: readonly SourceDefinition[] = [claudeCode, codex, geminiCli, copilotCli, cursor,
  cline, aider, opencode];

const byTool = new Map<string, SourceDefinition>(SOURCES.map((d) => [d.tool, d]));
const byPrefix = new Map<string, SourceDefinition>(SOURCES.map((d) => [d.prefix, d]));

/** The definition of a tool name, or undefined if no source has it. */
export function sourceOf(tool: string): SourceDefinition | undefined {
  return byTool.get(tool);
}

/** True for the tool name of a registered source. */
export function isToolName(x: unknown): x is ToolName {
  return typeof x === 'string' && byTool.has(x);
}

/** The bundle prefixes of every source. */
export function bundlePrefixes(): string[] {
  return SOURCES.map((d) => d.prefix);
}

/**
 * The allowed path of a native file in a bundle: under a registered source's prefix, no NUL, and
 * no `..`, `.` or empty segment.
 */
export function isNativePath(p: string): boolean {
  if (p.includes('\0')) return false;
  const parts = p.split('/');
  return parts.length >= 2 && byPrefix.has(parts[0]!) && !parts.some((part) => part === '..' || part === '.' || part === '');
}

/** True when a native path is a transcript of its source (what a session cannot be without). */
export function isTranscriptPath(p: string): boolean {
  const d = byPrefix.get(p.slice(0, p.indexOf('/')));
  return !!d && d.isTranscript(p);
}

/** The agent folder of a source in this environment: its variable, else its default under HOME. */
export function agentFolder(def: SourceDefinition, env: { cwd: string; vars: Readonly<Record<string, string | undefined>> }): string {
  const home = env.vars.HOME || os.homedir();
  return path.resolve(env.cwd, env.vars[def.folder.env] || path.join(home, def.folder.underHome));
}

/** Every source, created for this environment. */
export function createSources(env: { cwd: string; vars: Readonly<Record<string, string | undefined>> }, report: Reporter): Source[] {
  return SOURCES.map((d) => d.create(agentFolder(d, env), report, env.vars, env.cwd));
}

/** The source of a tool in this environment; throws for an unknown tool. */
export function createSource(tool: string, env: { cwd: string; vars: Readonly<Record<string, string | undefined>> }, report: Reporter): Source {
  const d = byTool.get(tool);
  if (!d) throw new Error(`no source for the tool ${JSON.stringify(tool)}`);
  return d.create(agentFolder(d, env), report, env.vars, env.cwd);
}
