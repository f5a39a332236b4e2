import type { RaftMessage } from '@/core/raft/raft.messages';
import type { Command, LogEntry } from '@/core/raft/raft.types';

/**
 * The binary batch frame: every message queued for one peer travels in one
 * signed request. Layout (big-endian): magic "RFT1", u32 count, then per
 * message a type byte, from/to/term and the type's fields; integers are
 * 48-bit, strings u16-length UTF-8 (0xffff = null), byte strings u32-length.
 * A snapshot travels as chunks (InstallSnapshot: index, term, size, offset,
 * done, bytes), each checked to lie inside its declared size.
 * Invariant: decode either returns every message, each well-formed, or throws
 * a FrameError naming the offset, so a bad frame changes nothing.
 */

const MAGIC = 0x52465431; // "RFT1"
const MAX_ID = 300;
const MAX_MESSAGES = 100_000;
const MAX_INT = 2 ** 48 - 1;
const NULL_STRING = 0xffff;

const TYPES = [
  'PreVote',
  'PreVoteResponse',
  'RequestVote',
  'RequestVoteResponse',
  'AppendEntries',
  'AppendEntriesResponse',
  'Heartbeat',
  'HeartbeatResponse',
  'InstallSnapshot',
  'TimeoutNow',
  'ReadIndex',
  'ReadIndexResponse',
  'InstallSnapshotResponse',
] as const satisfies readonly RaftMessage['type'][];
const TYPE_CODE = new Map<string, number>(TYPES.map((t, i) => [t, i]));

export class FrameError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`bad raft frame at byte ${offset}: ${message}`);
    this.name = 'FrameError';
  }
}

class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.n++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.n);
    this.n += 4;
  }

  int(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_INT)
      throw new RangeError(`raft frame integer out of range: ${v}`);
    this.room(6);
    this.buf.writeUIntBE(v, this.n, 6);
    this.n += 6;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  str(v: string | null): void {
    if (v === null) {
      this.room(2);
      this.buf.writeUInt16BE(NULL_STRING, this.n);
      this.n += 2;
      return;
    }
    const len = Buffer.byteLength(v);
    if (len >= NULL_STRING) throw new RangeError('raft frame string too long');
    this.room(2 + len);
    this.buf.writeUInt16BE(len, this.n);
    this.n += 2 + this.buf.write(v, this.n + 2);
  }

  bytes(v: Uint8Array | string): void {
    const len = typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
    this.room(4 + len);
    this.buf.writeUInt32BE(len, this.n);
    this.n += 4;
    if (typeof v === 'string') this.buf.write(v, this.n);
    else this.buf.set(v, this.n);
    this.n += len;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

class Reader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.at;
  }

  get ended(): boolean {
    return this.at === this.buf.length;
  }

  private need(k: number): void {
    if (this.at + k > this.buf.length) throw new FrameError('truncated', this.at);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int(): number {
    this.need(6);
    const v = this.buf.readUIntBE(this.at, 6);
    this.at += 6;
    return v;
  }

  bool(): boolean {
    const at = this.at;
    const v = this.u8();
    if (v > 1) throw new FrameError(`boolean byte ${v}`, at);
    return v === 1;
  }

  str(max = MAX_ID, nullable = false): string | null {
    this.need(2);
    const at = this.at;
    const len = this.buf.readUInt16BE(this.at);
    this.at += 2;
    if (len === NULL_STRING) {
      if (!nullable) throw new FrameError('null string where one is required', at);
      return null;
    }
    if (len > max) throw new FrameError(`string of ${len} bytes (at most ${max})`, at);
    this.need(len);
    const s = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }

  id(): string {
    const at = this.at;
    const s = this.str()!;
    if (s.length === 0) throw new FrameError('empty node id', at);
    return s;
  }

  bytes(): Buffer {
    const len = this.u32();
    this.need(len);
    const b = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return b;
  }
}

export function encodeFrame(messages: readonly RaftMessage[]): Buffer {
  const w = new Writer();
  w.u32(MAGIC);
  w.u32(messages.length);
  for (const m of messages) {
    w.u8(TYPE_CODE.get(m.type)!);
    w.str(m.from);
    w.str(m.to);
    w.int(m.term);
    switch (m.type) {
      case 'PreVote':
        w.int(m.lastLogIndex);
        w.int(m.lastLogTerm);
        break;
      case 'RequestVote':
        w.int(m.lastLogIndex);
        w.int(m.lastLogTerm);
        w.bool(m.transfer);
        break;
      case 'PreVoteResponse':
      case 'RequestVoteResponse':
        w.bool(m.granted);
        break;
      case 'AppendEntries':
        w.int(m.prevLogIndex);
        w.int(m.prevLogTerm);
        w.int(m.leaderCommit);
        w.u32(m.entries.length);
        for (const e of m.entries) {
          w.int(e.index);
          w.int(e.term);
          w.u8(e.type === 'noop' ? 1 : 0);
          w.u8(typeof e.data === 'string' ? 0 : 1);
          w.bytes(e.data);
        }
        break;
      case 'AppendEntriesResponse':
        w.bool(m.success);
        w.int(m.index);
        w.int(m.hintIndex);
        w.int(m.hintTerm);
        break;
      case 'Heartbeat':
        w.int(m.leaderCommit);
        w.str(m.context);
        break;
      case 'HeartbeatResponse':
        w.str(m.context);
        break;
      case 'InstallSnapshot':
        w.int(m.snapshotIndex);
        w.int(m.snapshotTerm);
        w.int(m.size);
        w.int(m.offset);
        w.bool(m.done);
        w.bytes(m.data);
        break;
      case 'InstallSnapshotResponse':
        w.int(m.snapshotIndex);
        w.int(m.offset);
        break;
      case 'TimeoutNow':
        w.bool(m.vote);
        break;
      case 'ReadIndex':
        w.str(m.context);
        break;
      case 'ReadIndexResponse':
        w.str(m.context);
        w.int(m.index);
        break;
    }
  }
  return w.done();
}

