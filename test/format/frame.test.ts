import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { bucket, frame, unframe } from '../../src/format/frame.js';
import { CryptoError } from '../../src/errors.js';

test('bucket: the table of docs/FORMAT.md at its boundaries', () => {
  const table: Array<[number, number]> = [
    [0, 512], [1, 512], [512, 512], [513, 576], [576, 576], [577, 640], [1024, 1024], [1025, 1152], [1152, 1152], [1153, 1280],
    [2048, 2048], [2049, 2304], [4097, 4608], [65536, 65536], [65537, 73728], [262149, 294912], [294912, 294912], [294913, 327680],
    [64 * 1024 * 1024 + 5, 72 * 1024 * 1024],
  ];
  for (const [n, b] of table) assert.equal(bucket(n), b, `bucket(${n})`);
  assert.throws(() => bucket(-1), RangeError);
  assert.throws(() => bucket(1.5), RangeError);
});

test('bucket: never below n, overhead always under 12.5%, monotonic, exact at powers of two', () => {
  let prev = 0;
  for (let n = 1; n <= 300_000; n++) {
    const b = bucket(n);
    assert.ok(b >= n && b >= prev, `bucket(${n}) = ${b}`);
    if (n > 512) assert.ok((b - n) / n < 0.125, `overhead at ${n}`);
    prev = b;
  }
  for (let e = 9; e <= 40; e++) {
    assert.equal(bucket(2 ** e), 2 ** e);
    assert.equal(bucket(2 ** e + 1), 2 ** e + 2 ** (e - 3));
    assert.ok((bucket(2 ** e + 1) - (2 ** e + 1)) / (2 ** e + 1) < 0.125);
  }
});

test('frame/unframe round trip: raw and compressed, padded to the bucket with zeros', () => {
  const text = Buffer.from('{"type":"user","message":"hello"}\n'.repeat(500));
  const random = crypto.randomBytes(3000);
  for (const data of [Buffer.alloc(0), Buffer.from('x'), text, random, Buffer.alloc(100_000)]) {
    for (const compress of [true, false]) {
      const p = frame(data, { compress });
      const len = p.readUInt32BE(1);
      assert.equal(p.length, bucket(5 + len));
      assert.ok(p.subarray(5 + len).every((b) => b === 0));
      assert.deepEqual(unframe(p, data.length), data);
    }
  }
  assert.equal(frame(text, { compress: true })[0], 1, 'compressible data is deflated');
  assert.equal(frame(text, { compress: false })[0], 0);
  assert.equal(frame(random, { compress: true })[0], 0, 'incompressible data stays raw');
  const p = frame(text, { compress: true });
  assert.deepEqual(zlib.inflateRawSync(p.subarray(5, 5 + p.readUInt32BE(1))), text, 'the body is raw DEFLATE');
});

const rejects = (p: Buffer, maxOut: number, re: RegExp) =>
  assert.throws(() => unframe(p, maxOut, 'obj'), (e: unknown) => e instanceof CryptoError && /^obj: /.test(e.message) && re.test(e.message));

test('unframe rejects: short, bad length, nonzero padding, bad codec, bad or trailing DEFLATE, more than maxOut', () => {
  rejects(Buffer.alloc(0), 10, /shorter than its 5-byte header/);
  rejects(Buffer.from([0, 0, 0, 0]), 10, /shorter than its 5-byte header/);
  const good = frame(Buffer.from('hello'), { compress: false });
  const badLen = Buffer.from(good);
  badLen.writeUInt32BE(good.length - 4, 1);
  rejects(badLen, 1 << 20, /states a body of \d+ bytes but holds only/);
  const huge = Buffer.from(good);
  huge.writeUInt32BE(0xffffffff, 1);
  rejects(huge, 1 << 20, /states a body/);
  for (const at of [10, good.length - 1]) {
    const pad = Buffer.from(good);
    pad[at] = 1;
    rejects(pad, 100, /padding .* not all zero/);
  }
  for (const codec of [2, 0x7f, 0xff]) {
    const c = Buffer.from(good);
    c[0] = codec;
    rejects(c, 100, new RegExp(`unknown codec ${codec}`));
  }
  rejects(good, 4, /5 bytes, more than the 4 allowed/);
  // A decompression bomb: 10 MB of zeros in a few KB; the limit stops it.
  const bomb = frame(Buffer.alloc(10_000_000), { compress: true });
  assert.equal(bomb[0], 1);
  assert.ok(bomb.length < 20_000);
  rejects(bomb, 262144, /decompresses to more than the 262144 bytes allowed/);
  assert.equal(unframe(bomb, 10_000_000).length, 10_000_000);
  // A body that is not DEFLATE, a truncated one, one followed by junk.
  const notDeflate = Buffer.alloc(512);
  notDeflate[0] = 1;
  notDeflate.writeUInt32BE(3, 1);
  notDeflate.set([0xff, 0xff, 0xff], 5);
  rejects(notDeflate, 100, /does not decompress/);
  const body = zlib.deflateRawSync(Buffer.from('hello hello hello hello'));
  const mk = (b: Buffer) => {
    const p = Buffer.alloc(512);
    p[0] = 1;
    p.writeUInt32BE(b.length, 1);
    b.copy(p, 5);
    return p;
  };
  assert.equal(unframe(mk(body), 100).toString(), 'hello hello hello hello');
  rejects(mk(body.subarray(0, body.length - 2)), 100, /does not decompress/);
  rejects(mk(Buffer.concat([body, Buffer.from('junk')])), 100, /4 bytes follow the end of the compressed body/);
  rejects(mk(Buffer.alloc(0)), 100, /does not decompress/);
});
