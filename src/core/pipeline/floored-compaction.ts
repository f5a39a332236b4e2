/**
 * When a node may compact its log: every `every` applied entries, but never past the
 * projection floor, so the log still holds every entry after the stored cursor and a
 * node that becomes leader can rebuild the projection from its snapshot. A snapshot
 * that falls due past the floor is taken then (the state is only at hand at that index)
 * and installed once the floor reaches it; meanwhile the log grows.
 */
export interface CompactionImage {
  readonly index: number;
  readonly data: Uint8Array;
}

export class FlooredCompaction {
  private deferred: CompactionImage | null = null;

  constructor(private readonly every: number) {}

  /** The snapshot to compact to now, if any; `image` is read only when one falls due. */
  next(
    applied: number,
    snapshotIndex: number,
    floor: number,
    image: () => Uint8Array,
  ): CompactionImage | null {
    // A snapshot installed from the leader may have overtaken the deferred one.
    if (this.deferred && this.deferred.index <= snapshotIndex) this.deferred = null;
    if (!this.deferred) {
      if (applied - snapshotIndex < this.every) return null;
      this.deferred = { index: applied, data: image() };
    }
    if (this.deferred.index > floor) return null;
    const due = this.deferred;
    this.deferred = null;
    return due;
  }
}
