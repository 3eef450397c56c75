import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import { Chunker, DEFAULT_CHUNKER, chunkBuffer, gearTable, type ChunkerParams } from '../../src/chunk/chunker.js';
import { rng } from '../helpers/rng.js';
import { jsonlLine, jsonlText } from '../helpers/jsonl.js';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i)); // 00 01 .. 1f
const TABLE = gearTable(KEY);
const OTHER_TABLE = gearTable(crypto.createHash('sha256').update('another machine').digest());
/** Small sizes so that a few KB make many chunks. */
const SMALL: ChunkerParams = { min: 64, avg: 256, max: 1024, lineWindow: 64 };
/** A line window longer than min: a hash cut's window can hold the next chunk's hash cut. */
const WIDE: ChunkerParams = { min: 64, avg: 128, max: 512, lineWindow: 300 };
const NO_LINES: ChunkerParams = { ...SMALL, lineWindow: 0 };
/** Every entry 0: the hash is always 0, so the hash cuts at the first hashed byte (offset min + 1). */
const CUT_AT_ONCE = new Uint32Array(256);
/** Every entry 2^31: the hash stays 0x80000000, whose high bit never clears, so only max cuts. */
const NEVER_CUT = new Uint32Array(256).fill(0x80000000);

const lengths = (chunks: Buffer[]) => chunks.map((c) => c.length);
const endsAtLine = (c: Buffer) => c[c.length - 1] === 0x0a;

/** Streams `data` through one Chunker in pieces split at `splits`; checks buffering as it goes. */
function streamed(table: Uint32Array, data: Buffer, splits: number[], params: ChunkerParams): Buffer[] {
  const chunker = new Chunker(table, params);
  const out: Buffer[] = [];
  let pushed = 0;
  let emitted = 0;
  let from = 0;
  for (const to of [...splits, data.length]) {
    for (const c of chunker.push(data.subarray(from, to))) {
      out.push(c);
      emitted += c.length;
    }
    pushed = to;
    from = to;
    assert.ok(pushed - emitted <= params.max, `holds ${pushed - emitted} bytes, more than max`);
  }
  out.push(...chunker.end());
  return out;
}

/** Text with lines of 0 to ~2*lineLen bytes, from a seed. */
function text(seed: number, length: number, lineLen: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = r() < 1 / lineLen ? 0x0a : 0x20 + Math.floor(r() * 95);
  return b;
}

test('gearTable: 256 entries, deterministic, HKDF-SHA256 as specified (vector from openssl kdf), keyed', () => {
  assert.equal(TABLE.length, 256);
  assert.deepEqual(gearTable(Buffer.from(KEY)), TABLE);
  // openssl kdf -keylen 1024 -kdfopt digest:SHA256 -kdfopt hexkey:000102..1f -kdfopt salt: -kdfopt info:'git-lore/2 gear' HKDF
  assert.deepEqual([TABLE[0], TABLE[1], TABLE[2], TABLE[254], TABLE[255]], [0x50dcc5bf, 0x94d5de03, 0x188314c7, 0x433d7a9a, 0xaafe38af]);
  assert.notDeepEqual(OTHER_TABLE, TABLE);
  assert.ok(new Set(TABLE).size > 250, 'entries look random');
  assert.throws(() => gearTable(Buffer.alloc(31)), /32 bytes/);
});

test('parameters and table are validated with a clear error', () => {
  const bad: ChunkerParams[] = [
    { ...SMALL, min: 63 },
    { ...SMALL, avg: 64 },
    { ...SMALL, max: 256 },
    { ...SMALL, avg: 256.5 },
    { ...SMALL, lineWindow: -1 },
    { ...SMALL, max: Number.NaN },
  ];
  for (const p of bad) assert.throws(() => new Chunker(TABLE, p), /invalid chunker parameters/, JSON.stringify(p));
  assert.throws(() => chunkBuffer(TABLE, Buffer.alloc(10), { ...SMALL, min: 1 }), /min must be at least 64/);
  assert.throws(() => new Chunker(new Uint32Array(255)), /256 entries/);
  assert.doesNotThrow(() => new Chunker(TABLE, DEFAULT_CHUNKER));
});

test('determinism: same key and bytes, same chunks; the chunks are the input; pinned boundaries', () => {
  const data = jsonlText(1, 1_000_000);
  const a = chunkBuffer(TABLE, data);
  const b = chunkBuffer(gearTable(Buffer.from(KEY)), Buffer.from(data));
  assert.deepEqual(a, b);
  assert.deepEqual(Buffer.concat(a), data);
  // Boundaries are part of what makes stores dedup across versions: a change here must be deliberate.
  const vector = text(2024, 1_000_000, 3000);
  assert.equal(crypto.createHash('sha256').update(vector).digest('hex').slice(0, 16), '9bff6ce6825a1f77');
  assert.deepEqual(lengths(chunkBuffer(TABLE, vector)), PINNED);
});
/**
 * With one mask (no normalization). A naive per-byte implementation of the rules, written apart
 * from this one, gave the pinned boundaries of the normalized variant; this vector pins the rules
 * as they stand, so a change of boundaries is a deliberate one.
 */
