/**
 * The verdict one validator votes for a push site: UP iff its clock says at most
 * period + grace passed since the last committed beat. Pure: time comes in as `now`.
 *
 * The beat time is the proposing leader's clock; `now` is the validator's. A validator
 * whose clock runs δ ahead sees the deadline δ early (and one behind, late): with clocks
 * kept by NTP (milliseconds) that is noise next to a grace of seconds, and one badly
 * skewed validator alone cannot turn the site DOWN, since a DOWN needs a quorum of votes.
 * Before its first beat a site counts from when it was armed (creation or a change of
 * kind/period commits an "arm" beat), so a new monitor is UP for one period + grace.
 */
export interface PushWindow {
  periodS: number;
  graceS: number;
}

export type PushReading =
  { up: true; ageMs: number } | { up: false; ageMs: number | null; reason: string };

export function readPush(
  lastBeat: number | undefined,
  window: PushWindow,
  now: number,
): PushReading {
  if (lastBeat === undefined)
    return { up: false, ageMs: null, reason: 'no beat committed for this site yet' };
  const ageMs = Math.max(0, now - lastBeat);
  const limitMs = (window.periodS + window.graceS) * 1000;
  if (ageMs <= limitMs) return { up: true, ageMs };
  return {
    up: false,
    ageMs,
    reason: `no beat for ${Math.round(ageMs / 1000)} s (period ${window.periodS} s + grace ${window.graceS} s)`,
  };
}
