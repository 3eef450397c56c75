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
  /** Files `restore` cannot give back byte for byte and why (none for most agents). */
  notRestored?: (file: string) => boolean;
}
