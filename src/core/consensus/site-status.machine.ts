/**
 * Per-site status, replicated: every node applies the same committed decisions in
 * log order and so holds the same status and emits the same transitions. Invariant:
 * apply reads nothing but the entry (no clock, no randomness, no iteration over
 * unordered state), and snapshot() is canonical, so restore(snapshot()) is exact.
 *
 * Rules, per decision of site s and round r (see README.md in this folder):
 *  1. r <= s.lastRound: ignored ("stale"); a re-tallied or late round changes nothing.
 *  2. otherwise lastRound = r. A global verdict of UNKNOWN changes nothing; UP or
 *     DOWN different from the current verdict becomes current with since = decidedAt.
 *     UNKNOWN/UP -> DOWN emits DOWN; DOWN -> UP emits RECOVERED; the first UP emits nothing.
 *  3. each region in regionVerdicts follows the same rule for its own verdict. A region
 *     DOWN while the site is UP emits REGION_DOWN once (the region is "alerted");
 *     an alerted region back UP emits REGION_RECOVERED. While the site is DOWN no
 *     REGION_DOWN is raised (the DOWN alert covers it); if the site recovers with the
 *     region still DOWN, REGION_DOWN follows then. A region absent from the decision
 *     or UNKNOWN in it keeps its status.
 *  4. transitions come global first, then regions in name order.
 *  5. confirmation: a global verdict different from the current one becomes current only
 *     after downAfterRounds (DOWN) / upAfterRounds (UP) consecutive decisions say so
 *     (UNKNOWN rounds neither count nor reset; default 1: the quorum already confirms).
 *  6. `schedule` commits a site's interval as a segment whose first round is above every
 *     round run or decided before (core/schedule/segment.ts); `forget-site` drops the
 *     site's status and schedule and remembers its id, so a late decision is ignored.
 */
import type { LogEntry, StateMachine } from '@/core/raft/raft.types';
import {
  legacySegment,
  nextSegment,
  segmentRoundStart,
  type ScheduleSegment,
} from '@/core/schedule/segment';
import {
  CommandFormatError,
  decodeCommand,
  type Decision,
  type DecisionTally,
  type ScheduleItem,
  type Verdict,
} from './decision';

export type TransitionKind = 'DOWN' | 'RECOVERED' | 'REGION_DOWN' | 'REGION_RECOVERED';

export interface StatusTransition {
  readonly kind: TransitionKind;
  readonly siteId: string;
  readonly url?: string;
  /** the region for REGION_* kinds, null for global ones */
  readonly region: string | null;
  readonly round: number;
  /** decidedAt of the decision that caused it */
  readonly at: number;
  readonly tally: DecisionTally;
  /** siteId:round:kind:region ('*' for global), the alert dedup key of alert-events.ts */
  readonly dedupKey: string;
}

export interface RegionStatus {
  readonly verdict: Verdict;
  /** decidedAt of the transition into `verdict`; null while UNKNOWN */
  readonly since: number | null;
  /** a REGION_DOWN was emitted and its REGION_RECOVERED not yet */
  readonly alerted: boolean;
}

/** A site's committed schedule and confirmation counts. */
export interface SiteSchedule {
  readonly segment: ScheduleSegment;
  /** how many interval changes were committed for the site */
  readonly epoch: number;
  readonly downAfterRounds: number;
  readonly upAfterRounds: number;
}

/** A verdict seen in consecutive rounds but not confirmed yet. */
export interface PendingVerdict {
  readonly verdict: 'UP' | 'DOWN';
  readonly rounds: number;
}

export interface SiteStatus {
  readonly siteId: string;
  readonly url?: string;
  /** UNKNOWN until the first UP or DOWN decision */
  readonly verdict: Verdict;
  readonly since: number | null;
  readonly lastRound: number;
  readonly lastDecidedAt: number;
  readonly regions: Readonly<Record<string, RegionStatus>>;
  /** set while a different verdict waits for its confirmation rounds */
  readonly pending?: PendingVerdict;
}

