/**
 * A bounded, index-ordered memory of recent `decisions` apply results, kept on
 * every node so that a node that becomes leader can project what the previous
 * leader committed but may not have written to PostgreSQL yet.
 *
 * Bound: RING_CAPACITY entries (~10k decisions; at 1 decision per site and round
 * that is e.g. 100 sites x 100 rounds). A leader gap longer than that is not
 * projectable from memory; the projector logs the missing range as a warning.
 * Invariant: every `decisions` entry with index >= floor() is in the ring.
 */
import type { SiteStatusApplyResult } from '@/core/consensus/site-status.machine';

export const RING_CAPACITY = 10_000;

export interface AppliedDecision {
  readonly index: number;
  readonly term: number;
  readonly result: SiteStatusApplyResult;
}

export class ApplyRing {
  private readonly items: AppliedDecision[] = [];
  private floorIndex: number | null = null;

  constructor(private readonly capacity = RING_CAPACITY) {}

  /** Notes that entry `index` (of any state machine) was applied: fixes the floor on the first call. */
  seen(index: number): void {
    if (this.floorIndex === null) this.floorIndex = index;
  }

  push(item: AppliedDecision): void {
    this.seen(item.index);
    this.items.push(item);
    if (this.items.length > this.capacity) {
      const evicted = this.items.shift()!;
      this.floorIndex = evicted.index + 1;
    }
  }

  /** The lowest index from which the ring is complete (null before anything was applied). */
  floor(): number | null {
    return this.floorIndex;
  }

  /** The first item with index > after, if any. */
  next(after: number): AppliedDecision | undefined {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].index <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.items[lo];
  }

  /** The most recent `limit` items that concern `siteId`, oldest first. */
  forSite(siteId: string, limit = 1_000): AppliedDecision[] {
    const out: AppliedDecision[] = [];
    for (let i = this.items.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.items[i].result;
      const id = r.kind === 'forgot' ? r.siteId : r.decision?.siteId;
      if (id === siteId) out.push(this.items[i]);
    }
    return out.reverse();
  }

  get size(): number {
    return this.items.length;
  }
}
