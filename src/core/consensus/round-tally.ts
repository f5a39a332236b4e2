/**
 * The hub's accumulator: one open tally per (site, round), finalized exactly once,
 * when every live validator has voted or its deadline passes. Invariants: a
 * validator counts at most once per round; once a round of a site is finalized no
 * vote for it or any earlier round of that site opens a tally again; memory is
 * bounded (open rounds and remembered sites are capped, the oldest dropped).
 */
import type { Clock } from '@/core/ports/clock.port';
import type { Decision } from './decision';
import { tallyRound, type TallyOutcome, type TallyRules } from './tally';
import type { UnsignedVote } from './vote';

/** A validator the hub expects a vote from. */
export interface RosterEntry {
  readonly id: string;
  readonly region: string;
}

/** When a round of a site started and how long its checks may take (from its schedule). */
export interface RoundTiming {
  readonly startsAt: number;
  readonly timeoutMs: number;
}

/**
 * The tally deadline of a round: its start + the site's check timeout + the gossip
 * allowance, so a fast failure cannot close a round before the slow answers of the
 * other validators (which may take the whole timeout) have arrived.
 */
export function roundDeadline(timing: RoundTiming, gossipAllowanceMs: number): number {
  return timing.startsAt + timing.timeoutMs + gossipAllowanceMs;
}

export interface RoundTallyOptions extends TallyRules {
  /**
   * TALLY_DEADLINE_MS: the gossip allowance after a round's start + timeout; for a round
   * of unknown timing (a one-off check), how long it collects votes after it opens
   * beyond `fallbackTimeoutMs`
   */
  readonly deadlineMs: number;
  /** the check timeout assumed for a round of unknown timing (PING_TIMEOUT_MS) */
  readonly fallbackTimeoutMs?: number;
  /** the start and timeout of a site's round, when the host knows the site */
  readonly timingOf?: (siteId: string, round: number) => RoundTiming | undefined;
  /** rounds collecting votes at once; beyond it the oldest is dropped undecided */
  readonly maxOpenRounds: number;
  /** sites whose last finalized round is remembered (least recently finalized forgotten first) */
  readonly maxTrackedSites: number;
  /**
   * When a round's deadline falls. Default: roundDeadline(timingOf(site, round), deadlineMs)
   * when the timing is known, else openedAt + fallbackTimeoutMs + deadlineMs (a round
   * opens with its first vote).
   */
  readonly deadlineOf?: (siteId: string, round: number, openedAt: number) => number;
}

/**
 * counted: tallied. duplicate: this validator already voted the same way in this
 * round. conflicting: it already voted the other way (the first vote stands).
 * closed: the round, or a later one of the site, is already finalized.
 */
export type AddOutcome = 'counted' | 'duplicate' | 'conflicting' | 'closed';

export interface AddResult {
  readonly outcome: AddOutcome;
  /** set when this vote completed the round */
  readonly decision?: Decision;
}

export interface RoundTallyStats {
  open: number;
  counted: number;
  duplicate: number;
  conflicting: number;
  closed: number;
  finalized: number;
  finalizedComplete: number;
  finalizedDeadline: number;
  /** open rounds dropped undecided (and closed) because maxOpenRounds was reached */
  evictedRounds: number;
}

/** A round still collecting votes, for live views (GET /api/simulate). */
export interface LiveRound extends TallyOutcome {
  readonly siteId: string;
  readonly round: number;
  readonly openedAt: number;
  readonly deadline: number;
  /** live validators that have not voted yet, sorted */
  readonly waitingFor: string[];
}

type TallyVote = Pick<UnsignedVote, 'validatorId' | 'region' | 'up'>;

interface OpenRound {
  readonly siteId: string;
  readonly round: number;
  readonly openedAt: number;
  readonly deadline: number;
  readonly votes: Map<string, TallyVote>;
}

export class RoundTally {
  private readonly open = new Map<string, OpenRound>();
  /** siteId -> highest finalized round, in least-recently-finalized-first order */
  private readonly finalizedUpTo = new Map<string, number>();
  private roster = new Map<string, string>();
  private expected = 0;
  private regionSizes = new Map<string, number>();
  private readonly counters: Omit<RoundTallyStats, 'open'> = {
    counted: 0,
    duplicate: 0,
    conflicting: 0,
    closed: 0,
    finalized: 0,
    finalizedComplete: 0,
    finalizedDeadline: 0,
    evictedRounds: 0,
  };

  constructor(
    private readonly clock: Clock,
    private readonly options: RoundTallyOptions,
  ) {
    if (!(options.quorumThreshold > 0.5 && options.quorumThreshold <= 1))
      throw new RangeError('quorumThreshold must be in (0.5, 1]');
    if (!(options.minVotes >= 1)) throw new RangeError('minVotes must be at least 1');
    if (!(options.maxOpenRounds >= 1)) throw new RangeError('maxOpenRounds must be at least 1');
  }

  /**
   * The live validators. A round completes early once all of them voted, but
   * only while at least `expected` are listed (a roster still being learned,
   * e.g. just after boot, must not close rounds on the few it knows). The
   * region sizes set each region's MIN_VOTES (see regionMinVotes).
   */
  setRoster(validators: readonly RosterEntry[], expected = validators.length): void {
    this.roster = new Map(validators.map((v) => [v.id, v.region]));
    this.expected = expected;
    this.regionSizes = new Map();
    for (const region of this.roster.values())
      this.regionSizes.set(region, (this.regionSizes.get(region) ?? 0) + 1);
  }

