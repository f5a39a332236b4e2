/**
 * The verdict rules of DESIGN §2, as pure functions. Invariant: a verdict needs
 * n >= minVotes and at least ceil(threshold*n) agreeing votes with threshold > 1/2,
 * so UP and DOWN never both hold and a minority of the counted votes (one
 * validator, one region out of several) never decides the global verdict.
 */
import type { DecisionTally, Verdict, VoteCount } from './decision';
import type { UnsignedVote } from './vote';

export interface TallyRules {
  /** QUORUM_THRESHOLD, in (0.5, 1] */
  readonly quorumThreshold: number;
  /** MIN_VOTES, >= 1 */
  readonly minVotes: number;
}

/** Votes needed out of n: ceil(threshold*n), immune to float noise (0.51*100 is 51.00000000000001). */
export function quorumOf(n: number, threshold: number): number {
  return Math.max(1, Math.ceil(threshold * n - 1e-9));
}

/**
 * DOWN if at least ceil(threshold*n) of n votes say down and n >= minVotes; UP
 * symmetrically; otherwise UNKNOWN (too few votes, or no side reached quorum).
 */
export function verdictOf(c: VoteCount, threshold: number, minVotes: number): Verdict {
  if (c.total === 0 || c.total < minVotes) return 'UNKNOWN';
  const q = quorumOf(c.total, threshold);
  if (c.down >= q) return 'DOWN';
  if (c.up >= q) return 'UP';
  return 'UNKNOWN';
}

/**
 * MIN_VOTES for one region. Globally MIN_VOTES guards against deciding on a
 * handful of votes; a region with fewer validators than that could otherwise
 * never be judged, so the bar is min(MIN_VOTES, validators in the region), and
 * at least 1. `regionSize` is the live roster's count for the region; a region
 * absent from the roster (a voter the hub has not listed yet) counts as 1.
 */
export function regionMinVotes(minVotes: number, regionSize: number | undefined): number {
  return Math.max(1, Math.min(minVotes, regionSize ?? 1));
}

export interface TallyOutcome {
  readonly verdict: Verdict;
  readonly regionVerdicts: Record<string, Verdict>;
  readonly tally: DecisionTally;
  /** sorted */
  readonly voters: string[];
}

/**
 * Tallies one round's votes (one per validator; the caller dedups). Regions
 * come from the votes, so a region with no vote has no verdict at all, which
 * the state machine treats like UNKNOWN (no change).
 */
export function tallyRound(
  votes: readonly Pick<UnsignedVote, 'validatorId' | 'region' | 'up'>[],
  rules: TallyRules,
  regionSizes: ReadonlyMap<string, number> = new Map(),
): TallyOutcome {
  let up = 0;
  const byRegion = new Map<string, { up: number; down: number; total: number }>();
  for (const v of votes) {
    if (v.up) up++;
    let r = byRegion.get(v.region);
    if (!r) byRegion.set(v.region, (r = { up: 0, down: 0, total: 0 }));
    r.total++;
    if (v.up) r.up++;
    else r.down++;
  }
  const total = votes.length;
  const global: VoteCount = { up, down: total - up, total };
  const regionVerdicts: Record<string, Verdict> = {};
  const regions: Record<string, VoteCount> = {};
  for (const region of [...byRegion.keys()].sort()) {
    const c = byRegion.get(region)!;
    regions[region] = c;
    regionVerdicts[region] = verdictOf(
      c,
      rules.quorumThreshold,
      regionMinVotes(rules.minVotes, regionSizes.get(region)),
    );
  }
  return {
    verdict: verdictOf(global, rules.quorumThreshold, rules.minVotes),
    regionVerdicts,
    tally: { ...global, quorum: quorumOf(total, rules.quorumThreshold), byRegion: regions },
    voters: votes.map((v) => v.validatorId).sort(),
  };
}