const PINNED = [27516, 18088, 50335, 82015, 27783, 262144, 208625, 50898, 159269, 19744, 67884, 23872, 1827];

test('property: any split of the input into push() calls gives the chunks of chunkBuffer', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 6000 }),
      fc.constantFrom(SMALL, WIDE, NO_LINES),
      fc.array(fc.nat(), { maxLength: 24 }),
      (seed, length, params, raw) => {
        const data = text(seed, length, 1 + (seed % 120));
        const splits = raw.map((x) => x % (length + 1)).sort((x, y) => x - y);
        const whole = chunkBuffer(TABLE, data, params);
        assert.deepEqual(streamed(TABLE, data, splits, params), whole);
        assert.deepEqual(Buffer.concat(whole), data);
        for (const c of whole.slice(0, -1)) assert.ok(c.length >= params.min && c.length <= params.max, `chunk of ${c.length}`);
      },
    ),
    { seed: 0x10e2, numRuns: 150 },
  );
});

test('property: default sizes, megabytes of JSONL, pushes of random sizes', () => {
  const data = jsonlText(2, 1_500_000);
  const whole = chunkBuffer(TABLE, data);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 40 }), (raw) => {
      assert.deepEqual(streamed(TABLE, data, raw.sort((x, y) => x - y), DEFAULT_CHUNKER), whole);
    }),
    { seed: 42, numRuns: 8 },
  );
  // One byte at a time across the first chunks too (the slowest path, so a shorter stream).
  const head = data.subarray(0, 300_000);
  assert.deepEqual(
    streamed(TABLE, head, Array.from({ length: head.length }, (_, i) => i), DEFAULT_CHUNKER),
    chunkBuffer(TABLE, head),
  );
});

test('sizes on JSONL: within [min, max], mostly cut after a line end, average near avg', () => {
  const data = jsonlText(3, 4_000_000);
  const chunks = chunkBuffer(TABLE, data);
  const { min, avg, max } = DEFAULT_CHUNKER;
  for (const c of chunks.slice(0, -1)) assert.ok(c.length >= min && c.length <= max, `chunk of ${c.length}`);
  const cuts = chunks.slice(0, -1);
  const atLine = cuts.filter(endsAtLine).length;
  const mean = data.length / chunks.length;
  // Seen: 49 chunks, mean 80.1 KiB, 37 of 48 cuts after a '\n' (lines here run to 20 KB, longer than the window).
  assert.ok(atLine / cuts.length > 0.6, `${atLine} of ${cuts.length} cuts after a line end`);
  assert.ok(mean > avg * 0.75 && mean < avg * 2, `mean chunk ${mean}`);
});

test('an inserted or deleted line in the middle changes at most 2 chunks', () => {
  const data = jsonlText(4, 3_000_000);
  const old = chunkBuffer(TABLE, data);
  const known = new Set(old.map((c) => c.toString('latin1')));
  const starts: number[] = [];
  for (let i = data.length >> 2; i < (data.length >> 2) * 3; i++) if (data[i - 1] === 0x0a) starts.push(i);
  assert.ok(starts.length > 100);
  const r = rng(5);
  for (let k = 0; k < 100; k++) {
    const at = starts[Math.floor(r() * starts.length)]!;
    const edited =
      k % 2 === 0
        ? Buffer.concat([data.subarray(0, at), Buffer.from(jsonlLine(r, Math.round(200 * 100 ** r()), 1e6 + k)), data.subarray(at)])
        : Buffer.concat([data.subarray(0, at), data.subarray(data.indexOf(0x0a, at) + 1)]);
    const chunks = chunkBuffer(TABLE, edited);
    const fresh = chunks.filter((c) => !known.has(c.toString('latin1'))).length;
    // The chunks before the edit are kept, and the boundaries fall back into step after it.
    let prefix = 0;
    while (prefix < Math.min(chunks.length, old.length) && chunks[prefix]!.equals(old[prefix]!)) prefix++;
    let suffix = 0;
    while (suffix < Math.min(chunks.length, old.length) && chunks[chunks.length - 1 - suffix]!.equals(old[old.length - 1 - suffix]!)) suffix++;
    assert.equal(prefix + fresh + suffix, chunks.length, `edit ${k}: the changed chunks are contiguous`);
    assert.ok(fresh >= 1 && fresh <= 2, `edit ${k} at ${at}: ${fresh} new chunks`);
  }
});

test('different keys give different boundaries', () => {
  const data = jsonlText(6, 2_000_000);
  const ends = (chunks: Buffer[]) => {
    let p = 0;
    return new Set(chunks.map((c) => (p += c.length)));
  };
  const a = ends(chunkBuffer(TABLE, data));
  const b = ends(chunkBuffer(OTHER_TABLE, data));
  const shared = [...a].filter((e) => b.has(e) && e !== data.length).length; // seen: 1 of 27
  assert.ok(shared <= a.size / 4, `${shared} of ${a.size} boundaries shared`);
});

