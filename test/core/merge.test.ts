import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeFile, mergeFileReport } from '../../src/core/merge.js';

/** A transcript line as agents write them: a uuid and a timestamp (second resolution, so ties happen). */
const line = (uuid: string, t: number, text: string) => JSON.stringify({ type: 'user', uuid, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString(), message: { role: 'user', content: text } });

type Op = { kind: 'append'; replica: number; count: number } | { kind: 'sync'; replica: number };

const ops = (replicas: number) =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('append' as const), replica: fc.integer({ min: 0, max: replicas - 1 }), count: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('sync' as const), replica: fc.integer({ min: 0, max: replicas - 1 }) }),
    ),
    { minLength: 1, maxLength: 30 },
  );

/**
 * Replays a history: replicas append lines to their copy of one transcript and sync through one
 * remote (merge with the remote's copy, then the remote takes the result), as `git lore sync` does.
 */
function replay(history: Op[], replicas: number): { copies: Buffer[]; remote: Buffer; written: Set<string> } {
  const copies: Buffer[] = Array.from({ length: replicas }, () => Buffer.from(`${line("root", 0, "first prompt")}\n`));
  let remote: Buffer = copies[0]!;
  let clock = 0;
  let n = 0;
  const written = new Set<string>(['root']);
  for (const op of history) {
    if (op.kind === 'append') {
      const add: string[] = [];
      for (let i = 0; i < op.count; i++) {
        const id = `u${n++}`;
        written.add(id);
        // Times move on, but two replicas can write in the same second.
        clock += n % 3 === 0 ? 0 : 1;
        add.push(line(id, clock, `message ${id} from replica ${op.replica}`));
      }
      copies[op.replica] = Buffer.concat([copies[op.replica]!, Buffer.from(`${add.join('\n')}\n`)]);
    } else {
      const merged = mergeFile('claude/s.jsonl', copies[op.replica]!, remote);
      copies[op.replica] = merged;
      remote = merged;
    }
  }
  return { copies, remote, written };
}

const uuids = (b: Buffer) => new Set(b.toString('utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { uuid: string }).uuid));

test('merge is symmetric: merge(a, b) = merge(b, a) for diverged transcripts of any seeded history', () => {
  fc.assert(
    fc.property(ops(2), (history) => {
      const { copies } = replay(history, 2);
      assert.deepEqual(mergeFile('claude/s.jsonl', copies[0]!, copies[1]!), mergeFile('claude/s.jsonl', copies[1]!, copies[0]!));
    }),
    { seed: 14, numRuns: 300 },
  );
});

test('machines converge and lose no line: after any history, two rounds of syncs leave every copy equal to the remote', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 4 }).chain((r) => fc.tuple(fc.constant(r), ops(r))), ([replicas, history]) => {
      const settle: Op[] = [];
      for (let round = 0; round < 2; round++) for (let i = 0; i < replicas; i++) settle.push({ kind: 'sync', replica: i });
      const { copies, remote, written } = replay([...history, ...settle], replicas);
      for (const c of copies) assert.ok(c.equals(remote), 'converged');
      assert.deepEqual(uuids(remote), written, 'every line written on any machine is kept');
    }),
    { seed: 14, numRuns: 300 },
  );
});

test('merge keeps the longer of a file and its prefix, and is idempotent', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
      const short = Buffer.from(a);
      const long = Buffer.concat([short, Buffer.from(b)]);
      assert.ok(mergeFile('claude/x.txt', short, long).equals(long));
      assert.ok(mergeFile('claude/x.txt', long, short).equals(long));
      const m = mergeFile('claude/x.txt', Buffer.from(a), Buffer.from(b));
      assert.ok(mergeFile('claude/x.txt', m, m).equals(m));
      assert.ok(m.equals(mergeFile('claude/x.txt', Buffer.from(b), Buffer.from(a))));
    }),
    { seed: 14, numRuns: 300 },
  );
});

test('a sync merge never drops a version of a line: forged or conflicting versions are kept beside it, and machines still converge', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 3 }).chain((r) => fc.tuple(fc.constant(r), ops(r), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }))), ([replicas, history, forgeries]) => {
      const opts = { keepConflicts: true };
      const copies: Buffer[] = Array.from({ length: replicas }, () => Buffer.from(`${line('root', 0, 'first prompt')}\n`));
      let remote: Buffer = copies[0]!;
      let n = 0;
      const seen = new Set<string>();
      const note = (b: Buffer) => b.toString('utf8').split('\n').filter(Boolean).forEach((l) => seen.add(l));
      // Every line a machine holds when it syncs is one it has: no later sync may drop it.
      const sync = (i: number) => {
        note(copies[i]!);
        remote = mergeFile('claude/s.jsonl', copies[i]!, remote, opts);
        copies[i] = remote;
      };
      history.forEach((op, step) => {
        if (op.kind === 'append') {
          const add = Array.from({ length: op.count }, () => line(`u${n}`, n++, `message from ${op.replica}`));
          copies[op.replica] = Buffer.concat([copies[op.replica]!, Buffer.from(`${add.join('\n')}\n`)]);
        } else sync(op.replica);
        // A key holder rewrites one line of its copy (same uuid, other text).
        const f = forgeries[step];
        if (f) {
          const who = f[0] % replicas;
          const ls = copies[who]!.toString('utf8').split('\n').filter(Boolean);
          const at = f[1] % ls.length;
          ls[at] = ls[at]!.replace(/"content":"[^"]*"/, `"content":"forged ${step}"`);
          copies[who] = Buffer.from(`${ls.join('\n')}\n`);
        }
      });
      for (let round = 0; round < 2; round++) for (let i = 0; i < replicas; i++) sync(i);
      for (const c of copies) assert.ok(c.equals(remote), 'converged');
      const final = new Set(remote.toString('utf8').split('\n').filter(Boolean));
      for (const l of seen) assert.ok(final.has(l), `kept: ${l.slice(0, 80)}`);
    }),
    { seed: 15, numRuns: 200 },
  );
});

test('versions of a line that differ only by a repository root (a restored session) are one line, not a conflict', () => {
  const a = Buffer.from(`${line('root', 0, 'hi')}\n${JSON.stringify({ uuid: 'u1', timestamp: 't1', cwd: '/home/ann/app' })}\n${line('u2', 2, 'from ann')}\n`);
  const b = Buffer.from(`${line('root', 0, 'hi')}\n${JSON.stringify({ uuid: 'u1', timestamp: 't1', cwd: '/home/bob/work/app' })}\n${line('u3', 3, 'from bob')}\n`);
  const r = mergeFileReport('claude/s.jsonl', a, b, { keepConflicts: true, roots: ['/home/ann/app', '/home/bob/work/app'] });
  assert.equal(r.conflicts, 0);
  assert.equal(r.data.toString().split('\n').filter((l) => l.includes('"u1"')).length, 1);
  const without = mergeFileReport('claude/s.jsonl', a, b, { keepConflicts: true });
  assert.equal(without.conflicts, 1, 'without the roots they are two versions, both kept');
  assert.equal(without.data.toString().split('\n').filter((l) => l.includes('"u1"')).length, 2);
});
