import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Frames of an authenticated cluster stream: `len u32 | seq u64 | tag[32] | payload`,
 * tag = HMAC-SHA256(direction key, len | seq | payload). Each direction has its own
 * key and counts its own sequence from 1.
 * Invariant: the opener hands out a payload only if its tag verifies under the
 * session key and its sequence number is exactly the next one; anything else
 * (a forged or altered frame, a replayed or reordered one, a length over the cap)
 * is a StreamFault, after which the stream is closed and nothing more is read.
 */

export const HEADER_BYTES = 4 + 8 + 32;

export type StreamFaultReason = 'bad-tag' | 'replayed' | 'out-of-order' | 'oversized' | 'garbage';

export class StreamFault extends Error {
  constructor(
    readonly reason: StreamFaultReason,
    detail: string,
  ) {
    super(`cluster stream ${reason}: ${detail}`);
    this.name = 'StreamFault';
  }
}

function tagOf(key: Buffer, header: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(header.subarray(0, 12)).update(payload).digest();
}

/** Numbers and tags this side's frames. */
export class FrameSealer {
  private seq = 0;

  constructor(
    private readonly key: Buffer,
    private readonly maxBytes: number,
  ) {}

  /** The header to write before `payload` (payload itself is written as is). */
  seal(payload: Buffer): Buffer {
    if (payload.length > this.maxBytes)
      throw new RangeError(`stream frame of ${payload.length} bytes exceeds ${this.maxBytes}`);
    this.seq += 1;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(Math.floor(this.seq / 2 ** 32), 4);
    header.writeUInt32BE(this.seq >>> 0, 8);
    tagOf(this.key, header, payload).copy(header, 12);
    return header;
  }
}

/** Checks the peer's frames as bytes arrive; hands on each verified payload in order. */
export class FrameOpener {
  private expected = 1;
  private pending: Buffer[] = [];
  private buffered = 0;
  /** the current frame's header, once read */
  private header: Buffer | null = null;

  constructor(
    private readonly key: Buffer,
    private readonly maxBytes: number,
  ) {}

  /**
   * Frames verified before a bad one in the same chunk are still delivered; then it
   * throws StreamFault, and the opener is useless afterwards.
   */
  push(chunk: Buffer, deliver: (payload: Buffer) => void): void {
    this.pending.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.header) {
        if (this.buffered < HEADER_BYTES) return;
        this.header = this.take(HEADER_BYTES);
        const len = this.header.readUInt32BE(0);
        // Refused before a byte of it is buffered: a length is not a promise to read it.
        if (len > this.maxBytes)
          throw new StreamFault('oversized', `${len} bytes declared, at most ${this.maxBytes}`);
      }
      const len = this.header.readUInt32BE(0);
      if (this.buffered < len) return;
      const payload = this.take(len);
      const header = this.header;
      this.header = null;
      if (!this.tagMatches(header, payload))
        throw new StreamFault('bad-tag', `frame ${this.expected} does not verify`);
      const seq = header.readUInt32BE(4) * 2 ** 32 + header.readUInt32BE(8);
      if (seq < this.expected)
        throw new StreamFault('replayed', `sequence ${seq} after ${this.expected - 1}`);
      if (seq > this.expected)
        throw new StreamFault('out-of-order', `sequence ${seq}, expected ${this.expected}`);
      this.expected += 1;
      deliver(payload);
    }
  }

  /** A method of its own so the mutation check (raft-stream.spec.ts) can take it out. */
  tagMatches(header: Buffer, payload: Buffer): boolean {
    return timingSafeEqual(tagOf(this.key, header, payload), header.subarray(12, HEADER_BYTES));
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    const first = this.pending[0];
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.pending[0];
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.pending.shift();
        else this.pending[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}
