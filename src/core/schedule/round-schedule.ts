/**
 * Which site is due for which round, given "now". Each site yields at most one check
 * per round and at most one check per takeDue() call: after a stall the rounds that
 * can no longer start on time are skipped and reported, never replayed in a pile.
 * Rounds follow the site's replicated schedule segment (segment.ts), so round numbers
 * of a site only grow, whatever its interval edits; a segment that starts in the
 * future lets the previous one run until its anchor.
 */
import { MinHeap } from './min-heap';
import { lateLimitMs } from './round';
import {
  legacySegment,
  segmentFirstRoundFrom,
  segmentRoundAt,
  segmentRoundStart,
  type ScheduleSegment,
} from './segment';

/** The committed anchor of a site's schedule: round `round` starts at `at` (epoch ms). */
export interface ScheduleAnchor {
  round: number;
  at: number;
}

export interface SchedulableSite {
  id: string;
  intervalMs: number;
  /** absent: the legacy grid floor((t - phase) / interval) */
  anchor?: ScheduleAnchor;
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
  seg: ScheduleSegment;
  /** the segment in use before `seg`, still run for rounds that start before seg's anchor */
  prev?: ScheduleSegment;
  gen: number;
}

interface At {
  round: number;
  start: number;
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
    const seg = segmentOf(site);
    if (prev && sameSegment(prev.seg, seg)) {
      prev.site = site;
      return 'updated';
    }
    const entry: Entry<S> = { site, seg, gen: ++this.gen };
    if (prev && now < seg.anchorAt) entry.prev = prev.seg;
    this.sites.set(site.id, entry);
    this.pushFrom(entry, now);
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
      const limit = lateLimitMs(entry.site.intervalMs, this.maxLateMs);

      let slot: At = { round: top.round, start: top.dueAt };
      if (now - top.dueAt > limit) {
        // Jump to the round in progress; run it only if it can still start on time.
        const current = inProgress(entry, now) ?? slot;
        const onTime = now - current.start <= limit;
        const skipped = Math.max(0, current.round - top.round) + (onTime ? 0 : 1);
        if (skipped > 0) missed.push({ siteId: top.siteId, rounds: skipped });
        if (!onTime) {
          this.pushFrom(entry, current.start + 1);
          continue;
        }
        slot = current;
      }
      due.push({ site: entry.site, round: slot.round, dueAt: slot.start });
      // The next round is scheduled from the round grid, not from when this one ran:
      // no drift, however late a check starts or long it takes.
      this.pushFrom(entry, slot.start + 1);
    }
    return { due, missed };
  }

  /** Pushes the first round of the site that starts at or after `t`. */
  private pushFrom(entry: Entry<S>, t: number): void {
    const next = firstFrom(entry, t);
    this.heap.push({
      dueAt: next.start,
      round: next.round,
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

function segmentOf(site: SchedulableSite): ScheduleSegment {
  return site.anchor
    ? { intervalMs: site.intervalMs, anchorAt: site.anchor.at, anchorRound: site.anchor.round }
    : legacySegment(site.id, site.intervalMs);
}

function sameSegment(a: ScheduleSegment, b: ScheduleSegment): boolean {
  return (
    a.intervalMs === b.intervalMs && a.anchorAt === b.anchorAt && a.anchorRound === b.anchorRound
  );
}

/** The first round starting at or after t: the previous segment's until the new anchor. */
function firstFrom(entry: Entry<SchedulableSite>, t: number): At {
  const { seg, prev } = entry;
  if (prev && t < seg.anchorAt) {
    const round = segmentFirstRoundFrom(prev, t);
    const start = segmentRoundStart(prev, round);
    if (start < seg.anchorAt && round < seg.anchorRound) return { round, start };
  }
  const round = segmentFirstRoundFrom(seg, t);
  return { round, start: segmentRoundStart(seg, round) };
}

/** The round with the latest start at or before t, if one exists. */
function inProgress(entry: Entry<SchedulableSite>, t: number): At | undefined {
  const { seg, prev } = entry;
  if (t >= seg.anchorAt) {
    const round = segmentRoundAt(seg, t);
    return { round, start: segmentRoundStart(seg, round) };
  }
  if (!prev) return undefined;
  const round = segmentRoundAt(prev, t);
  if (round >= seg.anchorRound) return undefined;
  return { round, start: segmentRoundStart(prev, round) };
}
