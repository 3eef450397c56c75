import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Chunker, gearTable } from '../chunk/chunker.js';
import { ensureLoreHome, writePrivateFile } from './home.js';
import type { PieceFiles, PieceRef } from './pieces.js';

/**
 * This machine's chunker secret (`$LORE_HOME/chunker-key`, 32 random bytes, 0600): the gear table
 * of the content-defined chunker derives from it, so the host cannot predict piece boundaries
 * from known content (docs/SECURITY.md). Created on first use.
 */
function chunkerKey(loreHome: string): Buffer {
  const file = path.join(ensureLoreHome(loreHome), 'chunker-key');
  try {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length === 32) return key;
  } catch {
    /* created below */
  }
  const key = crypto.randomBytes(32);
  writePrivateFile(file, `${key.toString('hex')}\n`);
  return key;
}

/** Cuts byte streams into pieces with this machine's keyed chunker and stores them. */
export class Cutter {
  private table: Uint32Array | undefined;
  constructor(private readonly loreHome: string, readonly pieces: PieceFiles) {}

  /** A new streaming cut: feed bytes in order with `push`, then `end`; returns the stored pieces. */
  start(): { push(data: Buffer): void; end(): PieceRef[] } {
    this.table ??= gearTable(chunkerKey(this.loreHome));
    const chunker = new Chunker(this.table);
    const out: PieceRef[] = [];
    return {
      push: (data) => {
        for (const c of chunker.push(data)) out.push(this.pieces.put(c));
      },
      end: () => {
        for (const c of chunker.end()) out.push(this.pieces.put(c));
        return out;
      },
    };
  }

  /** Cuts and stores one buffer. */
  cut(data: Buffer): PieceRef[] {
    const c = this.start();
    c.push(data);
    return c.end();
  }
}
