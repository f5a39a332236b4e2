import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Snapshot } from '@/core/raft/raft.types';
import { fsyncDir, unlinkIfExists, writeFileAtomic } from './fs-durability';
import { RaftStorageCorruptionError } from './storage.errors';

/**
 * Snapshot files, one per snapshot, written atomically (temp + fsync +
 * rename + fsync dir) with a checksum over header and data; older ones are
 * pruned. Invariant: `latest()` returns a complete, verified snapshot or
 * none, never a partial one. Layout: "RSN1" [u64 index][u64 term]
 * [u32 length][u32 crc32(index..data)] [data].
 */
const MAGIC = Buffer.from('RSN1');
const HEADER = 4 + 8 + 8 + 4 + 4;
const NAME = /^snapshot-(\d{20})-(\d{20})\.snap$/;

export function snapshotFileName(index: number, term: number): string {
  return `snapshot-${String(index).padStart(20, '0')}-${String(term).padStart(20, '0')}.snap`;
}

export class SnapshotStore {
  constructor(
    private readonly dir: string,
    private readonly retain: number,
  ) {}

  async save(s: Snapshot): Promise<void> {
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header, 0);
    header.writeBigUInt64BE(BigInt(s.index), 4);
    header.writeBigUInt64BE(BigInt(s.term), 12);
    header.writeUInt32BE(s.data.byteLength, 20);
    const data = Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    header.writeUInt32BE(checksum(header, data), 24);
    // header and data written one after the other: a large snapshot is not copied again
    await writeFileAtomic(this.dir, snapshotFileName(s.index, s.term), [header, data]);
    await this.prune();
  }

  /** The newest snapshot; a damaged newest snapshot is an error, not a reason to go back in time silently. */
  async latest(): Promise<Snapshot | null> {
    const files = await this.list();
    if (files.length === 0) return null;
    const { name } = files[files.length - 1];
    const file = join(this.dir, name);
    const buf = await readFile(file);
    if (buf.length < HEADER || !buf.subarray(0, 4).equals(MAGIC)) {
      throw new RaftStorageCorruptionError(file, 0, 'not a snapshot file');
    }
    const index = Number(buf.readBigUInt64BE(4));
    const term = Number(buf.readBigUInt64BE(12));
    const length = buf.readUInt32BE(20);
    if (buf.length !== HEADER + length) {
      throw new RaftStorageCorruptionError(
        file,
        HEADER,
        `snapshot is ${buf.length - HEADER} bytes, header says ${length}`,
      );
    }
    const data = buf.subarray(HEADER);
    if (checksum(buf.subarray(0, HEADER), data) !== buf.readUInt32BE(24)) {
      throw new RaftStorageCorruptionError(file, 24, 'snapshot checksum mismatch');
    }
    return { index, term, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }

  /** Removes leftovers of interrupted writes. */
  async removeTemporaries(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) await unlinkIfExists(join(this.dir, name));
    }
  }

  private async prune(): Promise<void> {
    const files = await this.list();
    const stale = files.slice(0, Math.max(0, files.length - this.retain));
    for (const f of stale) await unlinkIfExists(join(this.dir, f.name));
    if (stale.length > 0) await fsyncDir(this.dir);
  }

  private async list(): Promise<{ name: string; index: number }[]> {
    const out: { name: string; index: number }[] = [];
    for (const name of await readdir(this.dir)) {
      const m = NAME.exec(name);
      if (m) out.push({ name, index: Number(m[1]) });
    }
    return out.sort((a, b) => a.index - b.index);
  }
}

function checksum(header: Buffer, data: Buffer): number {
  // Covers index, term, length and data (not the magic or the checksum field itself).
  return crc32(data, crc32(header.subarray(4, 24)));
}
