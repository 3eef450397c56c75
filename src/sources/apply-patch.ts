/** One file operation of a Codex `apply_patch` patch, with the lines it added. */
export interface PatchOp {
  op: 'add' | 'update' | 'delete' | 'move';
  path: string;
  movePath?: string;
  added: string[];
}

/**
 * Parses the `apply_patch` format (`*** Begin Patch` … `*** End Patch`). Tolerant: text outside
 * the envelope and unknown lines are ignored, a missing end marker is accepted. Returns [] for
 * anything that holds no file operation.
 */
export function parseApplyPatch(patch: string): PatchOp[] {
  const ops: PatchOp[] = [];
  let cur: PatchOp | null = null;
  for (const raw of patch.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let m: RegExpExecArray | null;
    if ((m = /^\*\*\* (Add|Update|Delete) File: (.+)$/.exec(line))) {
      cur = { op: m[1] === 'Add' ? 'add' : m[1] === 'Update' ? 'update' : 'delete', path: m[2]!.trim(), added: [] };
      ops.push(cur);
      continue;
    }
    if ((m = /^\*\*\* Move to: (.+)$/.exec(line)) && cur) {
      cur.op = 'move';
      cur.movePath = m[1]!.trim();
      continue;
    }
    if (line.startsWith('*** ')) {
      if (line.startsWith('*** End Patch')) cur = null;
      continue;
    }
    if (!cur || cur.op === 'delete') continue;
    if (line.startsWith('+')) cur.added.push(line.slice(1));
  }
  return ops;
}

/** Finds a patch inside a shell command such as `apply_patch <<'EOF' … EOF` (older Codex builds). */
export function extractPatchFromCommand(command: string): string | null {
  const start = command.indexOf('*** Begin Patch');
  if (start < 0 || !/apply_patch/.test(command)) return null;
  const end = command.indexOf('*** End Patch', start);
  return end < 0 ? command.slice(start) : command.slice(start, end + '*** End Patch'.length);
}
