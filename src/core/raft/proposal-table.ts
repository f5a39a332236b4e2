/**
 * The proposals a host is waiting on, by log index. Invariant: each waiter is
 * settled exactly once, and settling one never touches another that waits at
 * the same index: by the entry applied there (committed if its term matches,
 * else lost), by a newer proposal taking its slot (lost: its entry was cut
 * from this node's log), or by its deadline (outcome unknown). Time is the
 * host's, passed in.
 */

export type ProposalOutcome = 'committed' | 'lost';

interface Pending<W> {
  readonly term: number;
  readonly deadline: number;
  readonly waiter: W;
}

export class ProposalTable<W> {
  // Insertion order is deadline order: every deadline is now + a fixed timeout, and a
  // replaced slot is deleted before it is set again, so it moves to the end.
  private readonly byIndex = new Map<number, Pending<W>>();

  constructor(private readonly timeout: number) {}

  get size(): number {
    return this.byIndex.size;
  }

  /**
   * Waits on the entry proposed at (index, term). Returns the waiter it
   * displaced, if any: a proposal at the same index from an earlier term,
   * which can never commit there (this node's log now holds the newer entry,
   * and a committed entry would have been in every later leader's log).
   */
  track(index: number, term: number, now: number, waiter: W): W | null {
    const old = this.byIndex.get(index);
    this.byIndex.delete(index);
    this.byIndex.set(index, { term, deadline: now + this.timeout, waiter });
    return old ? old.waiter : null;
  }

  /** The entry at (index, term) was applied: settles whoever waited on that index. */
  applied(index: number, term: number): { waiter: W; outcome: ProposalOutcome } | null {
    const p = this.byIndex.get(index);
    if (!p) return null;
    this.byIndex.delete(index);
    return { waiter: p.waiter, outcome: p.term === term ? 'committed' : 'lost' };
  }

  /** Removes and returns the waiters whose deadline has passed (their outcome is unknown). */
  expire(now: number): W[] {
    const out: W[] = [];
    for (const [index, p] of this.byIndex) {
      if (p.deadline > now) break;
      this.byIndex.delete(index);
      out.push(p.waiter);
    }
    return out;
  }

  /** Removes and returns every waiter (the host stops). */
  drain(): W[] {
    const out = [...this.byIndex.values()].map((p) => p.waiter);
    this.byIndex.clear();
    return out;
  }
}
