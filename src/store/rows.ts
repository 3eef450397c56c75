import type { EditOp, ToolName } from '../model/session.js';
import type { StoredFile } from './pieces.js';
import type { SessionTexts } from './search-index.js';

/** The rows of lore.db as its readers and writers see them (src/store/schema.ts is the schema). */

export interface SessionRow {
  id: string;
  tool: ToolName;
  tool_version: string | null;
  cwd: string | null;
  /** Main root of the local repository the session belongs to (where it was placed on this machine). */
  repo_root: string | null;
  /** The identity of that repository (its root commits): what scopes sessions. */
  repo_id: string | null;
  /** The repository root(s) as the agents saw it, newline-separated; edit paths are made relative to them. */
  agent_root: string | null;
  branch: string | null;
  started_at: string | null;
  updated_at: string | null;
  message_count: number;
  subagent_count: number;
  title: string | null;
  origin: 'local' | 'sync';
  origin_machine: string | null;
  bundle_sha256: string;
  bundle_size: number;
  malformed_lines: number;
  unknown_lines: number;
  imported_at: string;
}

export interface EditRecord {
  seq: number;
  /** Repository-relative (forward slashes), or absolute when outside any repository. */
  file: string;
  movePath?: string;
  op: EditOp;
  toolName: string;
  ts?: string;
  added: string[];
}

export interface EditRow {
  id: number;
  session_id: string;
  seq: number;
  file: string;
  move_path: string | null;
  op: EditOp;
  tool_name: string;
  ts: string | null;
  added_count: number;
  added_json: string;
}

export interface SourceFileRow {
  path: string;
  tool: string;
  session_id: string | null;
  size: number;
  mtime_ms: number;
}

/** A session write: the row, its changed files, its edits, the parser's state and the source files it came from. */
export interface SessionWrite {
  row: SessionRow;
  /** Files whose content changed (their pieces are already in the piece store); others are kept. */
  files: StoredFile[];
  /** 'replace': these are all of the session's confirmed edits; 'append': they come after the stored ones. */
  editMode: 'replace' | 'append';
  edits: EditRecord[];
  /** Edits whose tool result is not recorded yet: they replace the previous provisional ones (null: keep those). */
  provisional: EditRecord[] | null;
  /** The parser's saved state (JSON), to resume from when the session grows. */
  parseState: string | null;
  sources: SourceFileRow[];
  /**
   * The lines this write parsed, recorded in the same transaction as pending for the search index
   * (store/search-index.ts); null when indexing is off (the index is then marked for a rebuild).
   */
  texts?: SessionTexts | null;
}
