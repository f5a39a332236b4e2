/**
 * A site's replicated schedule: round r starts at anchorAt + (r - anchorRound) * intervalMs.
 * Invariant: a new segment's anchorRound is above every round the previous segment
 * started before the new anchor (and above the last decided round), so round numbers
 * of a site only grow over time across interval edits in either direction, pause and
 * resume, restarts and leader changes. Without a committed segment a site follows the
 * legacy grid (anchorRound 0 at its hashed phase), which adopting it keeps unchanged.
 */
import { sitePhase } from './round';

export interface ScheduleSegment {
  readonly intervalMs: number;
  /** epoch ms at which round `anchorRound` starts */
  readonly anchorAt: number;
  readonly anchorRound: number;
}

/** The grid a site follows before any segment is committed: floor((t - phase) / interval). */
export function legacySegment(siteId: string, intervalMs: number): ScheduleSegment {
  return { intervalMs, anchorAt: sitePhase(siteId, intervalMs), anchorRound: 0 };
}

/** The round in progress at `t` (may be below anchorRound for t before the anchor). */
export function segmentRoundAt(s: ScheduleSegment, t: number): number {
  return s.anchorRound + Math.floor((t - s.anchorAt) / s.intervalMs);
}

export function segmentRoundStart(s: ScheduleSegment, round: number): number {
  return s.anchorAt + (round - s.anchorRound) * s.intervalMs;
}

/** The first round of the segment that starts at or after `t` (never before the anchor). */
export function segmentFirstRoundFrom(s: ScheduleSegment, t: number): number {
  if (t <= s.anchorAt) return s.anchorRound;
  return s.anchorRound + Math.ceil((t - s.anchorAt) / s.intervalMs);
}

/**
 * Where a new interval takes over, as the proposer picks it: the first start of the new
 * interval's hashed phase grid at or after `notBefore` (so sites stay spread over the
 * interval and every node learns the segment before it starts).
 */
export function alignedAnchorAt(siteId: string, intervalMs: number, notBefore: number): number {
  const phase = sitePhase(siteId, intervalMs);
  return phase + Math.ceil((notBefore - phase) / intervalMs) * intervalMs;
}

/**
 * The segment that replaces `prev` from `anchorAt` (pure: every node computes the same).
 * Its first round is the first round of `prev` starting at or after anchorAt, and above
 * `floorRound` (the last round decided for the site). An anchor earlier than prev's own
 * (prev not started yet) reuses prev's first round.
 */
export function nextSegment(
  prev: ScheduleSegment,
  intervalMs: number,
  anchorAt: number,
  floorRound: number | undefined,
): ScheduleSegment {
  const fromPrev = segmentFirstRoundFrom(prev, anchorAt);
  const anchorRound = Math.max(fromPrev, floorRound === undefined ? 0 : floorRound + 1);
  return { intervalMs, anchorAt, anchorRound };
}
