import type { Snapshot } from './raft.types';

/**
 * Chunked snapshot transfer (Figure 13's offset/done). Invariants: a
 * follower assembles at most one snapshot at a time, strictly in offset
 * order, into one buffer of the declared size, and hands it on only when
 * every byte arrived; the leader never has more than `window` chunks
 * unacknowledged, so memory on both sides is bounded by one snapshot plus
 * the chunks on the wire. Any loss or reordering makes the follower report
 * the offset it holds, and the leader resends from there.
 */

export interface Chunk {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/** The leader's cursor over the snapshot it is sending one follower. */
export class OutgoingSnapshot {
  /** bytes the follower confirmed holding */
  private acked = 0;
  /** bytes sent so far (from `acked` on, possibly again after a loss) */
  private sent = 0;
  /** an empty snapshot is still one (empty, done) chunk */
  private sentDone = false;
  /** the offset a resend already started from: later reports of the same gap are echoes */
  private resentFrom = -1;

  constructor(
    readonly snapshot: Snapshot,
    private readonly chunkBytes: number,
    private readonly window: number,
  ) {}

  get size(): number {
    return this.snapshot.data.byteLength;
  }

  /** The next chunk to send, or null while the window is full or everything is out. */
  next(): Chunk | null {
    if (this.sentDone) return null;
    if (this.sent - this.acked >= this.window * this.chunkBytes) return null;
    const end = Math.min(this.size, this.sent + this.chunkBytes);
    const chunk = {
      offset: this.sent,
      data: this.snapshot.data.subarray(this.sent, end),
      done: end === this.size,
    };
    this.sent = end;
    this.sentDone = chunk.done;
    return chunk;
  }

  /** The follower holds [0, offset). True when that is progress. */
  ack(offset: number): boolean {
    if (offset >= this.size) return false; // the last chunk is answered by AppendEntriesResponse
    if (offset > this.acked) {
      // possibly past `sent` after a resend: an answer to a chunk sent before it
      this.acked = offset;
      this.sent = Math.max(this.sent, offset);
      return true;
    }
    if (offset < this.sent && offset !== this.resentFrom) this.resendFrom(offset);
    return false;
  }

  /** Nothing came back for a while: send again from what was acknowledged. */
  resend(): void {
    this.resendFrom(this.acked);
  }

  private resendFrom(offset: number): void {
    this.acked = Math.min(this.acked, offset);
    this.sent = offset;
    this.sentDone = false;
    this.resentFrom = offset;
  }
}

/** What identifies one transfer on the follower: a leader's term and its snapshot. */
interface TransferKey {
  readonly term: number;
  readonly index: number;
  readonly snapshotTerm: number;
  readonly size: number;
}

export type ChunkOutcome =
  | { readonly kind: 'partial'; readonly offset: number }
  | { readonly kind: 'complete'; readonly snapshot: Snapshot }
  | { readonly kind: 'ignored' };

/** The follower's half: chunks in, one whole snapshot out. */
export class IncomingSnapshot {
  private key: TransferKey | null = null;
  private buf: Uint8Array = new Uint8Array(0);
  private received = 0;

  constructor(private readonly maxBytes: number) {}

  /** Drops a transfer in progress (a new term: its leader is gone). */
  reset(): void {
    this.key = null;
    this.buf = new Uint8Array(0);
    this.received = 0;
  }

  offer(key: TransferKey, chunk: Chunk): ChunkOutcome {
    const end = chunk.offset + chunk.data.byteLength;
    if (key.size > this.maxBytes || end > key.size || chunk.done !== (end === key.size))
      return { kind: 'ignored' };
    if (!this.same(key)) {
      // Another transfer: only its first chunk may replace the one in progress,
      // and not with an older snapshot (a chunk delayed from an abandoned try).
      if (chunk.offset !== 0) return { kind: 'partial', offset: 0 };
      if (this.key !== null && this.key.term === key.term && key.index < this.key.index)
        return { kind: 'ignored' };
      this.key = key;
      this.buf = new Uint8Array(key.size);
      this.received = 0;
    }
    if (chunk.offset !== this.received) return { kind: 'partial', offset: this.received };
    this.buf.set(chunk.data, chunk.offset);
    this.received = end;
    if (!chunk.done) return { kind: 'partial', offset: this.received };
    const snapshot: Snapshot = { index: key.index, term: key.snapshotTerm, data: this.buf };
    this.reset();
    return { kind: 'complete', snapshot };
  }

  private same(k: TransferKey): boolean {
    const c = this.key;
    return (
      c !== null &&
      c.term === k.term &&
      c.index === k.index &&
      c.snapshotTerm === k.snapshotTerm &&
      c.size === k.size
    );
  }
}
