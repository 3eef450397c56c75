import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Machine } from '../helpers/machine.js';
import { userLine, uuid, writeSession } from '../helpers/repos.js';
import { importSessions } from '../../src/core/import.js';
import { restoreSession } from '../../src/core/restore.js';
import { UsageError } from '../../src/errors.js';

/**
 * ~2.4 MB of distinct user lines that name `root` (as cwd and inside the text) and a sibling path
 * that must stay, and one line of ~900 KB made of nothing but the root: longer than the largest
 * piece, so the pieces cut it, almost surely inside a mention of the root.
 */
function lines(id: string, root: string): string[] {
  const rnd = crypto.createHash('sha256');
  const out = Array.from({ length: 700 }, (_, i) => {
    const noise = rnd.update(String(i)).copy().digest('hex').repeat(30);
    return userLine(id, root, `${id}-${i}`, `step ${i}: edit ${root}/src/f${i}.ts, not ${root}2/x; ${noise}`, i);
  });
  out.splice(350, 0, userLine(id, root, `${id}-long`, `${root}/`.repeat(20_000), 350));
  return out;
}

test('restore streams a multi-piece transcript: byte-identical, roots rewritten line by line, conflicts found by digest', async () => {
  const m = new Machine('rs');
  const repo = fs.realpathSync(m.initRepo(path.join(m.home, 'proj')));
  const id = uuid(7, 'e');
  const file = writeSession(m, repo, id, lines(id, repo));
  const original = fs.readFileSync(file);
  const ctx = m.ctx(repo);
  try {
    await importSessions(ctx);
    const stored = ctx.db.sessionFiles(id);
    assert.equal(stored.length, 1);
    assert.ok(stored[0]!.pieces.length >= 4, `a multi-piece file (${stored[0]!.pieces.length} pieces)`);

    // Same root: written back byte for byte.
    fs.rmSync(file);
    const back = await restoreSession(ctx, { id });
    assert.deepEqual(back.written, [file]);
    assert.ok(fs.readFileSync(file).equals(original), 'byte-identical restore');
    const again = await restoreSession(ctx, { id });
    assert.deepEqual([again.written, again.unchanged], [[], [file]], 'an identical file is left alone');

    // Another clone: every whole-path mention of the recorded root becomes the new root, `${root}2` stays.
    const other = fs.realpathSync(m.initRepo(path.join(m.home, 'elsewhere')));
    const moved = await restoreSession(ctx, { id, to: other });
    assert.equal(moved.written.length, 1);
    const expected = `${lines(id, other).map((l) => l.replaceAll(`${other}2/x`, `${repo}2/x`)).join('\n')}\n`;
    const got = fs.readFileSync(moved.written[0]!, 'utf8');
    assert.ok(got === expected, 'rewritten as a whole-file rewrite would');
    assert.ok(got.includes(`${repo}2/x`) && !got.includes(`"cwd":"${repo}"`));

    // A native file that differs (one byte more) is a conflict: nothing written without --force.
    const dest = moved.written[0]!;
    fs.appendFileSync(dest, 'x');
    const changed = fs.readFileSync(dest);
    await assert.rejects(restoreSession(ctx, { id, to: other }), (err: unknown) => err instanceof UsageError && /already exists with other content/.test((err as Error).message));
    assert.ok(fs.readFileSync(dest).equals(changed), 'left as it was');
    assert.deepEqual(fs.readdirSync(path.dirname(dest)).filter((n) => n.includes('.lore-restore-')), [], 'no temporary file left');
    const forced = await restoreSession(ctx, { id, to: other, force: true });
    assert.deepEqual(forced.written, [dest]);
    assert.ok(fs.readFileSync(dest, 'utf8') === expected);
  } finally {
    ctx.close();
  }
});
