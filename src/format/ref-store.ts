import type { CatFile, Git, TreeEntry } from '../git/git.js';
import { LoreError } from '../errors.js';
import { DESCRIPTOR_PATH, parseDescriptor, type Descriptor } from './descriptor.js';
import { parseSessionPath, sessionPaths } from './session-entry.js';

/** One session's two files in a lore ref's tree. */
export interface RefSession {
  id: string;
  metaOid?: string;
  payloadOid?: string;
  payloadSize?: number;
}

/** What a lore ref's commit holds: the descriptor and the session entries by id. */
export interface RefState {
  commit: string;
  descriptor: Descriptor;
  descriptorOid: string;
  sessions: Map<string, RefSession>;
  /** Paths that are neither the descriptor nor session files (kept, never interpreted). */
  unknownPaths: string[];
}

/** Reads the state of a lore commit (all of it, or only some sessions). Throws a clear error when it is not a lore store. */
export async function readRefState(git: Git, cat: CatFile, commit: string, only?: readonly string[]): Promise<RefState> {
  // `only`: the descriptor and these sessions' entries, not the whole tree (a partial state).
  const entries: TreeEntry[] = await git.lsTree(commit, only ? [DESCRIPTOR_PATH, ...only.flatMap((id) => { const p = sessionPaths(id); return [p.meta, p.payload]; })] : undefined);
  const sessions = new Map<string, RefSession>();
  let descriptorOid: string | undefined;
  const unknownPaths: string[] = [];
  for (const e of entries) {
    if (e.path === DESCRIPTOR_PATH) {
      descriptorOid = e.oid;
      continue;
    }
    const p = parseSessionPath(e.path);
    // A format-2 index is not read by this (format-1) reader: kept, like any path it does not know.
    if (!p || p.kind === 'index') {
      unknownPaths.push(e.path);
      continue;
    }
    const s = sessions.get(p.id) ?? { id: p.id };
    if (p.kind === 'meta') s.metaOid = e.oid;
    else {
      s.payloadOid = e.oid;
      s.payloadSize = e.size;
    }
    sessions.set(p.id, s);
  }
  if (!descriptorOid) throw new LoreError(`commit ${commit.slice(0, 12)} of the lore ref has no ${DESCRIPTOR_PATH}: not a git-lore store`, { hint: 'The lore ref may be damaged; see docs/SECURITY.md.' });
  const blob = await cat.get(descriptorOid);
  if (!blob) throw new LoreError(`the lore store descriptor ${descriptorOid} is missing from the object store`, { hint: 'Run `git lore sync` again to fetch it.' });
  return { commit, descriptor: parseDescriptor(blob.data), descriptorOid, sessions, unknownPaths };
}
