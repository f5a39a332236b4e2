/**
 * A FIFO with a hard size: pushing past capacity drops the oldest items and
 * reports how many. Invariant: length <= capacity at all times, so a slow or
 * dead consumer costs bounded memory, never a growing backlog.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends; returns how many of the oldest items were dropped to make room. */
  push(item: T): number {
    this.items.push(item);
    const excess = this.length - this.capacity;
    if (excess > 0) this.head += excess;
    this.compact();
    return Math.max(0, excess);
  }

  /** Removes and returns up to `n` items from the front. */
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    this.compact();
    return out;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head === this.items.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