/** Decodes a whole frame or throws FrameError; entry and snapshot bytes are copied out. */
export function decodeFrame(buf: Buffer): RaftMessage[] {
  const r = new Reader(buf);
  if (buf.length < 8 || r.u32() !== MAGIC) throw new FrameError('not a raft frame (magic)', 0);
  const count = r.u32();
  if (count > MAX_MESSAGES) throw new FrameError(`${count} messages (at most ${MAX_MESSAGES})`, 4);
  const out: RaftMessage[] = [];
  for (let i = 0; i < count; i++) out.push(decodeMessage(r));
  if (!r.ended) throw new FrameError('trailing bytes after the last message', r.offset);
  return out;
}

function decodeMessage(r: Reader): RaftMessage {
  const at = r.offset;
  const code = r.u8();
  const type = TYPES[code];
  if (type === undefined) throw new FrameError(`unknown message type ${code}`, at);
  const env = { from: r.id(), to: r.id(), term: r.int() };
  switch (type) {
    case 'PreVote':
      return { type, ...env, lastLogIndex: r.int(), lastLogTerm: r.int() };
    case 'RequestVote':
      return { type, ...env, lastLogIndex: r.int(), lastLogTerm: r.int(), transfer: r.bool() };
    case 'PreVoteResponse':
    case 'RequestVoteResponse':
      return { type, ...env, granted: r.bool() };
    case 'AppendEntries': {
      const prevLogIndex = r.int();
      const prevLogTerm = r.int();
      const leaderCommit = r.int();
      const n = r.u32();
      if (n > MAX_MESSAGES) throw new FrameError(`${n} entries in one message`, r.offset - 4);
      const entries: LogEntry[] = [];
      for (let k = 0; k < n; k++) entries.push(decodeEntry(r, prevLogIndex + k + 1));
      return { type, ...env, prevLogIndex, prevLogTerm, leaderCommit, entries };
    }
    case 'AppendEntriesResponse':
      return {
        type,
        ...env,
        success: r.bool(),
        index: r.int(),
        hintIndex: r.int(),
        hintTerm: r.int(),
      };
    case 'Heartbeat':
      return { type, ...env, leaderCommit: r.int(), context: r.str(MAX_ID, true) };
    case 'HeartbeatResponse':
      return { type, ...env, context: r.str(MAX_ID, true) };
    case 'InstallSnapshot': {
      const snapshotIndex = r.int();
      const snapshotTerm = r.int();
      const size = r.int();
      const offset = r.int();
      const done = r.bool();
      const at = r.offset;
      const data = new Uint8Array(r.bytes());
      const end = offset + data.byteLength;
      if (end > size) throw new FrameError(`snapshot chunk ends at ${end}, past ${size}`, at);
      if (done !== (end === size))
        throw new FrameError(`snapshot chunk ending at ${end} of ${size} with done=${done}`, at);
      return { type, ...env, snapshotIndex, snapshotTerm, size, offset, data, done };
    }
    case 'InstallSnapshotResponse':
      return { type, ...env, snapshotIndex: r.int(), offset: r.int() };
    case 'TimeoutNow':
      return { type, ...env, vote: r.bool() };
    case 'ReadIndex':
      return { type, ...env, context: nonEmpty(r) };
    case 'ReadIndexResponse':
      return { type, ...env, context: nonEmpty(r), index: r.int() };
  }
}

function nonEmpty(r: Reader): string {
  const at = r.offset;
  const s = r.str()!;
  if (s.length === 0) throw new FrameError('empty read context', at);
  return s;
}

function decodeEntry(r: Reader, expected: number): LogEntry {
  const at = r.offset;
  const index = r.int();
  if (index !== expected) throw new FrameError(`entry index ${index}, expected ${expected}`, at);
  const term = r.int();
  const kindAt = r.offset;
  const kind = r.u8();
  if (kind > 1) throw new FrameError(`entry type ${kind}`, kindAt);
  const encAt = r.offset;
  const enc = r.u8();
  if (enc > 1) throw new FrameError(`entry data encoding ${enc}`, encAt);
  const raw = r.bytes();
  const data: Command = enc === 0 ? raw.toString('utf8') : new Uint8Array(raw);
  return { index, term, type: kind === 1 ? 'noop' : 'command', data };
}
