import { parseApplyPatch } from '../apply-patch.js';
import { addedLines, splitLines, type FileEdit } from '../types.js';

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** An edit before its tool call's message number is known. */
export type PartEdit = Omit<FileEdit, 'seq'>;

/** At most this many files per apply_patch call are taken (a patch touching more is kept in the bundle, not credited). */
const MAX_FILES = 1000;

/**
 * The file edits of one OpenCode tool part (`{type: "tool", tool, state}`), counted only when
 * `state.status` is `completed` (an `error` state wrote nothing):
 * - `edit`: `metadata.filediff.{before, after}` (the whole file around the edit) when recorded, else
 *   `input.oldString` -> `input.newString`;
 * - `write`: `input.content`, the whole file;
 * - `apply_patch`: `metadata.files[]` with `before`/`after` per file (`type` add, update, delete,
 *   move), else the patch text `input.patchText` (Codex's `*** Begin Patch` format).
 * Paths are as OpenCode records them (absolute).
 */
export function editsOfToolPart(part: Json): PartEdit[] {
  const tool = str(part.tool) ?? '';
  const state = obj(part.state);
  if (!state || state.status !== 'completed') return [];
  const input = obj(state.input) ?? {};
  const meta = obj(state.metadata) ?? {};
  const end = obj(state.time)?.end;
  const at = typeof end === 'number' && Number.isFinite(end) ? { ts: new Date(end).toISOString() } : {};
  if (tool === 'write') {
    const file = str(input.filePath);
    return file ? [{ path: file, op: 'write', toolName: tool, added: splitLines(str(input.content) ?? ''), ...at }] : [];
  }
  if (tool === 'edit') {
    const file = str(input.filePath);
    if (!file) return [];
    const diff = obj(meta.filediff);
    const before = str(diff?.before);
    const after = str(diff?.after);
    const added = before !== undefined && after !== undefined ? addedLines(before, after) : addedLines(str(input.oldString) ?? '', str(input.newString) ?? '');
    return [{ path: file, op: 'edit', toolName: tool, added, ...at }];
  }
  if (tool === 'apply_patch') {
    const files = Array.isArray(meta.files) ? meta.files.slice(0, MAX_FILES).map(obj).filter((f): f is Json => !!f) : [];
    if (files.length) {
      const out: PartEdit[] = [];
      for (const f of files) {
        const file = str(f.filePath);
        if (!file) continue;
        const type = str(f.type);
        const op = type === 'add' || type === 'delete' || type === 'move' ? type : 'update';
        const move = str(f.movePath);
        out.push({ path: file, op, toolName: tool, added: op === 'delete' ? [] : addedLines(str(f.before) ?? '', str(f.after) ?? ''), ...(move ? { movePath: move } : {}), ...at });
      }
      return out;
    }
    return parseApplyPatch(str(input.patchText) ?? '').slice(0, MAX_FILES).map((p) => ({
      path: p.path, op: p.op, toolName: tool, added: p.added, ...(p.movePath ? { movePath: p.movePath } : {}), ...at,
    }));
  }
  return [];
}
