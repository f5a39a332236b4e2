import {
  addHistograms,
  estimateQuantile,
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  latencyBucketOf,
} from '@/modules/ping-logs/latency-histogram';

/** Histogram of `values` in the fixed layout. */
function hist(values: number[]): number[] {
  const h = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const v of values) h[latencyBucketOf(v)]++;
  return h;
}

describe('latency histogram', () => {
  it('places values like width_bucket: lower bound inclusive, upper exclusive', () => {
    expect(LATENCY_BUCKET_COUNT).toBe(22);
    expect(latencyBucketOf(0)).toBe(0);
    expect(latencyBucketOf(9)).toBe(0);
    expect(latencyBucketOf(10)).toBe(1);
    expect(latencyBucketOf(149)).toBe(5);
    expect(latencyBucketOf(150)).toBe(6);
    expect(latencyBucketOf(59_999)).toBe(20);
    expect(latencyBucketOf(60_000)).toBe(21);
    expect(latencyBucketOf(10_000_000)).toBe(21);
    expect([...LATENCY_BUCKET_BOUNDS_MS].sort((a, b) => a - b)).toEqual(LATENCY_BUCKET_BOUNDS_MS);
  });

  it('estimates p95 by interpolating inside the bucket of the ⌈0.95·n⌉-th value', () => {
    // 20 values in [100, 150): rank 19 → 100 + 19/20 · 50
    expect(estimateQuantile(hist(Array(20).fill(120)), 0.95, 149)).toBe(147.5);
    // capped at the observed maximum
    expect(estimateQuantile(hist(Array(20).fill(120)), 0.95, 120)).toBe(120);
    // 95 fast, 5 slow: rank 95 is the last fast one
    const h = hist([...Array(95).fill(20), ...Array(5).fill(2_500)]);
    expect(estimateQuantile(h, 0.95, 2_500)).toBe(25);
    expect(estimateQuantile(h, 0.96, 2_500)).toBe(2_000 + (1 / 5) * 1_000);
  });

  it('uses the maximum as the end of the open last bucket and handles empty input', () => {
    expect(estimateQuantile(hist([70_000, 90_000]), 0.95, 90_000)).toBe(90_000);
    expect(estimateQuantile(hist([70_000, 90_000]), 0.5, 90_000)).toBe(75_000);
    expect(estimateQuantile(hist([]), 0.95, 0)).toBeNull();
  });

  it('adds histograms element-wise, shorter ones padded with zeros', () => {
    expect(addHistograms([1, 2], [3]).slice(0, 3)).toEqual([4, 2, 0]);
    expect(addHistograms([], [])).toHaveLength(LATENCY_BUCKET_COUNT);
  });
});
