/**
 * A bounded memory of this node's recent `decisions` apply results, for diagnostics
 * only (GET /api/consensus/status/:siteId lists a site's recent entries). The projection
 * does not read it: it rebuilds what it writes from the Raft log (core/pipeline).
 *
 * Bound: RING_CAPACITY decisions (a DecisionBatch entry counts each of its decisions).
 */
import type { SiteStatusApplyResult } from '@/core/consensus/site-status.machine';

export const RING_CAPACITY = 10_000;

export interface AppliedDecision {
  readonly index: number;
  readonly term: number;
  readonly result: SiteStatusApplyResult;
}

/** How many decisions an item holds (a DecisionBatch counts each of its decisions). */
function weightOf(item: AppliedDecision): number {
  return item.result.kind === 'batch' ? Math.max(1, item.result.results.length) : 1;
}

export class ApplyRing {
  private readonly items: AppliedDecision[] = [];
  /** decisions held: the capacity bounds decisions, not entries */
  private weight = 0;

  constructor(private readonly capacity = RING_CAPACITY) {}

  push(item: AppliedDecision): void {
    this.items.push(item);
    this.weight += weightOf(item);
    while (this.weight > this.capacity && this.items.length > 1) {
      const evicted = this.items.shift()!;
      this.weight -= weightOf(evicted);
    }
  }

  /**
   * The most recent `limit` results that concern `siteId`, oldest first; a batch entry
   * contributes its result for that site (same index and term).
   */
  forSite(siteId: string, limit = 1_000): AppliedDecision[] {
    const out: AppliedDecision[] = [];
    for (let i = this.items.length - 1; i >= 0 && out.length < limit; i--) {
      const item = this.items[i];
      const r = item.result;
      if (r.kind === 'batch') {
        for (let k = r.results.length - 1; k >= 0 && out.length < limit; k--)
          if (r.results[k].decision?.siteId === siteId) out.push({ ...item, result: r.results[k] });
        continue;
      }
      const hit =
        r.kind === 'forgot'
          ? r.siteId === siteId
          : r.kind === 'schedule'
            ? r.changed.includes(siteId)
            : r.decision?.siteId === siteId;
      if (hit) out.push(item);
    }
    return out.reverse();
  }

  get size(): number {
    return this.items.length;
  }
}