export type SiteStatusApplyResult =
  | {
      readonly kind: 'decision';
      readonly decision: Decision;
      /** the site's status after this decision */
      readonly status: SiteStatus;
      readonly transitions: readonly StatusTransition[];
    }
  | { readonly kind: 'forgot'; readonly siteId: string; readonly existed: boolean }
  | { readonly kind: 'schedule'; readonly changed: readonly string[] }
  /** a DecisionBatch: one result per decision, in the batch's order */
  | { readonly kind: 'batch'; readonly results: readonly DecisionApplyResult[] }
  | {
      readonly kind: 'ignored';
      readonly reason: 'noop' | 'stale' | 'malformed' | 'forgotten';
      /** set for 'stale' */
      readonly decision?: Decision;
      readonly detail?: string;
    };

/** What one decision of a batch did: applied, or ignored (stale, forgotten). */
export type DecisionApplyResult = Extract<SiteStatusApplyResult, { kind: 'decision' | 'ignored' }>;

const SNAPSHOT_VERSION = 2;
/** deleted site ids remembered (oldest forgotten first): late decisions arrive within seconds */
export const FORGOTTEN_CAP = 100_000;

export interface SiteStatusCounters {
  /** decisions applied (each is one `decisions` row once projected); not in the snapshot */
  decided: number;
  /** decisions for a forgotten (deleted) site that were committed anyway and ignored */
  ignoredForgotten: number;
  ignoredStale: number;
  malformed: number;
}

export class SiteStatusMachine implements StateMachine<SiteStatusApplyResult> {
  private sites = new Map<string, SiteStatus>();
  private schedules = new Map<string, SiteSchedule>();
  /** insertion-ordered: the oldest id is dropped first past FORGOTTEN_CAP */
  private forgotten = new Set<string>();
  /** this node's counts of ignored entries (not replicated state: not in snapshots) */
  readonly counters: SiteStatusCounters = {
    decided: 0,
    ignoredForgotten: 0,
    ignoredStale: 0,
    malformed: 0,
  };

  apply(entry: LogEntry): SiteStatusApplyResult {
    if (entry.type !== 'command') return { kind: 'ignored', reason: 'noop' };
    let cmd;
    try {
      cmd = decodeCommand(entry.data);
    } catch (e) {
      // Deterministic on every node: a bad entry is skipped everywhere, never a crash.
      const detail = e instanceof CommandFormatError ? e.message : 'undecodable';
      this.counters.malformed++;
      return { kind: 'ignored', reason: 'malformed', detail };
    }
    if (cmd.t === 'forget-site') return this.forget(cmd.siteId);
    if (cmd.t === 'schedule') return this.applySchedule(cmd.items);
    if (cmd.t === 'batch')
      return { kind: 'batch', results: cmd.decisions.map((d) => this.applyDecision(d)) };
    return this.applyDecision(cmd.decision);
  }

  /** Drops a deleted site's status and schedule; later decisions for it are ignored. */
  forget(siteId: string): SiteStatusApplyResult {
    const existed = this.sites.delete(siteId);
    const scheduled = this.schedules.delete(siteId);
    this.forgotten.delete(siteId);
    this.forgotten.add(siteId);
    while (this.forgotten.size > FORGOTTEN_CAP)
      this.forgotten.delete(this.forgotten.values().next().value as string);
    return { kind: 'forgot', siteId, existed: existed || scheduled };
  }

  /**
   * Commits intervals and confirmation counts. A changed interval becomes a new segment
   * from the item's anchorAt whose first round is above every earlier round of the site
   * (the previous segment's before the anchor, and the last decided round).
   */
  applySchedule(items: readonly ScheduleItem[]): SiteStatusApplyResult {
    const changed: string[] = [];
    for (const item of items) {
      if (this.forgotten.has(item.siteId)) continue;
      const prev = this.schedules.get(item.siteId);
      let segment: ScheduleSegment;
      let epoch: number;
      if (prev && prev.segment.intervalMs === item.intervalMs) {
        segment = prev.segment;
        epoch = prev.epoch;
      } else {
        const base = prev?.segment ?? legacySegment(item.siteId, item.intervalMs);
        const floor = this.sites.get(item.siteId)?.lastRound;
        segment = nextSegment(base, item.intervalMs, item.anchorAt, floor);
        epoch = (prev?.epoch ?? 0) + 1;
      }
      const next: SiteSchedule = {
        segment,
        epoch,
        downAfterRounds: item.downAfterRounds,
        upAfterRounds: item.upAfterRounds,
      };
      if (prev && sameSchedule(prev, next)) continue;
      this.schedules.set(item.siteId, next);
      changed.push(item.siteId);
    }
    return { kind: 'schedule', changed };
  }

