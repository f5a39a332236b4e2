/**
 * The fixed latency bucket layout of ping_rollup_{hourly,daily}.latency_hist and the
 * percentile estimate read back from it. Stored histograms are only comparable while
 * this layout stays the same: append buckets at the end, never move a bound.
 *
 * Bucket 0 holds [0, 10) ms, bucket i (1..n) holds [BOUNDS[i-1], BOUNDS[i]) and the last
 * one [60 000 ms, ∞). The index is PostgreSQL's width_bucket(latency, BOUNDS), so SQL and
 * TypeScript agree on it. Only checks that came back UP carry a latency into the rollups.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500,
  10_000, 20_000, 30_000, 60_000,
];

export const LATENCY_BUCKET_COUNT = LATENCY_BUCKET_BOUNDS_MS.length + 1;

/** 0-based bucket index of `latencyMs` (same as width_bucket in SQL). */
export function latencyBucketOf(latencyMs: number): number {
  let i = 0;
  while (i < LATENCY_BUCKET_BOUNDS_MS.length && latencyMs >= LATENCY_BUCKET_BOUNDS_MS[i]) i++;
  return i;
}

/** Lower and upper bound of bucket `i`; the open last bucket ends at `observedMaxMs`. */
export function bucketRange(i: number, observedMaxMs: number): [number, number] {
  const lower = i === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[i - 1];
  const upper =
    i < LATENCY_BUCKET_BOUNDS_MS.length
      ? LATENCY_BUCKET_BOUNDS_MS[i]
      : Math.max(lower, observedMaxMs);
  return [lower, upper];
}

/** Element-wise sum; a missing or shorter histogram counts as zeros. */
export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length, LATENCY_BUCKET_COUNT)).fill(0);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/**
 * Estimated q-quantile (0 < q ≤ 1) of the latencies behind `hist`: the bucket that holds
 * the ⌈q·n⌉-th smallest value, interpolated linearly inside it, capped at the observed
 * maximum. Null when the histogram is empty.
 */
export function estimateQuantile(
  hist: readonly number[],
  q: number,
  observedMaxMs: number,
): number | null {
  const n = hist.reduce((s, c) => s + c, 0);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let before = 0;
  for (let i = 0; i < hist.length; i++) {
    const c = hist[i];
    if (c > 0 && before + c >= rank) {
      const [lower, upper] = bucketRange(i, observedMaxMs);
      const value = lower + ((rank - before) / c) * (upper - lower);
      return Math.min(value, Math.max(observedMaxMs, lower));
    }
    before += c;
  }
  return observedMaxMs;
}
