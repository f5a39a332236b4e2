import type { RollupPart } from '@/modules/history/summary.repository';
import { figuresOf, totalsOf, windowBounds } from '@/modules/history/summary.service';

const HOUR = 3_600_000;

describe('summary windows', () => {
  it('start at the hour boundary at or before now − W and switch to days at midnight', () => {
    const now = Date.UTC(2026, 2, 10, 13, 45, 12);
    const b = Object.fromEntries(windowBounds(now).map((w) => [w.name, w]));
    expect(b['24h'].from!.toISOString()).toBe('2026-03-09T13:00:00.000Z');
    expect(b['24h'].dayFrom!.toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(b['7d'].from!.toISOString()).toBe('2026-03-03T13:00:00.000Z');
    expect(b['90d'].dayFrom!.toISOString()).toBe('2025-12-11T00:00:00.000Z');
    expect(b.all).toEqual({ name: 'all', from: null, dayFrom: null });
    for (const w of windowBounds(now)) {
      if (!w.from) continue;
      expect(now - w.from.getTime()).toBeGreaterThanOrEqual(
        { '24h': 24, '7d': 168, '30d': 720, '90d': 2160 }[w.name as '24h'] * HOUR,
      );
      expect(w.dayFrom!.getTime() - w.from.getTime()).toBeLessThan(24 * HOUR);
    }
  });

  it('turns rollup sums into rounded figures, null where there is nothing to measure', () => {
    expect(
      figuresOf(
        {
          checks: 3,
          upChecks: 2,
          latencySumMs: 301,
          latencyCount: 2,
          latencyMaxMs: 200,
          hist: [0, 0, 0, 0, 0, 1, 0, 1],
        },
        { name: '24h', region: null, count: 2, downtimeMs: 1234.6 },
      ),
    ).toEqual({
      checks: 3,
      upChecks: 2,
      uptimePct: 66.667,
      avgLatencyMs: 150.5,
      p95LatencyMs: 200,
      maxLatencyMs: 200,
      incidents: 2,
      downtimeMs: 1235,
    });
    expect(figuresOf(undefined, undefined)).toEqual({
      checks: 0,
      upChecks: 0,
      uptimePct: null,
      avgLatencyMs: null,
      p95LatencyMs: null,
      maxLatencyMs: null,
      incidents: 0,
      downtimeMs: 0,
    });
  });
});

describe('window totals from rollup parts', () => {
  const part = (grain: 'day' | 'hour', n: number, region: string, checks: number): RollupPart => ({
    grain,
    part: n,
    region,
    checks,
    upChecks: checks,
    latencySumMs: checks * 10,
    latencyCount: checks,
    latencyMaxMs: 10 * (n + 1),
    hist: [checks],
  });
  const parts = [
    part('day', 0, '*', 1), // today: every window
    part('day', 1, '*', 10), // 7 d and wider
    part('day', 4, '*', 100), // older than 90 d: "all" only
    part('hour', 0, '*', 1000), // the 24 h window's leading edge only
    part('hour', 1, '*', 10000),
    part('day', 0, 'eu', 5),
  ];

  it('adds the bands of every narrower window and its own hourly edge', () => {
    expect(totalsOf(parts, 0).get('*')!.checks).toBe(1 + 1000);
    expect(totalsOf(parts, 1).get('*')!.checks).toBe(1 + 10 + 10000);
    expect(totalsOf(parts, 3).get('*')!.checks).toBe(11);
    expect(totalsOf(parts, 4).get('*')).toMatchObject({ checks: 111, latencyMaxMs: 50 });
    expect(totalsOf(parts, 4).get('*')!.hist[0]).toBe(111);
    expect(totalsOf(parts, 2).get('eu')!.checks).toBe(5);
  });
});
