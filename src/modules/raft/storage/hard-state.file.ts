import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { EMPTY_HARD_STATE, type HardState } from '@/core/raft/raft.types';
import { writeFileAtomic } from './fs-durability';
import { RaftStorageCorruptionError } from './storage.errors';

/**
 * The term and vote on disk: one small file replaced atomically
 * (temp + fsync + rename + fsync dir), with a checksum. Invariant: once
 * `write` resolves, a restart sees this term and vote or a later one.
 * Layout: "RHS1" [u32 crc32(json)] [json].
 */
export const HARD_STATE_FILE = 'hardstate.bin';
const MAGIC = Buffer.from('RHS1');

export async function readHardState(dir: string): Promise<HardState> {
  const file = join(dir, HARD_STATE_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_HARD_STATE;
    throw e;
  }
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) {
    throw new RaftStorageCorruptionError(file, 0, 'not a hard-state file');
  }
  const json = buf.subarray(8);
  if (crc32(json) !== buf.readUInt32BE(4))
    throw new RaftStorageCorruptionError(file, 4, 'checksum mismatch');
  const parsed = JSON.parse(json.toString('utf8')) as {
    term?: unknown;
    vote?: unknown;
    commit?: unknown;
  };
  const { term, vote, commit } = parsed;
  if (!isIndex(term) || !isIndex(commit) || !(vote === null || typeof vote === 'string')) {
    throw new RaftStorageCorruptionError(file, 8, 'malformed hard state');
  }
  return { term, vote, commit };
}

export async function writeHardState(dir: string, hs: HardState): Promise<void> {
  const json = Buffer.from(
    JSON.stringify({ term: hs.term, vote: hs.vote, commit: hs.commit }),
    'utf8',
  );
  const header = Buffer.alloc(8);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(crc32(json), 4);
  await writeFileAtomic(dir, HARD_STATE_FILE, Buffer.concat([header, json]));
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
