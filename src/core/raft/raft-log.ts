import {
  type Command,
  type EntryType,
  type LogEntry,
  type PersistentState,
  RaftInvariantError,
  type Snapshot,
  entrySize,
} from './raft.types';

/**
 * The in-memory log: a snapshot (the compacted prefix) followed by entries.
 * Invariants: indices are contiguous after the snapshot; committed entries are
 * never truncated; applied <= min(committed, durable) <= lastIndex; entries at
 * or after `unstableFrom` have not been handed to storage yet, and entries
 * after `durable` are not known to be fsynced (the host reports it), so they
 * are neither applied nor counted as the leader's own replica.
 */
export class RaftLog {
  /** index and term of the last compacted entry (the snapshot point), 0/0 if none */
  private offset: number;
  private offsetTerm: number;
  /** entries[k].index === offset + 1 + k */
  private entries: LogEntry[];
  /** the latest snapshot, local or installed; sent to followers that fell behind the log */
  private snap: Snapshot | null;
  /** first index not yet handed to storage */
  private unstableFrom: number;
  /** highest index known to be on this node's stable storage (fsynced) */
  private durable: number;
  /** a snapshot from the leader that storage and the state machine have not taken yet */
  private pendingSnapshot: Snapshot | null = null;
  committed: number;
  applied: number;
  /** highest index handed out in Ready.committedEntries (applied once advance() confirms it) */
  private applying: number;

