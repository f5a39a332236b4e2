/**
 * Test doubles for the scheduler: a metrics recorder keeping exact lags and missed
 * rounds, a sink keeping every result, and a scripted checker on (fake) timers.
 */
import type { Lane } from '@/core/schedule/check-lanes';
import { Checker, CheckResult, CheckTarget } from '@/modules/ping/check-result';
import { CheckResultSink } from '@/modules/ping/check-result-sink';
import { MissReason, PingMetrics } from '@/modules/ping/ping-metrics';
import type { SiteSpec } from '@/modules/ping/site-source';

export class RecordingMetrics extends PingMetrics {
  readonly lags: { lag: number; lane: Lane }[] = [];
  readonly missedRounds: Record<MissReason, number> = { stall: 0, queue: 0, overlap: 0 };

  override checkStarted(lagMs: number, lane: Lane): void {
    super.checkStarted(lagMs, lane);
    this.lags.push({ lag: lagMs, lane });
  }

  override roundsMissed(rounds: number, reason: MissReason): void {
    super.roundsMissed(rounds, reason);
    this.missedRounds[reason] += rounds;
  }
}

export interface Recorded {
  siteId: string;
  round: number;
  url: string;
  result: CheckResult;
}

export class RecordingSink extends CheckResultSink {
  readonly results: Recorded[] = [];

  override onResult(site: SiteSpec, round: number, result: CheckResult): void {
    this.results.push({ siteId: site.id, round, url: site.url, result });
  }

  forSite(id: string): Recorded[] {
    return this.results.filter((r) => r.siteId === id);
  }
}

/** Answers after `durationMs(url)` (on whatever timers are installed), bounded by the timeout. */
export class ScriptedChecker extends Checker {
  readonly started: { url: string; at: number }[] = [];
  running = 0;
  maxRunning = 0;

  constructor(private readonly durationMs: (url: string) => number = () => 5) {
    super();
  }

  override check(target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
    const checkedAt = Date.now();
    this.started.push({ url: target.url, at: checkedAt });
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const d = this.durationMs(target.url);
    const timedOut = d >= target.timeoutMs;
    return new Promise<CheckResult>((resolve) => {
      const end = () => {
        this.running -= 1;
        resolve({
          up: !timedOut,
          latencyMs: Math.min(d, target.timeoutMs),
          ...(timedOut ? { failure: 'TIMEOUT' as const, error: 'timeout' } : { httpStatus: 200 }),
          phases: { total: Math.min(d, target.timeoutMs) },
          checkedAt,
        });
      };
      const t = setTimeout(end, Math.min(d, target.timeoutMs));
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        end();
      });
    });
  }
}

export function spec(id: string, over: Partial<SiteSpec> = {}): SiteSpec {
  return {
    id,
    url: `http://target.test/${id}`,
    intervalMs: 10_000,
    timeoutMs: 2_000,
    expectedStatus: [],
    ...over,
  };
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}
