/**
 * Acceptance 3 of issue 4: 500 sites, 50 of which hang until their timeout. The
 * other 450 are checked in every round, on schedule, through the real HttpChecker against
 * local servers. The exact property (a hanging check never delays a healthy one) is pinned
 * under a fake clock in test/unit/ping/ping-scheduler.spec.ts; here, with real sockets and a
 * machine that CI shares with other suites, "on schedule" is judged so that CPU starvation
 * (of this process or of the target's) cannot fail it while a hold-up would: a hanging check
 * holds its slot for a whole timeout (1 s), so healthy checks queued behind hangs would put the
 * median lag near a second. Median lag < 100 ms beyond the event loop's p99 delay; the tail no
 * longer than one timeout beyond its worst delay.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { roundAt, roundStart, sitePhase } from '@/core/schedule/round';
import { DnsCache } from '@/modules/dns/dns-cache';
import { HttpChecker } from '@/modules/ping/http-checker';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import type { SiteSpec } from '@/modules/ping/site-source';
import { FakeDnsResolver } from '../../unit/ping/support/fake-dns-resolver';
import { quantile, RecordingMetrics, RecordingSink, spec } from '../../unit/ping/support/recording';
import { startTargetProcess, TargetProcess } from './support/target-process';

const SITES = 500;
const HANGING = 50;
const INTERVAL_MS = 2_000;
const TIMEOUT_MS = 1_000;
const RUN_MS = 6_500;

async function measure(sites: SiteSpec[]) {
  const checker = new HttpChecker(new DnsCache(new FakeDnsResolver()), {
    allowPrivateTargets: true, // local targets live on 127.0.0.1
  });
  const sink = new RecordingSink();
  const metrics = new RecordingMetrics();
  const scheduler = new PingScheduler(new InMemorySiteSource(sites), checker, sink, metrics, {
    concurrency: 100,
    suspectShare: 0.5,
    maxLateMs: 10_000,
    refreshMs: 10_000,
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await scheduler.start();
  const startedAt = Date.now();
  await new Promise((r) => setTimeout(r, RUN_MS));
  const stoppedAt = Date.now();
  await scheduler.stop();
  loop.disable();
  await checker.close();
  return { sink, metrics, loop, startedAt, stoppedAt, loopMaxMs: loop.max / 1e6 };
}

describe('scheduler under load with hanging sites', () => {
  // Out of process: the targets' CPU must not be billed to the scheduler's event loop.
  let target: TargetProcess;

  beforeAll(async () => {
    target = await startTargetProcess();
  });

  afterAll(async () => {
    await target.close();
  });

  it('checks the 450 healthy sites every round, median lag < 100 ms beyond CPU starvation', async () => {
    const sites = Array.from({ length: SITES }, (_, i) => {
      const hangs = i % (SITES / HANGING) === 0;
      return spec(`site-${i}`, {
        url: target.url(hangs ? `/hang?i=${i}` : `/ok?i=${i}`),
        intervalMs: INTERVAL_MS,
        timeoutMs: TIMEOUT_MS,
      });
    });
    const hangingIds = new Set(sites.filter((s) => s.url.includes('/hang')).map((s) => s.id));
    expect(hangingIds.size).toBe(HANGING);

    // A run in which this process itself stood still for half a timeout or more (a CI machine
    // shared with other suites) cannot judge scheduling: checks time out because nothing ran.
    // Such a run is measured again, up to three times; the assertions judge the last one, so a
    // machine that starves every run still fails, loudly, with its figures printed.
    let run = await measure(sites);
    for (let attempt = 2; attempt <= 3 && run.loopMaxMs >= TIMEOUT_MS / 2; attempt++) {
      console.log(
        `run starved (event loop stalled ${run.loopMaxMs.toFixed(0)} ms): measuring again`,
      );
      run = await measure(sites);
    }
    const { sink, metrics, loop, startedAt, stoppedAt } = run;

    const healthyResults = sink.results.filter((r) => !hangingIds.has(r.siteId));
    const lags = healthyResults.map((r) => {
      const phase = sitePhase(r.siteId, INTERVAL_MS);
      return r.result.checkedAt - roundStart(r.round, phase, INTERVAL_MS);
    });
    const p50 = quantile(lags, 0.5);
    const p99 = quantile(lags, 0.99);
    console.log(
      `healthy checks: ${healthyResults.length}, lag p50 ${p50} ms, p99 ${p99} ms, max ${Math.max(...lags)} ms; ` +
        `hanging results: ${sink.results.length - healthyResults.length}; missed: ${JSON.stringify(metrics.missedRounds)}; ` +
        // A lag tail with an equal event-loop delay means the process was starved of CPU.
        `event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
    );
    const starvedMs = loop.max / 1e6;
    expect(p50).toBeLessThan(100 + loop.percentile(99) / 1e6);
    expect(p99).toBeLessThan(TIMEOUT_MS + starvedMs);
    expect(healthyResults.every((r) => r.result.up)).toBe(true);

    // Every round of every healthy site that started (with time to finish) while the
    // scheduler ran was checked exactly once: nothing skipped, nothing doubled.
    for (const s of sites) {
      if (hangingIds.has(s.id)) continue;
      const phase = sitePhase(s.id, INTERVAL_MS);
      const first = roundAt(startedAt - 1, phase, INTERVAL_MS) + 1;
      const last = roundAt(stoppedAt - TIMEOUT_MS, phase, INTERVAL_MS);
      const got = sink.forSite(s.id).map((r) => r.round);
      for (let r = first; r <= last; r++) expect(got.filter((g) => g === r)).toHaveLength(1);
    }

    // The hanging ones were cut at their timeout, not left to block.
    const hangs = sink.results.filter((r) => hangingIds.has(r.siteId));
    expect(hangs.length).toBeGreaterThanOrEqual(HANGING);
    for (const h of hangs) {
      expect(h.result.failure).toBe('TIMEOUT');
      expect(h.result.latencyMs).toBeLessThan(TIMEOUT_MS + 100 + starvedMs);
    }
    expect(metrics.missedRounds.stall).toBe(0);
  }, 60_000);
});