  constructor(state: PersistentState) {
    const snap = state.snapshot;
    this.snap = snap;
    this.offset = snap?.index ?? 0;
    this.offsetTerm = snap?.term ?? 0;
    this.entries = [];
    for (const e of state.entries) {
      if (e.index <= this.offset) continue;
      const expected = this.offset + 1 + this.entries.length;
      if (e.index !== expected) {
        throw new RaftInvariantError(
          `stored log is not contiguous: expected index ${expected}, got ${e.index}`,
        );
      }
      this.entries.push(e);
    }
    this.unstableFrom = this.lastIndex() + 1;
    this.durable = this.lastIndex();
    this.committed = Math.max(state.hardState.commit, this.offset);
    if (this.committed > this.lastIndex()) {
      throw new RaftInvariantError(
        `stored commit index ${this.committed} is past the stored log (last index ${this.lastIndex()})`,
      );
    }
    this.applied = this.offset;
    this.applying = this.offset;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].term : this.offsetTerm;
  }

  snapshotIndex(): number {
    return this.offset;
  }

  snapshot(): Snapshot | null {
    return this.snap;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or not yet written. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offset - 1].term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a log is more up-to-date if its last term is higher, or equal with a longer log. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries from `lo` on, capped by count and approximate bytes (never fewer
   * than one if any exist). Undefined when `lo` was compacted away.
   */
  entriesFrom(lo: number, maxEntries: number, maxBytes: number): LogEntry[] | undefined {
    if (lo <= this.offset) return undefined;
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let i = lo; i <= this.lastIndex() && out.length < maxEntries; i++) {
      const e = this.entries[i - this.offset - 1];
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Entries in [lo, hi], all of which must be present. */
  slice(lo: number, hi: number): LogEntry[] {
    if (lo <= this.offset || hi > this.lastIndex()) {
      throw new RaftInvariantError(
        `slice [${lo}, ${hi}] outside the log [${this.offset + 1}, ${this.lastIndex()}]`,
      );
    }
    return this.entries.slice(lo - this.offset - 1, hi - this.offset);
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the first index
   * whose term is unknown to us). Used on both sides of fast backtracking: a
   * follower names where its log might still agree with the leader's, and the
   * leader jumps there in one step instead of decrementing nextIndex by one.
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      if (t === undefined || t <= term) return i;
    }
    return 0;
  }

  /**
   * The receiver side of AppendEntries (Figure 2, steps 2–5). Returns the
   * index of the last new entry when prevLogIndex/prevLogTerm match, else
   * undefined. Only a conflicting suffix is truncated: a stale or duplicated
   * message whose entries we already hold changes nothing.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    leaderCommit: number,
    entries: readonly LogEntry[],
  ): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new RaftInvariantError(
          `entry ${conflict} conflicts with a committed entry (commit ${this.committed})`,
        );
      }
      this.append(entries.slice(conflict - entries[0].index));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** First index among `entries` that we lack or hold with another term; 0 if we hold them all. */
  private findConflict(entries: readonly LogEntry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Appends `entries`, first discarding any entry at or after entries[0].index. */
  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (first <= this.committed) {
      throw new RaftInvariantError(
        `would overwrite committed entry ${first} (commit ${this.committed})`,
      );
    }
    if (first > this.lastIndex() + 1) {
      throw new RaftInvariantError(`gap: appending ${first} after last index ${this.lastIndex()}`);
    }
    this.entries.length = first - this.offset - 1;
    for (const e of entries) this.entries.push(e);
    this.unstableFrom = Math.min(this.unstableFrom, first);
    this.durable = Math.min(this.durable, first - 1);
  }

  /** Leader side: new entries at the end of the log in `term`. */
  appendNew(term: number, items: readonly { type: EntryType; data: Command }[]): LogEntry[] {
    let index = this.lastIndex();
    const created = items.map((it) => ({ index: ++index, term, type: it.type, data: it.data }));
    this.append(created);
    return created;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftInvariantError(`commit ${index} is past the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Figure 8: a leader only commits by counting replicas of an entry from its own term. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /**
   * Installs a leader's snapshot. If we already hold the entry it ends at,
   * only the commit index moves (the rest of our log is still valid).
   * Returns false when the snapshot is stale and nothing changed.
   */
  restore(s: Snapshot): boolean {
    if (s.index <= this.committed) return false;
    if (this.matchTerm(s.index, s.term)) {
      this.commitTo(s.index);
      return false;
    }
    this.snap = s;
    this.offset = s.index;
    this.offsetTerm = s.term;
    this.entries = [];
    this.unstableFrom = s.index + 1;
    this.durable = s.index;
    this.pendingSnapshot = s;
    this.committed = s.index;
    return true;
  }

  /** Local compaction: drop entries up to `index` (which must be applied) behind a snapshot. */
  compact(index: number, data: Uint8Array): Snapshot {
    if (index <= this.offset) {
      throw new RaftInvariantError(
        `compaction index ${index} is not after the snapshot ${this.offset}`,
      );
    }
    if (index > this.applied) {
      throw new RaftInvariantError(`cannot compact to ${index}: only ${this.applied} is applied`);
    }
    const term = this.term(index)!;
    const s: Snapshot = { index, term, data };
    this.entries = this.entries.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
    this.snap = s;
    return s;
  }

  // ---- handing work to the host (Ready) and taking it back (advance) ----

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  unstableEntries(): LogEntry[] {
    if (!this.hasUnstable()) return [];
    return this.entries.slice(Math.max(this.unstableFrom, this.offset + 1) - this.offset - 1);
  }

  /** A snapshot from the leader that storage has not confirmed yet. */
  unstableSnapshot(): Snapshot | null {
    return this.pendingSnapshot;
  }

  /** Only what is committed and on this node's disk is applied (the projector reads it back). */
  private applicable(): number {
    return Math.min(this.committed, this.durable);
  }

  hasNextCommitted(): boolean {
    return this.applicable() > Math.max(this.applying, this.offset);
  }

  /** Committed, durable entries not yet handed out for applying. */
  nextCommitted(): LogEntry[] {
    const lo = Math.max(this.applying, this.offset) + 1;
    const hi = this.applicable();
    if (lo > hi) return [];
    const out = this.slice(lo, hi);
    this.applying = hi;
    return out;
  }

  /** The host took everything up to (index, term) for storage — unless the log changed meanwhile. */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index >= this.unstableFrom) this.unstableFrom = index + 1;
  }

  /** Storage fsynced everything up to (index, term); ignored if the log changed under the write. */
  durableTo(index: number, term: number): void {
    if (index > this.durable && index < this.unstableFrom && this.term(index) === term)
      this.durable = index;
  }

  durableIndex(): number {
    return this.durable;
  }

  stableSnapshot(s: Snapshot): void {
    if (this.pendingSnapshot === s) this.pendingSnapshot = null;
  }

  appliedTo(index: number): void {
    if (index > this.committed) {
      throw new RaftInvariantError(`applied ${index} is past commit ${this.committed}`);
    }
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }
}
