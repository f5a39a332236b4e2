/**
 * The pure scheduler math: every validator derives the same rounds, sites spread
 * over the interval, and after a stall late rounds are skipped and counted instead
 * of being run in a pile.
 */
import { CheckLanes } from '@/core/schedule/check-lanes';
import { MinHeap } from '@/core/schedule/min-heap';
import {
  firstRoundFrom,
  lateLimitMs,
  roundAt,
  roundStart,
  sitePhase,
  stableHash,
} from '@/core/schedule/round';
import { RoundSchedule } from '@/core/schedule/round-schedule';

const T0 = 1_700_000_000_000;

describe('round arithmetic', () => {
  it('is a pure function of the site id: the same on every validator', () => {
    expect(stableHash('site-42')).toBe(stableHash('site-42'));
    expect(stableHash('site-42')).not.toBe(stableHash('site-43'));
    // Pinned: a change here re-times every site in a mixed-version cluster.
    expect(stableHash('3f1c6a3e-0000-4000-8000-000000000001')).toBe(6751779232079231);
  });

  it('round = floor((now - phase) / interval), and round r starts at r*interval + phase', () => {
    const interval = 60_000;
    const phase = sitePhase('site-1', interval);
    expect(phase).toBeGreaterThanOrEqual(0);
    expect(phase).toBeLessThan(interval);
    const r = roundAt(T0, phase, interval);
    expect(r).toBe(Math.floor((T0 - phase) / interval));
    expect(roundStart(r, phase, interval)).toBeLessThanOrEqual(T0);
    expect(roundStart(r + 1, phase, interval)).toBeGreaterThan(T0);
    expect(roundAt(roundStart(r, phase, interval), phase, interval)).toBe(r);
    expect(firstRoundFrom(roundStart(r, phase, interval), phase, interval)).toBe(r);
    expect(firstRoundFrom(roundStart(r, phase, interval) + 1, phase, interval)).toBe(r + 1);
  });

  it('spreads phases evenly over the interval', () => {
    const interval = 30_000;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++)
      buckets[Math.floor(sitePhase(`site-${i}`, interval) / 3_000)]++;
    for (const b of buckets) expect(Math.abs(b - 1_000)).toBeLessThan(150);
  });

  it('late limit: half an interval, capped', () => {
    expect(lateLimitMs(10_000, 10_000)).toBe(5_000);
    expect(lateLimitMs(600_000, 10_000)).toBe(10_000);
  });
});

describe('MinHeap', () => {
  it('pops in order', () => {
    const h = new MinHeap<number>((a, b) => a < b);
    const xs = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000);
    xs.forEach((x) => h.push(x));
    const out: number[] = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
    expect(out).toEqual([...xs].sort((a, b) => a - b));
  });
});