  /** Applies a decoded decision (what apply() does for a decision entry). */
  applyDecision(d: Decision): DecisionApplyResult {
    if (this.forgotten.has(d.siteId)) {
      this.counters.ignoredForgotten++;
      return { kind: 'ignored', reason: 'forgotten', decision: d };
    }
    const prev = this.sites.get(d.siteId);
    if (prev && d.round <= prev.lastRound) {
      this.counters.ignoredStale++;
      return { kind: 'ignored', reason: 'stale', decision: d };
    }

    const transitions: StatusTransition[] = [];
    const emit = (kind: TransitionKind, region: string | null) =>
      transitions.push({
        kind,
        siteId: d.siteId,
        ...(d.url !== undefined ? { url: d.url } : {}),
        region,
        round: d.round,
        at: d.decidedAt,
        tally: d.tally,
        dedupKey: `${d.siteId}:${d.round}:${kind}:${region ?? '*'}`,
      });

    let verdict: Verdict = prev?.verdict ?? 'UNKNOWN';
    let since = prev?.since ?? null;
    let pending: PendingVerdict | undefined = prev?.pending;
    if (d.verdict === verdict) pending = undefined;
    else if (d.verdict !== 'UNKNOWN') {
      const rounds = pending?.verdict === d.verdict ? pending.rounds + 1 : 1;
      const sched = this.schedules.get(d.siteId);
      const need =
        d.verdict === 'DOWN' ? (sched?.downAfterRounds ?? 1) : (sched?.upAfterRounds ?? 1);
      if (rounds >= need) {
        if (d.verdict === 'DOWN') emit('DOWN', null);
        else if (verdict === 'DOWN') emit('RECOVERED', null);
        verdict = d.verdict;
        since = d.decidedAt;
        pending = undefined;
      } else pending = { verdict: d.verdict, rounds };
    }

    const regions: Record<string, RegionStatus> = {};
    const names = new Set([...Object.keys(prev?.regions ?? {}), ...Object.keys(d.regionVerdicts)]);
    for (const name of [...names].sort()) {
      const before = prev?.regions[name] ?? { verdict: 'UNKNOWN', since: null, alerted: false };
      const seen = d.regionVerdicts[name] ?? 'UNKNOWN';
      let r: RegionStatus =
        seen !== 'UNKNOWN' && seen !== before.verdict
          ? { verdict: seen, since: d.decidedAt, alerted: before.alerted }
          : before;
      if (r.alerted && r.verdict === 'UP') {
        emit('REGION_RECOVERED', name);
        r = { ...r, alerted: false };
      } else if (!r.alerted && r.verdict === 'DOWN' && verdict === 'UP') {
        emit('REGION_DOWN', name);
        r = { ...r, alerted: true };
      }
      regions[name] = r;
    }

    const status: SiteStatus = {
      siteId: d.siteId,
      ...(d.url !== undefined ? { url: d.url } : prev?.url !== undefined ? { url: prev.url } : {}),
      verdict,
      since,
      lastRound: d.round,
      lastDecidedAt: d.decidedAt,
      regions,
      ...(pending ? { pending } : {}),
    };
    this.sites.set(d.siteId, status);
    this.counters.decided++;
    return { kind: 'decision', decision: d, status, transitions };
  }

  get(siteId: string): SiteStatus | undefined {
    return this.sites.get(siteId);
  }

  /** The committed schedule of a site, if one was committed. */
  schedule(siteId: string): SiteSchedule | undefined {
    return this.schedules.get(siteId);
  }

  /** Every committed schedule, by site id (unordered). */
  scheduledSites(): IterableIterator<[string, SiteSchedule]> {
    return this.schedules.entries();
  }

