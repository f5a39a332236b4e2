/**
 * The memory of votes already accepted, for replay detection. Invariant: an
 * entry lives at least `ttlMs` unless capacity forces the oldest out (counted),
 * and the owner sets ttlMs >= the vote age window, so a vote forgotten by age
 * is also too old to be accepted again.
 */
export class SeenSet {
  /** key -> [signature fingerprint, first seen at]; Map order is insertion order */
  private readonly entries = new Map<string, readonly [string, number]>();
  private evictedCount = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly capacity: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  /** The fingerprint stored for `key`, if it is remembered. */
  get(key: string): string | undefined {
    return this.entries.get(key)?.[0];
  }

  add(key: string, fingerprint: string, now: number): void {
    if (this.entries.has(key)) return;
    while (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
      this.evictedCount++;
    }
    this.entries.set(key, [fingerprint, now]);
  }

  /** Forgets entries older than ttlMs (inserted in time order, so only the front is checked). */
  expire(now: number): void {
    for (const [key, [, at]] of this.entries) {
      if (at + this.ttlMs > now) return;
      this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** entries dropped before their time because the set was full */
  get evicted(): number {
    return this.evictedCount;
  }
}
