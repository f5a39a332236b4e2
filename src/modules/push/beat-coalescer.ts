/**
 * Beats waiting for the next flush, many per log entry: a site beating twice before a
 * flush is in it once, and every caller waiting on it is answered by the same commit.
 * Bounded: past `maxSites` distinct waiting sites a beat is refused (the caller answers
 * 503), so a flood cannot grow memory or an entry without limit. Pure: no timers, the
 * host calls take() on its own schedule and settles what it took.
 */
export interface BeatWaiter {
  resolve(committedAt: number): void;
  reject(e: Error): void;
}

export interface TakenBatch {
  sites: string[];
  /** answers every waiter of the batch */
  settle(outcome: { ok: true; at: number } | { ok: false; error: Error }): void;
}

export class BeatCoalescer {
  private pending = new Map<string, BeatWaiter[]>();

  constructor(private readonly maxSites: number) {}

  /** Adds a beat; false when the batch is full (nothing was added). */
  add(siteId: string, waiter: BeatWaiter): boolean {
    const list = this.pending.get(siteId);
    if (list) {
      list.push(waiter);
      return true;
    }
    if (this.pending.size >= this.maxSites) return false;
    this.pending.set(siteId, [waiter]);
    return true;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Everything waiting, as one batch; the coalescer starts empty again. */
  take(): TakenBatch | null {
    if (this.pending.size === 0) return null;
    const taken = this.pending;
    this.pending = new Map();
    return {
      sites: [...taken.keys()],
      settle(outcome) {
        for (const waiters of taken.values())
          for (const w of waiters) {
            if (outcome.ok) w.resolve(outcome.at);
            else w.reject(outcome.error);
          }
      },
    };
  }
}