  isForgotten(siteId: string): boolean {
    return this.forgotten.has(siteId);
  }

  /** When a round of a site starts: its committed segment, else the legacy grid. */
  roundStart(siteId: string, round: number, intervalMs: number): number {
    const seg = this.schedules.get(siteId)?.segment ?? legacySegment(siteId, intervalMs);
    return segmentRoundStart(seg, round);
  }

  /** The ids of every site with a status (unordered, no copy). */
  siteIds(): IterableIterator<string> {
    return this.sites.keys();
  }

  /** Every site's status, by site id. */
  list(): SiteStatus[] {
    return [...this.sites.keys()].sort().map((id) => this.sites.get(id)!);
  }

  get size(): number {
    return this.sites.size;
  }

  snapshot(): Uint8Array {
    const sites = this.list().map((s) => [
      s.siteId,
      s.url ?? null,
      s.verdict,
      s.since,
      s.lastRound,
      s.lastDecidedAt,
      Object.keys(s.regions)
        .sort()
        .map((name) => {
          const r = s.regions[name];
          return [name, r.verdict, r.since, r.alerted];
        }),
      s.pending ? [s.pending.verdict, s.pending.rounds] : null,
    ]);
    const schedules = [...this.schedules.keys()].sort().map((id) => {
      const x = this.schedules.get(id)!;
      return [
        id,
        x.segment.intervalMs,
        x.segment.anchorAt,
        x.segment.anchorRound,
        x.epoch,
        x.downAfterRounds,
        x.upAfterRounds,
      ];
    });
    // Forgotten ids keep their order: it decides which one is dropped first.
    const forgotten = [...this.forgotten];
    return new TextEncoder().encode(
      JSON.stringify({ v: SNAPSHOT_VERSION, sites, schedules, forgotten }),
    );
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as {
      v?: unknown;
      sites?: unknown;
      schedules?: unknown;
      forgotten?: unknown;
    };
    if ((parsed.v !== 1 && parsed.v !== SNAPSHOT_VERSION) || !Array.isArray(parsed.sites))
      throw new CommandFormatError('not a site status snapshot');
    type Row = [
      string,
      string | null,
      Verdict,
      number | null,
      number,
      number,
      RegionRow[],
      [PendingVerdict['verdict'], number] | null | undefined,
    ];
    type RegionRow = [string, Verdict, number | null, boolean];
    type ScheduleRow = [string, number, number, number, number, number, number];
    const sites = new Map<string, SiteStatus>();
    for (const [
      siteId,
      url,
      verdict,
      since,
      lastRound,
      lastDecidedAt,
      regionRows,
      pending,
    ] of parsed.sites as Row[]) {
      const regions: Record<string, RegionStatus> = {};
      for (const [name, v, s, alerted] of regionRows)
        regions[name] = { verdict: v, since: s, alerted };
      sites.set(siteId, {
        siteId,
        ...(url !== null ? { url } : {}),
        verdict,
        since,
        lastRound,
        lastDecidedAt,
        regions,
        ...(pending ? { pending: { verdict: pending[0], rounds: pending[1] } } : {}),
      });
    }
    const schedules = new Map<string, SiteSchedule>();
    for (const [id, intervalMs, anchorAt, anchorRound, epoch, down, up] of (parsed.schedules ??
      []) as ScheduleRow[])
      schedules.set(id, {
        segment: { intervalMs, anchorAt, anchorRound },
        epoch,
        downAfterRounds: down,
        upAfterRounds: up,
      });
    this.sites = sites;
    this.schedules = schedules;
    this.forgotten = new Set((parsed.forgotten ?? []) as string[]);
  }
}

function sameSchedule(a: SiteSchedule, b: SiteSchedule): boolean {
  return (
    a.epoch === b.epoch &&
    a.segment.intervalMs === b.segment.intervalMs &&
    a.segment.anchorAt === b.segment.anchorAt &&
    a.segment.anchorRound === b.segment.anchorRound &&
    a.downAfterRounds === b.downAfterRounds &&
    a.upAfterRounds === b.upAfterRounds
  );
}
