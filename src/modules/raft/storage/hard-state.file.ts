import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { EMPTY_HARD_STATE, type HardState } from '@/core/raft/raft.types';
import { writeFileAtomic } from './fs-durability';
import { RaftStorageCorruptionError } from './storage.errors';

/**
 * The term and vote on disk, in one file of two fixed slots. A write goes to
 * the slot not holding the newest state (one pwrite and one fdatasync: no
 * file is created or renamed, so no journal commit of the file system sits in
 * an election's path); a read takes the valid slot with the highest sequence
 * number. Invariant: once `write` resolves, a restart sees this term and vote
 * or a later one; a write torn by a crash damages only its own slot, which
 * had not been acknowledged, and the other slot still holds the state before
 * it. Damage to both slots is refused as corruption.
 * Slot layout (SLOT bytes): "RHS2" [u32 crc32(rest)] [u32 seq high][u32 seq low]
 * [u32 length][json][zero padding]. The file is created (atomically, both
 * slots alike) on the first write; a file of the older single-record format
 * ("RHS1" [u32 crc32(json)] [json]) is read and replaced by the first write.
 */
export const HARD_STATE_FILE = 'hardstate.bin';
const MAGIC_V1 = Buffer.from('RHS1');
const MAGIC = Buffer.from('RHS2');
const SLOT = 512;
const HEADER = 20;

export class HardStateFile {
  private handle: FileHandle | null = null;
  /** sequence number of the newest state on disk (0: none yet) */
  private seq = 0;

  constructor(private readonly dir: string) {}

  private get file(): string {
    return join(this.dir, HARD_STATE_FILE);
  }

  async read(): Promise<HardState> {
    await this.close();
    this.seq = 0;
    let buf: Buffer;
    try {
      buf = await readFile(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_HARD_STATE;
      throw e;
    }
    if (buf.length >= 8 && buf.subarray(0, 4).equals(MAGIC_V1)) return this.readV1(buf);
    if (buf.length !== 2 * SLOT)
      throw new RaftStorageCorruptionError(this.file, 0, 'not a hard-state file');
    const slots = [decodeSlot(buf.subarray(0, SLOT)), decodeSlot(buf.subarray(SLOT))];
    let best: { seq: number; state: HardState } | null = null;
    for (const s of slots) if (s && (!best || s.seq > best.seq)) best = s;
    if (!best)
      throw new RaftStorageCorruptionError(this.file, 4, 'checksum mismatch in both slots');
    this.seq = best.seq;
    this.handle = await open(this.file, 'r+');
    return best.state;
  }

  /** Durable once resolved; a failed write leaves the newest slot as it was. */
  async write(hs: HardState): Promise<void> {
    const next = this.seq + 1;
    const slot = encodeSlot(next, hs);
    if (!this.handle) {
      await writeFileAtomic(this.dir, HARD_STATE_FILE, [slot, slot]);
      this.handle = await open(this.file, 'r+');
    } else {
      await this.handle.write(slot, 0, SLOT, (next % 2) * SLOT);
      await this.handle.datasync();
    }
    this.seq = next;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }

  private readV1(buf: Buffer): HardState {
    const json = buf.subarray(8);
    if (crc32(json) !== buf.readUInt32BE(4))
      throw new RaftStorageCorruptionError(this.file, 4, 'checksum mismatch');
    const state = parseState(json);
    if (!state) throw new RaftStorageCorruptionError(this.file, 8, 'malformed hard state');
    return state;
  }
}

function encodeSlot(seq: number, hs: HardState): Buffer {
  const json = Buffer.from(
    JSON.stringify({ term: hs.term, vote: hs.vote, commit: hs.commit }),
    'utf8',
  );
  if (HEADER + json.length > SLOT) throw new Error('hard state does not fit its slot');
  const slot = Buffer.alloc(SLOT);
  MAGIC.copy(slot, 0);
  slot.writeUInt32BE(Math.floor(seq / 2 ** 32), 8);
  slot.writeUInt32BE(seq >>> 0, 12);
  slot.writeUInt32BE(json.length, 16);
  json.copy(slot, HEADER);
  slot.writeUInt32BE(crc32(slot.subarray(8)), 4);
  return slot;
}

/** A slot's sequence number and state, or null when it is torn or damaged. */
function decodeSlot(slot: Buffer): { seq: number; state: HardState } | null {
  if (!slot.subarray(0, 4).equals(MAGIC) || crc32(slot.subarray(8)) !== slot.readUInt32BE(4))
    return null;
  const length = slot.readUInt32BE(16);
  if (HEADER + length > SLOT) return null;
  let state: HardState | null;
  try {
    state = parseState(slot.subarray(HEADER, HEADER + length));
  } catch {
    return null;
  }
  if (!state) return null;
  return { seq: slot.readUInt32BE(8) * 2 ** 32 + slot.readUInt32BE(12), state };
}

function parseState(json: Buffer): HardState | null {
  const { term, vote, commit } = JSON.parse(json.toString('utf8')) as {
    term?: unknown;
    vote?: unknown;
    commit?: unknown;
  };
  if (!isIndex(term) || !isIndex(commit) || !(vote === null || typeof vote === 'string'))
    return null;
  return { term, vote, commit };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
