import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FIXTURES, Machine, SKIP_NO_FIXTURES } from '../helpers/machine.js';
import { ok } from '../helpers/repos.js';
import { SOURCES } from '../../src/sources/registry.js';
import { loadSession, resolveSession, showSession, storedFiles } from '../../src/core/sessions.js';
import type { ConformanceCase } from './cases/types.js';
import { claudeCodeCase } from './cases/claude-code.js';
import { codexCase } from './cases/codex.js';
import { geminiCliCase } from './cases/gemini-cli.js';
import { copilotCliCase } from './cases/copilot-cli.js';
import { cursorCase } from './cases/cursor.js';
import { clineCase } from './cases/cline.js';
import { aiderCase } from './cases/aider.js';
import { opencodeCase } from './cases/opencode.js';

/**
 * One suite, run against every registered source with its real fixtures (STYLE.md: one
 * conformance suite per interface): list -> capture -> show -> bundle -> restore byte-identical
 * -> edits found -> blame credits an edited line; then malformed input (a cut line, bad JSON, a
 * missing file) gives a warning or a count, and no crash.
 */
const CASES: ConformanceCase[] = [claudeCodeCase, codexCase, geminiCliCase, copilotCliCase, cursorCase,
  clineCase, aiderCase, opencodeCase];

test('every registered source has a conformance case', () => {
  assert.deepEqual(SOURCES.map((d) => d.tool).filter((t) => !CASES.some((c) => c.tool === t)), []);
});

function commitAt(m: Machine, repo: string, when: Date, message: string): void {
  const env = { ...m.vars, GIT_AUTHOR_DATE: when.toISOString(), GIT_COMMITTER_DATE: when.toISOString() };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: repo, env });
}

for (const c of CASES) {
  const skip = SKIP_NO_FIXTURES || (fs.existsSync(path.join(FIXTURES, c.fixtures)) ? false : `no fixtures for ${c.tool} in ${FIXTURES}`);

  test(`${c.tool}: list, capture, show, bundle, restore, edits, blame`, { skip }, async () => {
    const m = new Machine(c.tool);
    const repo = m.initRepo(path.join(m.home, 'proj'));
    const placed = c.place(m, repo);
    const original = new Map(placed.flatMap((s) => s.files.map((f) => [f, fs.readFileSync(f)] as const)));

    const imp = JSON.parse((await ok(m.lore(['import', '--json'], { cwd: repo }))).stdout);
    assert.deepEqual(imp.warnings, []);
    assert.equal(imp.sessionsNew, placed.length, 'each session captured once');
    const list = JSON.parse((await ok(m.lore(['sessions', '--json'], { cwd: repo }))).stdout);
    for (const s of placed) {
      const row = list.sessions.find((x: { id: string }) => x.id === s.id);
      assert.ok(row, `${s.id} listed in its repository`);
      assert.equal(row.tool, c.tool);
      assert.ok(row.messageCount > 0, `${s.id} has messages`);
    }
    const ctx = m.ctx(repo);
    try {
      for (const s of placed) {
        const shown = await showSession(ctx, s.id);
        assert.ok(shown.messages.length > 0, `${s.id}: show gives messages`);
        if (c.edits) assert.equal((await loadSession(ctx, resolveSession(ctx, s.id))).edits.length, c.edits[s.id], `${s.id}: edits`);
        // The bundle is the lossless copy: every native file, byte for byte.
        const bundle = storedFiles(ctx, s.id);
        for (const f of s.files) assert.ok(bundle.some((b) => b.data.equals(original.get(f)!)), `${f} is in the bundle byte for byte`);
      }
      // Edits found, and blame credits a line of one.
      const shown = await showSession(ctx, c.edited);
      assert.ok(shown.edits.length > 0, 'edits found');
      // Agents that record no times (Cursor) are dated by their files' last change.
      const write = shown.edits.find((e) => e.added.length > 1 && (e.ts ?? shown.session.startedAt) && !path.isAbsolute(e.file));
      assert.ok(write, 'an edit inside the repository');
      fs.mkdirSync(path.dirname(path.join(repo, write.file)), { recursive: true });
      fs.writeFileSync(path.join(repo, write.file), `${write.added.join('\n')}\n`);
      commitAt(m, repo, new Date(Date.parse((write.ts ?? shown.session.startedAt)!) + 60_000), 'agent work');
      const blame = JSON.parse((await ok(m.lore(['blame', '--json', write.file], { cwd: repo }))).stdout);
      assert.ok(blame.lines.some((l: { session: { id: string } | null }) => l.session?.id === c.edited), `blame credits ${c.edited}`);
    } finally {
      ctx.close();
    }

    // Restore gives every native file back, byte for byte, where the agent looks for it (and a
    // database format's rows, row for row).
    const rows = new Map(placed.map((s) => [s.id, c.database?.rows(m, s.id)]));
    for (const s of placed) {
      if (!c.database) continue;
      assert.ok(rows.get(s.id), `${s.id} has rows in the database`);
      c.database.drop(m, s.id);
    }
    for (const f of original.keys()) fs.rmSync(f);
    for (const s of placed) await ok(m.lore(['restore', s.id], { cwd: repo }));
    for (const s of placed) if (c.database) assert.equal(c.database.rows(m, s.id), rows.get(s.id), `${s.id}: its rows restored row for row`);
    for (const [f, data] of original) {
      if (c.notRestored?.(f)) continue;
      assert.ok(fs.existsSync(f), `${f} restored`);
      assert.ok(fs.readFileSync(f).equals(data), `${f} restored byte for byte`);
    }
  });

  test(`${c.tool}: malformed input (cut line, bad JSON, missing file) warns and does not crash`, { skip }, async () => {
    const m = new Machine(`${c.tool}-bad`);
    const repo = m.initRepo(path.join(m.home, 'proj'));
    const placed = c.place(m, repo);
    const files = placed.flatMap((s) => s.files);
    // Bad JSON in the middle of the first file, a cut last line in every other, a missing file if a session has two.
    const first = fs.readFileSync(files[0]!, 'utf8');
    const mid = first.indexOf('\n', Math.floor(first.length / 2)) + 1;
    fs.writeFileSync(files[0]!, `${first.slice(0, mid)}{"broken": \nnot json at all\n${first.slice(mid)}`);
    for (const f of files.slice(1)) {
      const data = fs.readFileSync(f);
      fs.writeFileSync(f, data.subarray(0, Math.floor(data.length * 0.7)));
    }
    const two = placed.find((s) => s.files.length > 1);
    if (two) fs.rmSync(two.files.at(-1)!);
    // A database cut short is corrupt (SQLite: not a database, or malformed).
    if (c.database) {
      const db = fs.readFileSync(c.database.file(m));
      fs.writeFileSync(c.database.file(m), Buffer.concat([Buffer.from('not a database at all\n'), db.subarray(0, Math.floor(db.length * 0.7))]));
    }
    const r = await m.lore(['import', '--json'], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /TypeError|RangeError|\n\s+at /);
    const imp = JSON.parse(r.stdout);
    if (!c.freeText) assert.ok(imp.malformedLines > 0 || imp.warnings.length > 0, `a count or a warning: ${r.stdout}`);
    assert.equal(imp.sessionsNew, placed.length, 'every session still captured');
    await ok(m.lore(['sessions', '--json', '--all'], { cwd: repo }));
    for (const s of placed) {
      const shown = await m.lore(['show', s.id], { cwd: repo });
      assert.doesNotMatch(shown.stderr, /TypeError|RangeError|\n\s+at /);
    }
  });
}