describe('RoundSchedule', () => {
  const site = (id: string, intervalMs = 10_000) => ({ id, intervalMs });

  it('a new site starts at its first round from now, then every interval, on the grid', () => {
    const s = new RoundSchedule<{ id: string; intervalMs: number }>(10_000);
    s.upsert(site('a'), T0);
    const phase = sitePhase('a', 10_000);
    const first = s.nextDueAt()!;
    expect(first).toBeGreaterThanOrEqual(T0);
    expect(first).toBeLessThan(T0 + 10_000);
    expect((first - phase) % 10_000).toBe(0);

    expect(s.takeDue(first - 1).due).toHaveLength(0);
    // Taken 37 ms late: the next round is still on the grid, not 37 ms later.
    const batch = s.takeDue(first + 37);
    expect(batch.due).toEqual([
      { site: site('a'), round: roundAt(first, phase, 10_000), dueAt: first },
    ]);
    expect(s.nextDueAt()).toBe(first + 10_000);
  });

  it('after a stall: one check of the round in progress, the rest counted as missed', () => {
    const s = new RoundSchedule<{ id: string; intervalMs: number }>(10_000);
    for (let i = 0; i < 100; i++) s.upsert(site(`s${i}`), T0);
    const stallEnd = T0 + 65_000; // six and a half intervals asleep
    const { due, missed } = s.takeDue(stallEnd);
    // No site runs more than once: no pile of backlog.
    expect(new Set(due.map((d) => d.site.id)).size).toBe(due.length);
    for (const d of due) expect(stallEnd - d.dueAt).toBeLessThanOrEqual(5_000);
    // Every site accounts for the rounds that started during the stall.
    const byId = new Map(missed.map((m) => [m.siteId, m.rounds]));
    for (let i = 0; i < 100; i++) {
      const id = `s${i}`;
      const phase = sitePhase(id, 10_000);
      const started = roundAt(stallEnd, phase, 10_000) - firstRoundFrom(T0, phase, 10_000) + 1;
      const ran = due.some((d) => d.site.id === id) ? 1 : 0;
      expect((byId.get(id) ?? 0) + ran).toBe(started);
    }
    // Afterwards the schedule is back on the grid, nothing due until the next round.
    expect(s.takeDue(stallEnd).due).toHaveLength(0);
    expect(s.nextDueAt()!).toBeGreaterThan(stallEnd);
  });

  it('picks up changes: interval change re-phases, removal stops, re-adding restarts', () => {
    const s = new RoundSchedule<{ id: string; intervalMs: number; url?: string }>(10_000);
    expect(s.upsert({ id: 'a', intervalMs: 10_000, url: 'x' }, T0)).toBe('added');
    expect(s.upsert({ id: 'a', intervalMs: 10_000, url: 'y' }, T0)).toBe('updated');
    const firstDue = s.nextDueAt()!;
    const due = s.takeDue(firstDue).due;
    expect(due[0].site.url).toBe('y'); // the change applies from the next check
    expect(s.upsert({ id: 'a', intervalMs: 20_000 }, firstDue)).toBe('rescheduled');
    const next = s.nextDueAt()!;
    expect((next - sitePhase('a', 20_000)) % 20_000).toBe(0);
    expect(s.takeDue(next).due).toHaveLength(1); // the old 10 s slot is gone
    s.remove('a');
    expect(s.takeDue(next + 100_000).due).toHaveLength(0);
    expect(s.nextDueAt()).toBeUndefined();
    s.upsert({ id: 'a', intervalMs: 20_000 }, next + 100_000);
    expect(s.size).toBe(1);
    expect(s.nextDueAt()!).toBeGreaterThanOrEqual(next + 100_000);
  });
});

describe('CheckLanes', () => {
  const job = (dueAt: number) => ({ dueAt });

  it('never runs more than capacity, suspects never more than their share', () => {
    const lanes = new CheckLanes<{ dueAt: number }>(4, 0.5);
    for (let i = 0; i < 10; i++) lanes.push(job(i), 'suspect');
    for (let i = 0; i < 10; i++) lanes.push(job(100 + i), 'main');
    const started = [lanes.take(), lanes.take(), lanes.take(), lanes.take(), lanes.take()];
    expect(started[4]).toBeUndefined();
    expect(started.filter((s) => s?.lane === 'suspect')).toHaveLength(2);
    expect(started.filter((s) => s?.lane === 'main')).toHaveLength(2);
    lanes.done('suspect');
    expect(lanes.take()?.lane).toBe('suspect');
    lanes.done('main');
    expect(lanes.take()?.lane).toBe('main'); // suspects are at their cap
  });

  it('prefers the oldest due job across lanes', () => {
    const lanes = new CheckLanes<{ dueAt: number }>(10, 0.5);
    lanes.push(job(5), 'main');
    lanes.push(job(3), 'suspect');
    expect(lanes.take()).toEqual({ job: job(3), lane: 'suspect' });
    expect(lanes.take()).toEqual({ job: job(5), lane: 'main' });
    expect(lanes.inFlight).toBe(2);
  });

  it('drains queued jobs', () => {
    const lanes = new CheckLanes<{ dueAt: number }>(1, 1);
    for (let i = 0; i < 3000; i++) lanes.push(job(i), 'main');
    expect(lanes.take()?.job.dueAt).toBe(0);
    expect(lanes.queued).toBe(2999);
    lanes.done('main');
    for (let i = 1; i < 2000; i++) {
      expect(lanes.take()?.job.dueAt).toBe(i);
      lanes.done('main');
    }
    expect(lanes.drain()).toHaveLength(1000);
    expect(lanes.queued).toBe(0);
  });
});
