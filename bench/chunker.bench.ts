import crypto from 'node:crypto';
import { Chunker, chunkBuffer, gearTable } from '../src/chunk/chunker.js';
import { jsonlText } from '../test/helpers/jsonl.js';
import { median } from './util.js';

/**
 * Chunker throughput on 64 MiB of generated JSONL (lines of 200 B to 20 KB), in one buffer and
 * streamed in 64 KiB pushes, against SHA-256 of the same bytes (native code) as a baseline.
 */
export async function benchChunker(): Promise<string> {
  const data = jsonlText(7, Number(process.env.BENCH_CHUNKER_BYTES) || 64 * 1024 * 1024);
  const table = gearTable(crypto.createHash('sha256').update('bench').digest());
  const mb = data.length / 1e6;
  const time = (fn: () => void): number => {
    const ms: number[] = [];
    for (let r = 0; r < 7; r++) {
      // CPU time of this (single-threaded) process: the shared VM's other load does not count.
      const t = process.cpuUsage();
      fn();
      const d = process.cpuUsage(t);
      ms.push((d.user + d.system) / 1e3);
    }
    return median(ms);
  };
  let chunks: Buffer[] = [];
  const whole = time(() => (chunks = chunkBuffer(table, data)));
  const streamed = time(() => {
    const c = new Chunker(table);
    for (let i = 0; i < data.length; i += 65536) c.push(data.subarray(i, i + 65536));
    c.end();
  });
  const sha = time(() => crypto.createHash('sha256').update(data).digest());
  const atLine = chunks.slice(0, -1).filter((c) => c[c.length - 1] === 0x0a).length;
  const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  return [
    `## Chunker`,
    ``,
    `${mb.toFixed(1)} MB of JSONL, default parameters (CPU time, median of 7): ${chunks.length} chunks, ` +
      `average ${(data.length / chunks.length / 1024).toFixed(1)} KiB, ${atLine} of ${chunks.length - 1} cuts after a line end.`,
    ``,
    `| measure | result | target |`,
    `|---|---|---|`,
    `| chunkBuffer, one buffer | ${whole.toFixed(0)} ms = **${rate(whole)}** | > 300 MB/s |`,
    `| Chunker, 64 KiB pushes | ${streamed.toFixed(0)} ms = **${rate(streamed)}** | > 300 MB/s |`,
    `| baseline: SHA-256 of the same bytes | ${sha.toFixed(0)} ms = ${rate(sha)} | |`,
  ].join('\n');
}
