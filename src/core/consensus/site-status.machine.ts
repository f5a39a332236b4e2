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
 */
import type { LogEntry, StateMachine } from '@/core/raft/raft.types';
import {
  CommandFormatError,
  decodeCommand,
  type Decision,
  type DecisionTally,
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

export interface SiteStatus {
  readonly siteId: string;
  readonly url?: string;
  /** UNKNOWN until the first UP or DOWN decision */
  readonly verdict: Verdict;
  readonly since: number | null;
  readonly lastRound: number;
  readonly lastDecidedAt: number;
  readonly regions: Readonly<Record<string, RegionStatus>>;
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
  | {
      readonly kind: 'ignored';
      readonly reason: 'noop' | 'stale' | 'malformed';
      /** set for 'stale' */
      readonly decision?: Decision;
      readonly detail?: string;
    };

const SNAPSHOT_VERSION = 1;

export class SiteStatusMachine implements StateMachine<SiteStatusApplyResult> {
  private sites = new Map<string, SiteStatus>();

  apply(entry: LogEntry): SiteStatusApplyResult {
    if (entry.type !== 'command') return { kind: 'ignored', reason: 'noop' };
    let cmd;
    try {
      cmd = decodeCommand(entry.data);
    } catch (e) {
      // Deterministic on every node: a bad entry is skipped everywhere, never a crash.
      const detail = e instanceof CommandFormatError ? e.message : 'undecodable';
      return { kind: 'ignored', reason: 'malformed', detail };
    }
    if (cmd.t === 'forget-site') {
      return { kind: 'forgot', siteId: cmd.siteId, existed: this.sites.delete(cmd.siteId) };
    }
    return this.applyDecision(cmd.decision);
  }

  /** Applies a decoded decision (what apply() does for a decision entry). */
  applyDecision(d: Decision): SiteStatusApplyResult {
    const prev = this.sites.get(d.siteId);
    if (prev && d.round <= prev.lastRound) return { kind: 'ignored', reason: 'stale', decision: d };

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
    if (d.verdict !== 'UNKNOWN' && d.verdict !== verdict) {
      if (d.verdict === 'DOWN') emit('DOWN', null);
      else if (verdict === 'DOWN') emit('RECOVERED', null);
      verdict = d.verdict;
      since = d.decidedAt;
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
    };
    this.sites.set(d.siteId, status);
    return { kind: 'decision', decision: d, status, transitions };
  }

  get(siteId: string): SiteStatus | undefined {
    return this.sites.get(siteId);
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
    ]);
    return new TextEncoder().encode(JSON.stringify({ v: SNAPSHOT_VERSION, sites }));
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as { v?: unknown; sites?: unknown };
    if (parsed.v !== SNAPSHOT_VERSION || !Array.isArray(parsed.sites))
      throw new CommandFormatError('not a site status snapshot');
    type Row = [string, string | null, Verdict, number | null, number, number, RegionRow[]];
    type RegionRow = [string, Verdict, number | null, boolean];
    const sites = new Map<string, SiteStatus>();
    for (const [
      siteId,
      url,
      verdict,
      since,
      lastRound,
      lastDecidedAt,
      regionRows,
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
      });
    }
    this.sites = sites;
  }
}
