import { LRUCache } from 'lru-cache';

/**
 * Fixed-window counters per key (IP, account), bounded in memory by an LRU so
 * a flood of distinct keys cannot exhaust the heap. Per node, not cluster-wide.
 */
export class RateLimiter {
  private readonly windows: LRUCache<string, { start: number; count: number }>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache({ max: maxKeys });
  }

  /** Seconds until `key` may try again, or 0 when it is under the limit. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const t = this.now();
    if (t - w.start >= this.windowMs) return 0;
    return w.count >= this.limit ? Math.ceil((w.start + this.windowMs - t) / 1000) : 0;
  }

  hit(key: string): void {
    const t = this.now();
    const w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) this.windows.set(key, { start: t, count: 1 });
    else w.count += 1;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }
}