test('a hash cut moves to just after the first line end in [c, c + lineWindow)', () => {
  // With CUT_AT_ONCE and SMALL the hash cuts at c = 65; the window is [65, 129).
  const line = (...at: number[]) => {
    const b = Buffer.alloc(400, 'a');
    for (const i of at) b[i] = 0x0a;
    return lengths(chunkBuffer(CUT_AT_ONCE, b, SMALL))[0];
  };
  assert.equal(line(), 65);
  assert.equal(line(64), 65, "a '\\n' just before c does not move the cut");
  assert.equal(line(65), 66);
  assert.equal(line(70, 80), 71);
  assert.equal(line(128), 129);
  assert.equal(line(129), 65, "a '\\n' past the window does not move the cut");
  assert.equal(line(20, 129), 65);
  // Streaming: the window spans pushes, with and without a '\n' in it.
  const b = Buffer.alloc(400, 'a');
  b[120] = 0x0a;
  assert.deepEqual(lengths(streamed(CUT_AT_ONCE, b, [66, 90, 100], SMALL)), lengths(chunkBuffer(CUT_AT_ONCE, b, SMALL)));
  assert.deepEqual(lengths(chunkBuffer(CUT_AT_ONCE, b, SMALL)), [121, 65, 65, 65, 65, 19]);
});

test("a hash cut's line window stops at max", () => {
  // The hash stays 0x80000000 (no cut) on every byte but '!', which clears it: a hash cut right after the '!'.
  const table = new Uint32Array(256).fill(0x80000000);
  table[0x21] = 0;
  const cut = (bang: number, newline: number) => {
    const b = Buffer.alloc(2000, 'a');
    b[bang] = 0x21;
    b[newline] = 0x0a;
    return lengths(chunkBuffer(table, b, SMALL))[0];
  };
  assert.equal(cut(500, 1500), 501);
  assert.equal(cut(500, 540), 541);
  assert.equal(cut(1000, 1022), 1023);
  assert.equal(cut(1000, 1023), 1024);
  assert.equal(cut(1000, 1024), 1001, 'the chunk would pass max');
  assert.equal(cut(1023, 1030), 1024);
  assert.equal(cut(30, 1030), 1024, 'before min the hash is not computed: forced cut at max');
});

test('edge cases: empty, shorter than min, no newlines, exactly max', () => {
  assert.deepEqual(chunkBuffer(TABLE, Buffer.alloc(0)), []);
  const c = new Chunker(TABLE);
  assert.deepEqual(c.push(Buffer.alloc(0)), []);
  assert.deepEqual(c.end(), []);

  const short = text(7, DEFAULT_CHUNKER.min - 1, 30);
  assert.deepEqual(chunkBuffer(TABLE, short), [short]);
  const atMin = text(7, DEFAULT_CHUNKER.min, 30);
  assert.deepEqual(chunkBuffer(TABLE, atMin), [atMin]);

  // No newlines: the line window changes nothing.
  const flat = text(9, 2_000_000, Infinity);
  const chunks = chunkBuffer(TABLE, flat);
  assert.deepEqual(Buffer.concat(chunks), flat);
  assert.deepEqual(lengths(chunks), lengths(chunkBuffer(TABLE, flat, { ...DEFAULT_CHUNKER, lineWindow: 0 })));
  for (const ch of chunks.slice(0, -1)) assert.ok(ch.length >= DEFAULT_CHUNKER.min && ch.length <= DEFAULT_CHUNKER.max);

  // Without hash cuts, exactly max.
  const { max } = DEFAULT_CHUNKER;
  assert.deepEqual(lengths(chunkBuffer(NEVER_CUT, Buffer.alloc(max, 1))), [max]);
  assert.deepEqual(lengths(chunkBuffer(NEVER_CUT, Buffer.alloc(2 * max + 5, '\n'))), [max, max, 5]);
  assert.deepEqual(lengths(streamed(NEVER_CUT, Buffer.alloc(2 * max), [max - 1, max, max + 1], DEFAULT_CHUNKER)), [max, max]);
  const exact = text(10, max, 500);
  assert.deepEqual(Buffer.concat(chunkBuffer(TABLE, exact)), exact);
});

test('chunks are copies (the caller may reuse its buffer) and a Chunker is reusable after end()', () => {
  const data = jsonlText(8, 300_000);
  const expected = chunkBuffer(TABLE, data).map((b) => Buffer.from(b));
  const chunker = new Chunker(TABLE);
  for (let round = 0; round < 2; round++) {
    const buf = Buffer.from(data);
    const got = [...chunker.push(buf)];
    buf.fill(0);
    got.push(...chunker.end());
    assert.deepEqual(got, expected);
  }
});
