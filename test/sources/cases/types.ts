import type { Machine } from '../../helpers/machine.js';

/** A session a case placed, and its native files on disk (what the bundle must hold byte for byte). */
export interface PlacedSession {
  id: string;
  files: string[];
}

/**
 * How the conformance suite (test/sources/conformance.test.ts) gets real sessions of one agent:
 * `place` copies the agent's fixtures (../shared/fixtures/<fixtures>/) to its native location on
 * `m`, as if it had run in `repo` (recorded paths rewritten), and says what it placed.
 */
export interface ConformanceCase {
  tool: string;
  /** Folder under ../shared/fixtures. */
  fixtures: string;
  place(m: Machine, repo: string): PlacedSession[];
  /** The placed session whose edits blame must credit (one adds lines to a file inside the repository). */
  edited: string;
  /** Edits each session must give, counted by hand from the fixture (failed tool calls excluded). */
  edits?: Record<string, number>;
  /** Set (to the reason) when the fixtures are free text, where malformed input cannot be told from text. */
  freeText?: string;
  /**
   * For agents that keep sessions in a database (OpenCode): the database `place` wrote and the
   * sessions' rows in it. The suite deletes a session's rows where it deletes files, and checks
   * that restore gives them back row for row; the malformed-input test also corrupts the database.
   */
  database?: {
    file(m: Machine): string;
    /** The session's rows as text, every value with its SQLite type. */
    rows(m: Machine, id: string): string;
    drop(m: Machine, id: string): void;
  };
  /** Files `restore` cannot give back byte for byte and why (none for most agents). */
  notRestored?: (file: string) => boolean;
}
