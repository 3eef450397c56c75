import zlib from 'node:zlib';
import { CryptoError } from '../errors.js';

/**
 * The framed, padded plaintext of a format-2 sealed object (docs/FORMAT.md, "Sealed objects"):
 *
 *   P = codec (1) || L (4, big-endian) || body (L bytes) || zero bytes up to bucket(5 + L)
 *
 * codec 0: the body is the data; codec 1: the body is raw DEFLATE (RFC 1951) of the data.
 */

/** Codec byte: the body is the data itself. */
export const CODEC_RAW = 0;
/** Codec byte: the body is raw DEFLATE of the data. */
export const CODEC_DEFLATE = 1;
/** codec (1) + length (4). */
export const FRAME_HEADER_BYTES = 5;
/** The smallest padded size: everything up to 512 bytes looks the same to the host. */
export const MIN_BUCKET = 512;
/** zlib level writers compress at. */
export const DEFLATE_LEVEL = 6;

/** floor(log2(x)) for a positive integer, exact for any safe integer (Math.log2 rounds near powers of two). */
function floorLog2(x: number): number {
  let e = 0;
  while (x >= 2 ** (e + 1)) e++;
  return e;
}

/**
 * The padded size of a framed plaintext of `n` bytes: 512 when n <= 512; otherwise, with
 * e = floor(log2(n - 1)) and step = 2^(e - 3), the smallest multiple of step that is >= n.
 * Always >= n and less than n * 9/8.
 */
export function bucket(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bucket: not a size: ${n}`);
  if (n <= MIN_BUCKET) return MIN_BUCKET;
  const step = 2 ** (floorLog2(n - 1) - 3);
  return Math.ceil(n / step) * step;
}

export interface FrameOptions {
  /** Try raw DEFLATE (level 6) and keep it when it is strictly smaller than the data. */
  compress: boolean;
}

/** Frames and pads `data`: the plaintext P that gets sealed. */
export function frame(data: Buffer, opts: FrameOptions): Buffer {
  let codec = CODEC_RAW;
  let body = data;
  if (opts.compress && data.length > 0) {
    const deflated = zlib.deflateRawSync(data, { level: DEFLATE_LEVEL });
    if (deflated.length < data.length) {
      codec = CODEC_DEFLATE;
      body = deflated;
    }
  }
  if (body.length > 0xffffffff) throw new RangeError(`frame: ${body.length} bytes do not fit a 32-bit length`);
  const n = FRAME_HEADER_BYTES + body.length;
  const p = Buffer.alloc(bucket(n)); // zero-filled: the padding
  p[0] = codec;
  p.writeUInt32BE(body.length, 1);
  body.copy(p, FRAME_HEADER_BYTES);
  return p;
}

/**
 * The data framed in `p`, after every reader check of docs/FORMAT.md: at least 5 bytes, 5 + L <= |P|,
 * all padding zero, codec 0 or 1, a DEFLATE body that is one complete stream with nothing after it,
 * and at most `maxOut` bytes of data (decompression stops there: no bomb gets through).
 * Throws CryptoError whose message starts with `what` (say, "session <id>: chunk <cid>").
 * The padded size is not required to be exactly bucket(5 + L): that is the writer's business.
 */
export function unframe(p: Buffer, maxOut: number, what = 'sealed object'): Buffer {
  if (p.length < FRAME_HEADER_BYTES) throw new CryptoError(`${what}: the framed plaintext is ${p.length} bytes, shorter than its 5-byte header`);
  const codec = p[0]!;
  const len = p.readUInt32BE(1);
  if (FRAME_HEADER_BYTES + len > p.length) {
    throw new CryptoError(`${what}: the framed plaintext states a body of ${len} bytes but holds only ${p.length - FRAME_HEADER_BYTES}`);
  }
  const end = FRAME_HEADER_BYTES + len;
  for (let i = end; i < p.length; i++) {
    if (p[i] !== 0) throw new CryptoError(`${what}: the padding of the framed plaintext is not all zero (byte ${i})`);
  }
  const body = p.subarray(FRAME_HEADER_BYTES, end);
  if (codec === CODEC_RAW) {
    if (len > maxOut) throw new CryptoError(`${what}: the data is ${len} bytes, more than the ${maxOut} allowed`);
    return Buffer.from(body);
  }
  if (codec !== CODEC_DEFLATE) throw new CryptoError(`${what}: unknown codec ${codec} (this git-lore knows 0 and 1)`);
  let out: { buffer: Buffer; engine: zlib.InflateRaw };
  try {
    out = zlib.inflateRawSync(body, { maxOutputLength: Math.max(1, maxOut), info: true }) as unknown as { buffer: Buffer; engine: zlib.InflateRaw };
  } catch (err) {
    const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CryptoError(
      tooBig ? `${what}: the data decompresses to more than the ${maxOut} bytes allowed` : `${what}: the compressed body does not decompress (${(err as Error).message})`,
      { cause: err },
    );
  }
  if (out.buffer.length > maxOut) throw new CryptoError(`${what}: the data decompresses to more than the ${maxOut} bytes allowed`);
  // inflate stops at the end of the DEFLATE stream and ignores what follows: refuse trailing bytes,
  // so one plaintext has one meaning.
  if (out.engine.bytesWritten !== body.length) {
    throw new CryptoError(`${what}: ${body.length - out.engine.bytesWritten} bytes follow the end of the compressed body`);
  }
  return out.buffer;
}
