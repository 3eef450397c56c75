import path from 'node:path';
import { extractPatchFromCommand, parseApplyPatch } from './apply-patch.js';
import type { FileEdit } from './types.js';

/** Reading Codex's rollout items: patches (apply_patch, or a patch inside a shell command), their outcome, texts. */

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** A patch call waiting for its result: the operations it would do. */
export interface PendingPatch {
  seq: number;
  name: string;
  ts?: string;
  ops: Array<Omit<FileEdit, 'seq' | 'toolName' | 'ts'>>;
}

/** The file operations of a patch, paths joined to the cwd of the call's turn. */
export function opsOf(patch: string, cwd: string | undefined): PendingPatch['ops'] {
  const abs = (p: string) => (path.isAbsolute(p) || !cwd ? p : path.posix.join(cwd, p));
  return parseApplyPatch(patch).map((op) => ({ path: abs(op.path), op: op.op, added: op.added, ...(op.movePath ? { movePath: abs(op.movePath) } : {}) }));
}

export function editsOf(pend: PendingPatch, ts: string | undefined): FileEdit[] {
  return pend.ops.map((op) => ({
    seq: pend.seq, path: op.path, op: op.op, toolName: pend.name, added: op.added, ...(op.movePath ? { movePath: op.movePath } : {}), ...(ts ? { ts } : {}),
  }));
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((c) => str(obj(c)?.text) ?? '').join('\n');
}

export function summaryText(summary: unknown): string {
  if (!Array.isArray(summary)) return '';
  return summary.map((c) => str(obj(c)?.text) ?? '').filter(Boolean).join('\n');
}

export function patchOf(name: string, itemType: string, input: string): string | null {
  if (name === 'apply_patch') {
    if (itemType === 'custom_tool_call') return input;
    try {
      const args = JSON.parse(input) as Json;
      return str(args.input) ?? str(args.patch) ?? null;
    } catch {
      return input.includes('*** Begin Patch') ? input : null;
    }
  }
  if (name === 'shell' || name === 'shell_command' || name === 'exec_command' || itemType === 'local_shell_call') {
    let command = input;
    try {
      const args = JSON.parse(input) as Json;
      const c = args.command ?? args.cmd;
      command = Array.isArray(c) ? c.join(' ') : str(c) ?? input;
    } catch {
      /* raw text */
    }
    return extractPatchFromCommand(command);
  }
  return null;
}

/** apply_patch outputs: JSON with metadata.exit_code, or plain text that starts with "Success". */
export function patchSucceeded(output: string): boolean {
  try {
    const o = JSON.parse(output) as Json;
    const code = obj(o.metadata)?.exit_code;
    if (typeof code === 'number') return code === 0;
    const text = str(o.output);
    if (text !== undefined) return /^Success/.test(text);
  } catch {
    /* plain text */
  }
  return /^Success/.test(output.trim());
}