  add(vote: Pick<UnsignedVote, 'siteId' | 'round' | 'validatorId' | 'region' | 'up'>): AddResult {
    const key = roundKey(vote.siteId, vote.round);
    let r = this.open.get(key);
    if (!r) {
      const done = this.finalizedUpTo.get(vote.siteId);
      if (done !== undefined && vote.round <= done) return this.count('closed');
      r = this.openRound(vote.siteId, vote.round);
    }
    const prior = r.votes.get(vote.validatorId);
    if (prior) return this.count(prior.up === vote.up ? 'duplicate' : 'conflicting');
    r.votes.set(vote.validatorId, {
      validatorId: vote.validatorId,
      region: vote.region,
      up: vote.up,
    });
    this.counters.counted++;
    if (!this.isComplete(r)) return { outcome: 'counted' };
    return { outcome: 'counted', decision: this.finalize(key, r, 'complete') };
  }

  /**
   * Finalizes every round whose deadline has passed or whose voters are all in
   * (a roster change can complete a round). Ordered by deadline, then site and round.
   */
  tick(): Decision[] {
    const now = this.clock.now();
    const due = [...this.open.entries()]
      .filter(([, r]) => r.deadline <= now || this.isComplete(r))
      .sort(([ka, a], [kb, b]) => a.deadline - b.deadline || (ka < kb ? -1 : ka > kb ? 1 : 0));
    return due.map(([key, r]) =>
      this.finalize(key, r, r.deadline <= now && !this.isComplete(r) ? 'deadline' : 'complete'),
    );
  }

  /** The earliest deadline of an open round (for a host timer), if any. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const r of this.open.values()) if (min === undefined || r.deadline < min) min = r.deadline;
    return min;
  }

  /** The open rounds of a site, with their partial tallies. */
  live(siteId: string): LiveRound[] {
    return [...this.open.values()]
      .filter((r) => r.siteId === siteId)
      .sort((a, b) => a.round - b.round)
      .map((r) => ({
        ...this.outcome(r),
        siteId: r.siteId,
        round: r.round,
        openedAt: r.openedAt,
        deadline: r.deadline,
        waitingFor: [...this.roster.keys()].filter((id) => !r.votes.has(id)).sort(),
      }));
  }

  /** The highest finalized round of a site, if remembered. */
  lastFinalized(siteId: string): number | undefined {
    return this.finalizedUpTo.get(siteId);
  }

  stats(): RoundTallyStats {
    return { open: this.open.size, ...this.counters };
  }

  private openRound(siteId: string, round: number): OpenRound {
    while (this.open.size >= this.options.maxOpenRounds) {
      // Map order is open order: the first key is the oldest round.
      const oldest = this.open.values().next().value as OpenRound;
      this.open.delete(roundKey(oldest.siteId, oldest.round));
      this.markFinalized(oldest.siteId, oldest.round);
      this.counters.evictedRounds++;
    }
    const openedAt = this.clock.now();
    const deadline = this.deadlineOf(siteId, round, openedAt);
    const r: OpenRound = { siteId, round, openedAt, deadline, votes: new Map() };
    this.open.set(roundKey(siteId, round), r);
    return r;
  }

  private deadlineOf(siteId: string, round: number, openedAt: number): number {
    const o = this.options;
    if (o.deadlineOf) return o.deadlineOf(siteId, round, openedAt);
    const timing = o.timingOf?.(siteId, round);
    if (timing) return roundDeadline(timing, o.deadlineMs);
    return openedAt + (o.fallbackTimeoutMs ?? 0) + o.deadlineMs;
  }

  private isComplete(r: OpenRound): boolean {
    if (this.roster.size === 0 || this.roster.size < this.expected) return false;
    for (const id of this.roster.keys()) if (!r.votes.has(id)) return false;
    return true;
  }

  private outcome(r: OpenRound): TallyOutcome {
    return tallyRound([...r.votes.values()], this.options, this.regionSizes);
  }

  private finalize(key: string, r: OpenRound, why: 'complete' | 'deadline'): Decision {
    this.open.delete(key);
    this.counters.finalized++;
    if (why === 'complete') this.counters.finalizedComplete++;
    else this.counters.finalizedDeadline++;
    this.markFinalized(r.siteId, r.round);
    const o = this.outcome(r);
    return {
      siteId: r.siteId,
      round: r.round,
      verdict: o.verdict,
      regionVerdicts: o.regionVerdicts,
      tally: o.tally,
      voters: o.voters,
      decidedAt: this.clock.now(),
    };
  }

  /** Closes `round` and every earlier round of the site that is not open. */
  private markFinalized(siteId: string, round: number): void {
    const prev = this.finalizedUpTo.get(siteId);
    this.finalizedUpTo.delete(siteId);
    this.finalizedUpTo.set(siteId, prev === undefined ? round : Math.max(prev, round));
    while (this.finalizedUpTo.size > this.options.maxTrackedSites) {
      this.finalizedUpTo.delete(this.finalizedUpTo.keys().next().value as string);
    }
  }

  private count(outcome: Exclude<AddOutcome, 'counted'>): AddResult {
    this.counters[outcome]++;
    return { outcome };
  }
}

function roundKey(siteId: string, round: number): string {
  return `${round}:${siteId}`;
}
