import { constants } from 'node:fs';
import { type FileHandle, open, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry } from '@/core/raft/raft.types';
import { decodeRecord, encodeRecord } from './record.codec';
import { fsyncDir } from './fs-durability';
import { RaftStorageCorruptionError } from './storage.errors';

/**
 * The Raft log as append-only segment files `log-<first index>.seg`, rolled at
 * a size limit. Invariants: records are contiguous by index within and across
 * segments; `append` returns only after the data (and any new file's directory
 * entry) is fsynced; a suffix is cut newest-segment-first and a prefix
 * oldest-first, so a crash midway always leaves a contiguous log.
 * Recovery truncates a torn final record of the last segment and refuses any
 * other damage (RaftStorageCorruptionError names the file and offset).
 */
const NAME = /^log-(\d{20})\.seg$/;

export function segmentFileName(firstIndex: number): string {
  return `log-${String(firstIndex).padStart(20, '0')}.seg`;
}

interface Segment {
  readonly path: string;
  readonly firstIndex: number;
  /** byte offset of each record: record k holds index firstIndex + k */
  readonly offsets: number[];
  size: number;
}

export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly bytesDropped: number;
}

export class SegmentedLog {
  private segments: Segment[] = [];
  /** open handle on the segment being written (normally the last) */
  private handle: FileHandle | null = null;
  private handleSegment: Segment | null = null;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /** Opens the log in `dir`, recovering from a torn tail; returns every stored entry. */
  static async open(
    dir: string,
    segmentBytes: number,
  ): Promise<{ log: SegmentedLog; entries: LogEntry[]; tornTail: TornTail | null }> {
    const log = new SegmentedLog(dir, segmentBytes);
    const names = (await readdir(dir))
      .map((name) => ({ name, m: NAME.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .map(({ name, m }) => ({ name, firstIndex: Number(m[1]) }))
      .sort((a, b) => a.firstIndex - b.firstIndex);
    const entries: LogEntry[] = [];
    let tornTail: TornTail | null = null;
    for (let i = 0; i < names.length; i++) {
      const isLast = i === names.length - 1;
      const path = join(dir, names[i].name);
      const seg: Segment = { path, firstIndex: names[i].firstIndex, offsets: [], size: 0 };
      const prev = log.segments[log.segments.length - 1];
      if (prev && seg.firstIndex !== prev.firstIndex + prev.offsets.length) {
        throw new RaftStorageCorruptionError(
          path,
          0,
          `segment starts at index ${seg.firstIndex} but the previous one ends at ${prev.firstIndex + prev.offsets.length - 1}`,
        );
      }
      const buf = await readFile(path);
      const torn = scanSegment(buf, seg, isLast, entries);
      if (torn !== null) {
        tornTail = { file: path, offset: torn, bytesDropped: buf.length - torn };
        const h = await open(path, 'r+');
        try {
          await h.truncate(torn);
          await h.sync();
        } finally {
          await h.close();
        }
      }
      if (seg.offsets.length === 0) {
        if (!isLast)
          throw new RaftStorageCorruptionError(path, 0, 'empty segment before the last one');
        await unlink(path); // nothing in it: a roll interrupted by a crash
        await fsyncDir(dir);
        continue;
      }
      log.segments.push(seg);
    }
    return { log, entries, tornTail };
  }

  firstIndex(): number | undefined {
    return this.segments[0]?.firstIndex;
  }

  lastIndex(): number | undefined {
    const last = this.segments[this.segments.length - 1];
    return last ? last.firstIndex + last.offsets.length - 1 : undefined;
  }

  segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Appends `entries`, first discarding any stored entry at or after
   * entries[0].index (a conflicting suffix). Resolves once durable.
   */
  async append(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const first = entries[0].index;
    const last = this.lastIndex();
    if (last !== undefined && first <= last) await this.truncateFrom(first);
    const next = this.lastIndex();
    if (next !== undefined && first !== next + 1) {
      throw new Error(`log append at ${first} would leave a gap after ${next}`);
    }
    const writes: { seg: Segment; from: number; chunks: Buffer[]; created: boolean }[] = [];
    // What the index looked like before: a failed write must leave it (and the files) there.
    const segmentsBefore = this.segments.length;
    const lastBefore = this.segments[segmentsBefore - 1];
    const lastSizeBefore = lastBefore?.size ?? 0;
    const lastCountBefore = lastBefore?.offsets.length ?? 0;
    let current = writes[writes.length - 1];
    let expected = first;
    for (const e of entries) {
      if (e.index !== expected++) throw new Error(`log append is not contiguous at ${e.index}`);
      let seg = this.segments[this.segments.length - 1];
      const created = !seg || seg.size >= this.segmentBytes;
      if (created) {
        seg = {
          path: join(this.dir, segmentFileName(e.index)),
          firstIndex: e.index,
          offsets: [],
          size: 0,
        };
        this.segments.push(seg);
      }
      if (!current || current.seg !== seg) {
        current = { seg, from: seg.size, chunks: [], created };
        writes.push(current);
      }
      const rec = encodeRecord(e);
      seg.offsets.push(seg.size);
      seg.size += rec.length;
      current.chunks.push(rec);
    }
    try {
      for (const w of writes) {
        if (w.created || this.handleSegment !== w.seg)
          await this.openSegment(w.seg, w.created ? 'wx' : 'r+');
        // O_DSYNC (openSegment): the write returns once its data is durable.
        await writeFully(this.handle!, Buffer.concat(w.chunks), w.from);
      }
      if (writes.some((w) => w.created)) await fsyncDir(this.dir);
    } catch (e) {
      await this.rollBack(segmentsBefore, lastSizeBefore, lastCountBefore);
      throw e;
    }
  }

  /**
   * After a failed append (ENOSPC, EFBIG, EIO, a short write): forgets the entries it indexed and
   * cuts the files back, best effort. Whatever stays on disk is a torn tail that open() drops by
   * its checksum; the caller must not acknowledge anything of this append.
   */
  private async rollBack(segments: number, lastSize: number, lastCount: number): Promise<void> {
    await this.closeHandle().catch(() => undefined);
    for (const seg of this.segments.splice(segments)) await unlink(seg.path).catch(() => {});
    const last = this.segments[this.segments.length - 1];
    if (!last) return;
    last.offsets.length = lastCount;
    last.size = lastSize;
    const h = await open(last.path, 'r+').catch(() => null);
    if (!h) return;
    try {
      await h.truncate(lastSize);
      await h.sync();
    } catch {
      // the disk may still refuse: open() will find the same bytes as a torn tail
    } finally {
      await h.close().catch(() => undefined);
    }
  }

  /** Drops every entry at or after `index`. Later segments go first, newest first. */
  async truncateFrom(index: number): Promise<void> {
    let removed = false;
    while (
      this.segments.length > 0 &&
      this.segments[this.segments.length - 1].firstIndex >= index
    ) {
      await this.closeHandle();
      await unlink(this.segments.pop()!.path);
      removed = true;
    }
    if (removed) await fsyncDir(this.dir);
    const seg = this.segments[this.segments.length - 1];
    if (!seg || index > seg.firstIndex + seg.offsets.length - 1) return;
    const keep = index - seg.firstIndex;
    const size = seg.offsets[keep];
    seg.offsets.length = keep;
    seg.size = size;
    await this.openSegment(seg, 'r+');
    await this.handle!.truncate(size);
    await this.handle!.sync();
  }

  /**
   * Drops whole segments holding only entries at or before `index` (after a
   * snapshot covers them), oldest first. Entries after `index` are kept, so
   * the first remaining segment may still start before it.
   */
  async dropThrough(index: number): Promise<void> {
    let removed = false;
    while (this.segments.length > 0) {
      const seg = this.segments[0];
      if (seg.firstIndex + seg.offsets.length - 1 > index) break;
      if (this.segments.length === 1) await this.closeHandle();
      await unlink(seg.path);
      this.segments.shift();
      removed = true;
    }
    if (removed) await fsyncDir(this.dir);
  }

  /** Deletes every segment (the log restarts after an installed snapshot). */
  async clear(): Promise<void> {
    if (this.segments.length === 0) return;
    await this.closeHandle();
    while (this.segments.length > 0) await unlink(this.segments.pop()!.path);
    await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async openSegment(seg: Segment, flags: 'wx' | 'r+'): Promise<void> {
    await this.closeHandle();
    this.handle = await open(seg.path, SEGMENT_FLAGS[flags]);
    this.handleSegment = seg;
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    this.handleSegment = null;
    if (h) await h.close();
  }
}

/**
 * Segments are written with O_DSYNC: a pwrite returns once its data (and the size needed
 * to read it back) is durable, as write + fdatasync, but in one system call and one
 * thread-pool round trip; on a busy event loop each round trip waited for the loop.
 */
const SEGMENT_FLAGS = {
  wx: constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC,
  'r+': constants.O_RDWR | constants.O_DSYNC,
} as const;

/**
 * Reads the records of one segment into `seg` and `out`. Returns the offset
 * to truncate at when the last segment ends in a torn write, else null.
 */
function scanSegment(buf: Buffer, seg: Segment, isLast: boolean, out: LogEntry[]): number | null {
  let offset = 0;
  while (offset < buf.length) {
    const r = decodeRecord(buf, offset);
    if (r.kind === 'ok') {
      const expected = seg.firstIndex + seg.offsets.length;
      if (r.entry.index !== expected) {
        throw new RaftStorageCorruptionError(
          seg.path,
          offset,
          `record holds index ${r.entry.index}, expected ${expected}`,
        );
      }
      seg.offsets.push(offset);
      out.push(r.entry);
      offset += r.size;
      seg.size = offset;
      continue;
    }
    // A crash while appending leaves the last record of the last segment
    // partial (or zero-filled, or half-written): that write was never
    // acknowledged, so it is dropped. Damage with intact data after it is not
    // a torn write.
    const torn =
      isLast &&
      (r.kind === 'incomplete' || offset + r.size >= buf.length || isZeroFrom(buf, offset));
    if (torn) return offset;
    const reason = r.kind === 'incomplete' ? 'truncated record' : r.reason;
    const where = isLast ? 'followed by more data' : 'in a segment that is not the last';
    throw new RaftStorageCorruptionError(seg.path, offset, `${reason} (${where})`);
  }
  return null;
}

function isZeroFrom(buf: Buffer, offset: number): boolean {
  for (let i = offset; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * `write` may write fewer bytes than asked (a full disk, a file size limit): keep writing the
 * rest, and fail rather than report success for a record that is not all on disk.
 */
async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write: ${done} of ${data.length} bytes`);
    done += bytesWritten;
  }
}
