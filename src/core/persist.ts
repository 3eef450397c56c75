import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { LoreContext } from './context.js';
import { packBundle, type NativeFile } from '../store/bundle.js';
import type { EditRecord, SessionRow, SourceFileRow } from '../store/db.js';
import type { FileEdit, NormalizedSession, Source } from '../sources/types.js';
import type { RepoInfo } from '../git/git.js';

/** Where a session lives: the local repository, and the root as the agent's recorded paths see it. */
export interface Placement {
  /** Main root of the local repository (what `git lore sessions` groups by); null outside any. */
  repoRoot: string | null;
  /**
   * The repository root in the agents' own recorded paths (differs from repoRoot through symlinks,
   * or on other machines: a session continued on two machines has two).
   */
  agentRoots: string[];
  /** The local worktree root with symlinks resolved, when the session was captured here. */
  realRoot: string | null;
}

export const NO_PLACEMENT: Placement = { repoRoot: null, agentRoots: [], realRoot: null };

/** Finds the placement of a locally captured session from its recorded cwd. */
export async function placementOf(ctx: LoreContext, cwd: string | undefined, cache: Map<string, Promise<RepoInfo | null>>): Promise<Placement> {
  if (!cwd || !path.isAbsolute(cwd)) return NO_PLACEMENT;
  let real: string;
  try {
    real = fs.realpathSync(cwd);
  } catch {
    return NO_PLACEMENT;
  }
  let p = cache.get(real);
  if (!p) {
    p = ctx.git(real).repoInfo();
    cache.set(real, p);
  }
  const info = await p;
  if (!info) return NO_PLACEMENT;
  const cwdInRoot = path.relative(info.root, real);
  const agentRoot = !cwdInRoot ? cwd : cwd.endsWith(`/${cwdInRoot}`) ? cwd.slice(0, cwd.length - cwdInRoot.length - 1) : info.root;
  return { repoRoot: info.mainRoot, agentRoots: [agentRoot], realRoot: info.root };
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

export interface PersistOptions {
  /** How to place the session; computed from its cwd when absent (local capture). */
  placement?: Placement;
  origin: 'local' | 'sync';
  originMachine: string;
  sourceRows?: SourceFileRow[];
  repoCache: Map<string, Promise<RepoInfo | null>>;
}

export interface PersistResult {
  status: 'new' | 'updated' | 'unchanged';
  session: NormalizedSession;
  sha256: string;
  row: SessionRow;
}

/**
 * Parses a session's native files, packs them into a bundle and writes the session if its bundle
 * changed. The one path by which sessions enter the store, whether captured here or received.
 */
export async function persistSession(ctx: LoreContext, source: Source, sessionId: string, files: NativeFile[], opts: PersistOptions): Promise<PersistResult> {
  const db = ctx.db;
  const existing = db.getSession(sessionId);
  const session = source.parse(sessionId, files, { text: false });
  const bundle = await packBundle(files);
  const sha256 = crypto.createHash('sha256').update(bundle).digest('hex');
  if (existing && existing.bundle_sha256 === sha256) {
    if (opts.sourceRows?.length) db.putSourceFiles(opts.sourceRows);
    return { status: 'unchanged', session, sha256, row: existing };
  }
  let placement = opts.placement ?? (await placementOf(ctx, session.cwd, opts.repoCache));
  const knownRoots = existing?.agent_root ? existing.agent_root.split('\n') : [];
  placement = {
    ...placement,
    // A session belongs to the repository it was first placed in (its cwd may name a folder that
    // is another repository, or none, on this machine).
    repoRoot: existing?.repo_root ?? placement.repoRoot,
    agentRoots: [...new Set([...placement.agentRoots, ...knownRoots])],
  };
  const row: SessionRow = {
    id: sessionId,
    tool: session.tool,
    tool_version: session.toolVersion ?? null,
    cwd: session.cwd ?? null,
    repo_root: placement.repoRoot,
    agent_root: placement.agentRoots.length ? placement.agentRoots.join('\n') : null,
    branch: session.gitBranch ?? null,
    started_at: session.startedAt ?? null,
    updated_at: session.updatedAt ?? null,
    message_count: session.messageCount,
    subagent_count: session.subagentCount,
    title: session.title ?? null,
    origin: existing?.origin ?? opts.origin,
    origin_machine: existing?.origin_machine ?? opts.originMachine,
    bundle_sha256: sha256,
    bundle_size: bundle.length,
    malformed_lines: session.malformedLines,
    unknown_lines: session.unknownLines,
    imported_at: ctx.env.now().toISOString(),
  };
  db.writeSession({ row, bundle, edits: session.edits.map((e) => relativizeEdit(e, session.cwd, placement)), files: opts.sourceRows ?? [] });
  return { status: existing ? 'updated' : 'new', session, sha256, row };
}
