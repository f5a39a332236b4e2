import { crc32 } from 'node:zlib';
import type { EntryType, LogEntry } from '@/core/raft/raft.types';

/**
 * Byte layout of one log record: [u32 length][u32 crc32(payload)][payload],
 * payload = [u8 version][u8 entry type][u8 data kind][u64 index][u64 term][data].
 * Invariant: a record decodes only if its length and checksum match, so a
 * torn or flipped byte is detected, never read as an entry.
 */
export const RECORD_HEADER_BYTES = 8;
/** larger than any legitimate record; a header claiming more is damage, not data */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const VERSION = 1;
const PAYLOAD_FIXED = 3 + 8 + 8;
const TYPE_CODE: Record<EntryType, number> = { command: 0, noop: 1 };
const KIND_STRING = 0;
const KIND_BYTES = 1;

export function encodeRecord(entry: LogEntry): Buffer {
  const data =
    typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : Buffer.from(entry.data);
  const payloadLength = PAYLOAD_FIXED + data.length;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadLength);
  buf.writeUInt32BE(payloadLength, 0);
  let o = RECORD_HEADER_BYTES;
  buf.writeUInt8(VERSION, o++);
  buf.writeUInt8(TYPE_CODE[entry.type], o++);
  buf.writeUInt8(typeof entry.data === 'string' ? KIND_STRING : KIND_BYTES, o++);
  buf.writeBigUInt64BE(BigInt(entry.index), o);
  buf.writeBigUInt64BE(BigInt(entry.term), o + 8);
  data.copy(buf, o + 16);
  buf.writeUInt32BE(crc32(buf.subarray(RECORD_HEADER_BYTES)), 4);
  return buf;
}

export type DecodeResult =
  | { readonly kind: 'ok'; readonly entry: LogEntry; readonly size: number }
  /** the record runs past the end of the buffer (a torn write if at the end of the last segment) */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string; readonly size: number };

/** Decodes the record starting at `offset` of `buf`. */
export function decodeRecord(buf: Buffer, offset: number): DecodeResult {
  if (buf.length - offset < RECORD_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32BE(offset);
  if (length < PAYLOAD_FIXED || length > MAX_RECORD_BYTES) {
    return {
      kind: 'invalid',
      reason: `impossible record length ${length}`,
      size: RECORD_HEADER_BYTES,
    };
  }
  const size = RECORD_HEADER_BYTES + length;
  if (buf.length - offset < size) return { kind: 'incomplete' };
  const payload = buf.subarray(offset + RECORD_HEADER_BYTES, offset + size);
  if (crc32(payload) !== buf.readUInt32BE(offset + 4))
    return { kind: 'invalid', reason: 'checksum mismatch', size };
  if (payload[0] !== VERSION)
    return { kind: 'invalid', reason: `unknown record version ${payload[0]}`, size };
  const type: EntryType | undefined =
    payload[1] === 0 ? 'command' : payload[1] === 1 ? 'noop' : undefined;
  if (!type || payload[2] > KIND_BYTES)
    return { kind: 'invalid', reason: 'unknown entry type', size };
  const index = Number(payload.readBigUInt64BE(3));
  const term = Number(payload.readBigUInt64BE(11));
  const raw = payload.subarray(PAYLOAD_FIXED);
  const data = payload[2] === KIND_STRING ? raw.toString('utf8') : new Uint8Array(raw);
  return { kind: 'ok', entry: { index, term, type, data }, size };
}
