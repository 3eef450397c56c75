import type { CatFile, Git, TreeEntry } from '../git/git.js';
import { LoreError } from '../errors.js';
import { DESCRIPTOR_MAX_BYTES, DESCRIPTOR_PATH, parseDescriptor, type Descriptor } from './descriptor.js';
import { parseSessionPath, sessionPaths } from './session-entry.js';

/** The most entries under sessions/ a reader lists (two per session: a million sessions' worth). */
export const MAX_SESSION_FILES = 2_000_000;

/** One session's files in a lore ref's tree: metadata, and a format-2 index or a format-1 payload. */
export interface RefSession {
  id: string;
  metaOid?: string;
  metaSize?: number;
  /** format 2 */
  indexOid?: string;
  indexSize?: number;
  /** format 1 */
  payloadOid?: string;
  payloadSize?: number;
}

/** What a lore ref's commit holds: the descriptor and the session entries by id (chunks are not listed). */
export interface RefState {
  commit: string;
  descriptor: Descriptor;
  descriptorOid: string;
  sessions: Map<string, RefSession>;
  /** Paths under sessions/ that are not session files (kept, never interpreted). */
  unknownPaths: string[];
}

/**
 * Reads the state of a lore commit (all sessions, or only some). Lists `lore.json` and `sessions/`
 * only: the chunk pool under `chunks/` can hold hundreds of thousands of entries, and a sync
 * never needs to list it. Throws a clear error when it is not a lore store. The descriptor's size
 * is checked before it is read.
 */
export async function readRefState(git: Git, cat: CatFile, commit: string, only?: readonly string[]): Promise<RefState> {
  const entries: TreeEntry[] = await git.lsTree(commit, only ? [DESCRIPTOR_PATH, ...only.flatMap((id) => { const p = sessionPaths(id); return [p.meta, p.payload, p.idx]; })] : [DESCRIPTOR_PATH, 'sessions']);
  if (entries.length > MAX_SESSION_FILES) {
    throw new LoreError(`the lore ref lists ${entries.length} session files, more than the ${MAX_SESSION_FILES} git-lore reads`, { hint: 'Someone may have flooded it (docs/SECURITY.md); `git lore repair` writes a store with only the good sessions.' });
  }
  const sessions = new Map<string, RefSession>();
  let descriptor: TreeEntry | undefined;
  const unknownPaths: string[] = [];
  for (const e of entries) {
    if (e.path === DESCRIPTOR_PATH) {
      descriptor = e;
      continue;
    }
    const p = parseSessionPath(e.path);
    if (!p || e.type !== 'blob') {
      unknownPaths.push(e.path);
      continue;
    }
    const s = sessions.get(p.id) ?? { id: p.id };
    if (p.kind === 'meta') {
      s.metaOid = e.oid;
      s.metaSize = e.size;
    } else if (p.kind === 'index') {
      s.indexOid = e.oid;
      s.indexSize = e.size;
    } else {
      s.payloadOid = e.oid;
      s.payloadSize = e.size;
    }
    sessions.set(p.id, s);
  }
  if (!descriptor) throw new LoreError(`commit ${commit.slice(0, 12)} of the lore ref has no ${DESCRIPTOR_PATH}: not a git-lore store`, { hint: 'The lore ref may be damaged; see docs/SECURITY.md.' });
  const blob = await cat.get(descriptor.oid, DESCRIPTOR_MAX_BYTES);
  if (!blob) throw new LoreError(`the lore store descriptor ${descriptor.oid} is missing from the object store`, { hint: 'Run `git lore sync` again to fetch it.' });
  if ((blob as { tooLarge?: boolean }).tooLarge) {
    throw new LoreError(`the lore store descriptor (${DESCRIPTOR_PATH}) is ${blob.size} bytes, over the ${DESCRIPTOR_MAX_BYTES}-byte limit: refusing to read it`, { hint: 'The lore ref may have been tampered with; see docs/SECURITY.md.' });
  }
  return { commit, descriptor: parseDescriptor(blob.data), descriptorOid: descriptor.oid, sessions, unknownPaths };
}
