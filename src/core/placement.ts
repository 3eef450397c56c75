import fs from 'node:fs';
import path from 'node:path';
import type { LoreContext } from './context.js';
import type { EditRecord } from '../store/db.js';
import type { FileEdit } from '../sources/types.js';
import { repoScope } from './repo-id.js';

/** Where a session lives: the local repository, and the root as the agent's recorded paths see it. */
export interface Placement {
  /** Main root of the local repository; null outside any. */
  repoRoot: string | null;
  /** Its identity (what `git lore sessions` groups by: shared by every clone); null outside any. */
  repoId: string | null;
  /**
   * The repository root in the agents' own recorded paths (differs from repoRoot through symlinks,
   * or on other machines: a session continued on two machines has two).
   */
  agentRoots: string[];
  /** The local worktree root with symlinks resolved, when the session was captured here. */
  realRoot: string | null;
}

export const NO_PLACEMENT: Placement = { repoRoot: null, repoId: null, agentRoots: [], realRoot: null };

/** Finds the placement of a locally captured session from its recorded cwd. */
export async function placementOf(ctx: LoreContext, cwd: string | undefined): Promise<Placement> {
  if (!cwd || !path.isAbsolute(cwd)) return NO_PLACEMENT;
  let real: string;
  try {
    real = fs.realpathSync(cwd);
  } catch {
    return NO_PLACEMENT;
  }
  // Asked of git once per folder per command (a sync has asked for its own repository already).
  const info = await ctx.repoInfo(real);
  if (!info) return NO_PLACEMENT;
  const cwdInRoot = path.relative(info.root, real);
  const agentRoot = !cwdInRoot ? cwd : cwd.endsWith(`/${cwdInRoot}`) ? cwd.slice(0, cwd.length - cwdInRoot.length - 1) : info.root;
  const repo = await repoScope(ctx, ctx.git(info.root), info);
  return { repoRoot: info.mainRoot, repoId: repo.id, agentRoots: [agentRoot], realRoot: info.root };
}

/** Makes a recorded path repository-relative (forward slashes); paths outside stay absolute. */
export function relativize(p: string, cwd: string | undefined, placement: Placement): string {
  const abs = path.isAbsolute(p) ? path.normalize(p) : cwd ? path.join(cwd, p) : p;
  if (!path.isAbsolute(abs)) return abs.split(path.sep).join('/');
  for (const root of [...placement.agentRoots, placement.realRoot]) {
    if (!root) continue;
    const r = path.relative(root, abs);
    if (r && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
  }
  if (placement.realRoot) {
    try {
      const r = path.relative(placement.realRoot, fs.realpathSync(abs));
      if (r && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
    } catch {
      /* the file may be gone */
    }
  }
  return abs;
}

export function relativizeEdit(e: FileEdit, cwd: string | undefined, placement: Placement): EditRecord {
  return {
    seq: e.seq, file: relativize(e.path, cwd, placement), op: e.op, toolName: e.toolName, added: e.added,
    ...(e.movePath ? { movePath: relativize(e.movePath, cwd, placement) } : {}), ...(e.ts ? { ts: e.ts } : {}),
  };
}

