/**
 * For pollers of the sites table (the leader's schedule reconciler, every node's scheduler
 * site list): whether the rows must be read again. One cheap statement, the table's change
 * fingerprint (count and latest edit), replaces reading every row; the rows are read when
 * it moved, when a change was announced (force), after a failed read, or at least every
 * `maxAgeMs` (a change that did not move it, e.g. an edit written without `updated_at`).
 */
export class TableChangeGate {
  private forced = true;
  /** the fingerprint read just before the last successful read, and when */
  private lastPrint: string | null = null;
  private lastAt = 0;

  constructor(
    private readonly fingerprint: () => Promise<string>,
    private readonly maxAgeMs: number,
  ) {}

  /** The next call reads, whatever the fingerprint says. */
  force(): void {
    this.forced = true;
  }

  /** `read()`'s result when a read was due, else null (nothing changed). */
  async readIfChanged<T>(read: () => Promise<T>): Promise<T | null> {
    // Taken before the rows: a change landing during the read moves it again, read next time.
    const print = await this.fingerprint();
    const at = Date.now();
    if (!this.forced && print === this.lastPrint && at - this.lastAt < this.maxAgeMs) return null;
    this.forced = false;
    try {
      const value = await read();
      this.lastPrint = print;
      this.lastAt = at;
      return value;
    } catch (e) {
      this.forced = true; // not read: the next call reads everything again
      throw e;
    }
  }
}
