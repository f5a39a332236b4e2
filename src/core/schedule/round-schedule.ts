/**
 * Which site is due for which round, given "now". Each site yields at most one check
 * per round and at most one check per takeDue() call: after a stall the rounds that
 * can no longer start on time are skipped and reported, never replayed in a pile.
 */
import { MinHeap } from './min-heap';
import { firstRoundFrom, lateLimitMs, roundAt, roundStart, sitePhase } from './round';

export interface SchedulableSite {
  id: string;
  intervalMs: number;
}

export interface DueCheck<S> {
  site: S;
  round: number;
  /** when the round started (epoch ms); lag = actual start - dueAt */
  dueAt: number;
}

export interface MissedRounds {
  siteId: string;
  rounds: number;
}

export interface DueBatch<S> {
  due: DueCheck<S>[];
  missed: MissedRounds[];
}

interface Slot {
  dueAt: number;
  round: number;
  siteId: string;
  /** a slot whose generation differs from its site's is stale and dropped */
  gen: number;
  seq: number;
}

interface Entry<S> {
  site: S;
  phase: number;
  gen: number;
}

export type UpsertOutcome = 'added' | 'rescheduled' | 'updated';

export class RoundSchedule<S extends SchedulableSite> {
  private readonly sites = new Map<string, Entry<S>>();
  private readonly heap = new MinHeap<Slot>((a, b) =>
    a.dueAt !== b.dueAt ? a.dueAt < b.dueAt : a.seq < b.seq,
  );
  private gen = 0;
  private seq = 0;

  constructor(private readonly maxLateMs: number) {}

  get size(): number {
    return this.sites.size;
  }

  has(siteId: string): boolean {
    return this.sites.has(siteId);
  }

  /**
   * Adds a site or replaces its spec. A new site (or a new interval) starts with the
   * first round that begins at or after `now`: joining mid-round would either run
   * late or, at boot, start half of all sites at once. Other changes (URL, keyword)
   * keep the slot and apply from the next check.
   */
  upsert(site: S, now: number): UpsertOutcome {
    const prev = this.sites.get(site.id);
    if (prev && prev.site.intervalMs === site.intervalMs) {
      prev.site = site;
      return 'updated';
    }
    const phase = sitePhase(site.id, site.intervalMs);
    const entry: Entry<S> = { site, phase, gen: ++this.gen };
    this.sites.set(site.id, entry);
    this.pushSlot(entry, firstRoundFrom(now, phase, site.intervalMs));
    return prev ? 'rescheduled' : 'added';
  }

  remove(siteId: string): boolean {
    return this.sites.delete(siteId);
  }

  /** Start of the earliest pending round, if any. */
  nextDueAt(): number | undefined {
    this.dropStaleTop();
    return this.heap.peek()?.dueAt;
  }

  /** Every round due at `now`; late rounds beyond the late limit become `missed`. */
  takeDue(now: number): DueBatch<S> {
    const due: DueCheck<S>[] = [];
    const missed: MissedRounds[] = [];
    for (;;) {
      this.dropStaleTop();
      const top = this.heap.peek();
      if (!top || top.dueAt > now) break;
      this.heap.pop();
      const entry = this.sites.get(top.siteId)!;
      const { intervalMs } = entry.site;
      const limit = lateLimitMs(intervalMs, this.maxLateMs);

      let round = top.round;
      if (now - top.dueAt > limit) {
        // Jump to the round in progress; run it only if it can still start on time.
        const current = roundAt(now, entry.phase, intervalMs);
        const onTime = now - roundStart(current, entry.phase, intervalMs) <= limit;
        const skipped = current - top.round + (onTime ? 0 : 1);
        if (skipped > 0) missed.push({ siteId: top.siteId, rounds: skipped });
        if (!onTime) {
          this.pushSlot(entry, current + 1);
          continue;
        }
        round = current;
      }
      due.push({ site: entry.site, round, dueAt: roundStart(round, entry.phase, intervalMs) });
      // The next round is scheduled from the round grid, not from when this one ran:
      // no drift, however late a check starts or long it takes.
      this.pushSlot(entry, round + 1);
    }
    return { due, missed };
  }

  private pushSlot(entry: Entry<S>, round: number): void {
    this.heap.push({
      dueAt: roundStart(round, entry.phase, entry.site.intervalMs),
      round,
      siteId: entry.site.id,
      gen: entry.gen,
      seq: ++this.seq,
    });
  }

  private dropStaleTop(): void {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return;
      const entry = this.sites.get(top.siteId);
      if (entry && entry.gen === top.gen) return;
      this.heap.pop();
    }
  }
}
