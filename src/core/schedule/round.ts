/**
 * Round arithmetic shared by every validator: round r of a site starts at
 * r*interval + phase(site), with phase a stable hash of the site id, so independent
 * nodes check the same round at the same time and sites spread over the interval.
 */

/**
 * cyrb53: a fast 53-bit string hash. Part of the protocol: every validator must
 * compute the same phase, so changing it re-times every site on upgrade.
 */
export function stableHash(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Offset in [0, interval) of a site's rounds from the epoch. */
export function sitePhase(siteId: string, intervalMs: number): number {
  return stableHash(siteId) % intervalMs;
}

/** The round in progress at time `t` (epoch ms). */
export function roundAt(t: number, phase: number, intervalMs: number): number {
  return Math.floor((t - phase) / intervalMs);
}

export function roundStart(round: number, phase: number, intervalMs: number): number {
  return round * intervalMs + phase;
}

/** The first round that starts at or after `t`. */
export function firstRoundFrom(t: number, phase: number, intervalMs: number): number {
  return Math.ceil((t - phase) / intervalMs);
}

/**
 * How late a round may still start. Past it the round is skipped: a vote that
 * arrives after the tally has moved on is noise, and running a backlog after a
 * stall is the burst we must not make. Half an interval, at most `maxLateMs`.
 */
export function lateLimitMs(intervalMs: number, maxLateMs: number): number {
  return Math.min(Math.floor(intervalMs / 2), maxLateMs);
}
