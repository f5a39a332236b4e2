/**
 * PingScheduler on fake timers: rounds start on their grid, site changes apply
 * without restart, a stall skips rounds instead of bursting, slow sites do not hold
 * up fast ones, and shutdown publishes nothing half-done.
 */
import { roundAt, sitePhase } from '@/core/schedule/round';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { PingScheduler, PingSchedulerOptions } from '@/modules/ping/ping-scheduler';
import { SiteSource, SiteSpec } from '@/modules/ping/site-source';
import {
  quantile,
  RecordingMetrics,
  RecordingSink,
  ScriptedChecker,
  spec,
} from './support/recording';

const T0 = 1_700_000_000_000;
const OPTIONS: PingSchedulerOptions = {
  concurrency: 16,
  suspectShare: 0.5,
  maxLateMs: 10_000,
  refreshMs: 10_000,
};

describe('PingScheduler', () => {
  let source: InMemorySiteSource;
  let checker: ScriptedChecker;
  let sink: RecordingSink;
  let metrics: RecordingMetrics;
  let scheduler: PingScheduler;

  const build = (opts: Partial<PingSchedulerOptions> = {}, src: SiteSource = source) => {
    scheduler = new PingScheduler(src, checker, sink, metrics, { ...OPTIONS, ...opts });
    return scheduler;
  };
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    source = new InMemorySiteSource();
    checker = new ScriptedChecker();
    sink = new RecordingSink();
    metrics = new RecordingMetrics();
  });

  afterEach(async () => {
    await scheduler?.stop();
    jest.useRealTimers();
  });

  it('checks each site once per round, at the round start, with the round number', async () => {
    source.upsert(spec('a'), spec('b'));
    await build().start();
    await advance(35_000);
    for (const id of ['a', 'b']) {
      const got = sink.forSite(id);
      expect(got.length).toBeGreaterThanOrEqual(3);
      const phase = sitePhase(id, 10_000);
      const rounds = got.map((g) => g.round);
      expect(new Set(rounds).size).toBe(rounds.length);
      for (const g of got) expect(roundAt(g.result.checkedAt, phase, 10_000)).toBe(g.round);
    }
    expect(Math.max(...metrics.lags.map((l) => l.lag))).toBeLessThanOrEqual(1);
  });

  it('picks up added, changed, paused and deleted sites within one interval, without restart', async () => {
    source.upsert(spec('a'), spec('b'), spec('c'));
    await build().start();
    await advance(10_000);
    source.upsert(spec('d')); // added
    source.upsert(spec('a', { url: 'http://target.test/a-v2' })); // changed
    source.remove('b'); // paused (absent from listActive)
    source.remove('c'); // deleted
    const changedAt = Date.now();
    const before = sink.results.length;
    await advance(10_000);
    const after = sink.results.slice(before);
    expect(after.filter((r) => r.siteId === 'd')).toHaveLength(1);
    expect(after.filter((r) => r.siteId === 'a').map((r) => r.url)).toEqual([
      'http://target.test/a-v2',
    ]);
    expect(after.filter((r) => r.siteId === 'b' || r.siteId === 'c')).toHaveLength(0);
    expect(after.every((r) => r.result.checkedAt - changedAt <= 10_000)).toBe(true);
    expect(scheduler.scheduledSites).toBe(2);
  });

  it('polls a source without push notifications every refreshMs', async () => {
    const sites: SiteSpec[] = [spec('a')];
    const polled: SiteSource = { listActive: async () => [...sites] };
    await build({ refreshMs: 5_000 }, polled).start();
    await advance(10_000);
    sites.push(spec('late'));
    await advance(15_000); // next poll within 5 s, first round within 10 s after
    expect(sink.forSite('late').length).toBeGreaterThanOrEqual(1);
    sites.length = 0;
    await advance(5_000);
    const n = sink.results.length;
    await advance(30_000);
    expect(sink.results.length).toBe(n);
  });

  it('keeps the previous list when the source fails', async () => {
    let fail = false;
    const flaky: SiteSource = {
      listActive: async () => {
        if (fail) throw new Error('db down');
        return [spec('a')];
      },
    };
    await build({ refreshMs: 1_000 }, flaky).start();
    fail = true;
    await advance(30_000);
    expect(sink.forSite('a').length).toBeGreaterThanOrEqual(2);
  });

  it('after a stall, skips late rounds and counts them: no burst, back on the grid', async () => {
    for (let i = 0; i < 50; i++) source.upsert(spec(`s${i}`));
    await build().start();
    await advance(20_000);
    const before = checker.started.length;
    // The process freezes for 65 s: the wall clock jumps, no timer fired meanwhile.
    jest.setSystemTime(Date.now() + 65_000);
    await advance(1_000); // the scheduler never sleeps longer than 1 s
    const burst = checker.started.length - before;
    // At most one check per site (the round in progress, if still on time).
    expect(burst).toBeLessThanOrEqual(50);
    expect(metrics.missedRounds.stall).toBeGreaterThanOrEqual(50 * 6 - burst);
    expect(Math.max(...metrics.lags.slice(-burst).map((l) => l.lag))).toBeLessThanOrEqual(5_000);
    await advance(20_000);
    // Back to one check per site per interval, on time.
    const recent = metrics.lags.slice(-60);
    expect(Math.max(...recent.map((l) => l.lag))).toBeLessThanOrEqual(1);
  });

  it('a slow site never delays the others; a hanging one moves to the suspect lane', async () => {
    checker = new ScriptedChecker((url) => (url.includes('hang') ? 60_000 : 5));
    for (let i = 0; i < 8; i++) source.upsert(spec(`hang${i}`, { url: `http://t/hang${i}` }));
    for (let i = 0; i < 40; i++) source.upsert(spec(`ok${i}`));
    await build({ concurrency: 8 }).start();
    await advance(60_000);
    const okLags = metrics.lags.filter((_, i) => !checker.started[i].url.includes('hang'));
    expect(
      quantile(
        okLags.map((l) => l.lag),
        0.99,
      ),
    ).toBeLessThanOrEqual(5);
    // Hanging sites were timed out and after their first round ran as suspects,
    // never holding more than half of the 8 slots.
    expect(sink.forSite('hang0').every((r) => r.result.failure === 'TIMEOUT')).toBe(true);
    expect(metrics.lags.some((l) => l.lane === 'suspect')).toBe(true);
    expect(checker.maxRunning).toBeLessThanOrEqual(8);
    for (let i = 0; i < 40; i++) expect(sink.forSite(`ok${i}`).length).toBeGreaterThanOrEqual(5);
  });

  it('starts no check while the event loop runs later than maxLoopLagMs, and resumes after', async () => {
    let lag = 0;
    for (let i = 0; i < 20; i++) source.upsert(spec(`s${i}`));
    await build({ maxLoopLagMs: 100, loopLag: { lagMs: () => lag } }).start();
    await advance(10_000);
    const before = checker.started.length;
    expect(before).toBeGreaterThanOrEqual(20);
    lag = 250; // overloaded: every round due now is held back
    await advance(20_000);
    expect(checker.started.length).toBe(before);
    expect(scheduler.heldForLoopLag).toBeGreaterThan(0);
    // Held past their late limit, those rounds are skipped and counted, not run in a burst.
    expect(metrics.missedRounds.queue).toBeGreaterThanOrEqual(1);
    lag = 0;
    await advance(10_000);
    expect(checker.started.length - before).toBeGreaterThanOrEqual(20);
    const recent = metrics.lags.slice(-20);
    expect(Math.max(...recent.map((l) => l.lag))).toBeLessThanOrEqual(5_000);
  });

  it('a check still running when its next round comes is not doubled (overlap)', async () => {
    checker = new ScriptedChecker(() => 15_000); // ignores the clamp: runs past its interval
    checker.check = ((orig) =>
      function (this: ScriptedChecker, t, s) {
        return orig.call(this, { ...t, timeoutMs: 15_000 }, s);
      })(checker.check);
    source.upsert(spec('slow'));
    await build().start();
    await advance(40_000);
    expect(metrics.missedRounds.overlap).toBeGreaterThanOrEqual(1);
    expect(checker.maxRunning).toBe(1);
  });

  it('clamps each check timeout to the site interval', async () => {
    const seen: number[] = [];
    const orig = checker.check.bind(checker);
    checker.check = (t, s) => {
      seen.push(t.timeoutMs);
      return orig(t, s);
    };
    source.upsert(spec('x', { intervalMs: 5_000, timeoutMs: 30_000 }));
    await build().start();
    await advance(6_000);
    expect(seen).toEqual([5_000]);
  });

  it('stop() cancels running checks and publishes none of them', async () => {
    checker = new ScriptedChecker(() => 1_500);
    source.upsert(spec('a'), spec('b'));
    await build().start();
    await advance(10_000 - 1);
    const busy = checker.running;
    const published = sink.results.length;
    await scheduler.stop();
    expect(checker.running).toBe(0);
    expect(busy + published).toBeGreaterThan(0);
    expect(sink.results.length).toBe(published);
    await advance(30_000);
    expect(sink.results.length).toBe(published);
  });
});
