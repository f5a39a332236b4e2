import type { FollowerStatus } from './raft.types';
import type { OutgoingSnapshot } from './snapshot-transfer';

/**
 * The leader's view of one follower (Figure 2's nextIndex/matchIndex plus
 * flow control). Invariants: match < next; match only grows while this
 * leader lasts; in `replicate` at most `inflights.capacity` AppendEntries
 * are unacknowledged, in `probe` at most one, in `snapshot` none (its
 * chunks have their own window, in `transfer`).
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of in-flight AppendEntries, each remembered by its last index. */
export class Inflights {
  private readonly lastIndices: number[] = [];

  constructor(readonly capacity: number) {}

  get count(): number {
    return this.lastIndices.length;
  }

  full(): boolean {
    return this.lastIndices.length >= this.capacity;
  }

  add(lastIndex: number): void {
    if (this.full()) throw new Error('inflight window overflow');
    this.lastIndices.push(lastIndex);
  }

  /** Acknowledges every message whose entries all lie at or below `index`. */
  freeTo(index: number): void {
    let n = 0;
    while (n < this.lastIndices.length && this.lastIndices[n] <= index) n++;
    if (n > 0) this.lastIndices.splice(0, n);
  }

  /** Frees one slot when a heartbeat response suggests a message was lost. */
  freeFirst(): void {
    this.lastIndices.shift();
  }

  reset(): void {
    this.lastIndices.length = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** probe: an AppendEntries is out; wait for a response (or heartbeat response) before the next */
  probeSent = false;
  /** snapshot: the index of the snapshot being installed, and ticks since the follower last took a chunk */
  pendingSnapshot = 0;
  snapshotTicks = 0;
  /** snapshot: the chunks sent and acknowledged */
  transfer: OutgoingSnapshot | null = null;
  /** the leader's tick count when this follower last answered (check-quorum) */
  lastHeardTick = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    this.reset('probe');
    this.next = this.match + 1;
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(transfer: OutgoingSnapshot): void {
    this.reset('snapshot');
    this.pendingSnapshot = transfer.snapshot.index;
    this.transfer = transfer;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.transfer = null;
    this.inflights.reset();
  }

  /** No AppendEntries may be sent right now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Records an AppendEntries carrying entries up to `lastIndex` (none if lastIndex < next). */
  sentEntries(lastIndex: number): void {
    if (this.state === 'replicate') {
      if (lastIndex >= this.next) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else {
      this.probeSent = true;
    }
  }

  /** A success response up to `index`; false when it tells us nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of prevLogIndex `rejected`, with the leader's best guess
   * `matchHint` of where the logs agree. False when the rejection is stale
   * (it answers a message sent before a newer decision about this follower).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  status(): FollowerStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflights.count,
      lastHeardTick: this.lastHeardTick,
    };
  }
}
