/**
 * In-round retries (issue 16): a failed check is tried again after retryDelayMs before
 * the validator votes, and the first attempt, the delays and every retry fit in the one
 * timeout budget from the check's start, so the vote is never later than without retries.
 */
import { roundAt, sitePhase } from '@/core/schedule/round';
import type { CheckResult, CheckTarget } from '@/modules/ping/check-result';
import { Checker } from '@/modules/ping/check-result';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import { RecordingMetrics, RecordingSink, spec } from './support/recording';

const T0 = 1_700_000_000_000;

/** Each call answers after `ms` with the next scripted outcome (the last one repeats). */
class FlakyChecker extends Checker {
  readonly calls: { at: number; timeoutMs: number }[] = [];
  constructor(private readonly script: { up: boolean; ms: number }[]) {
    super();
  }
  override check(target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
    const at = Date.now();
    const step = this.script[Math.min(this.calls.length, this.script.length - 1)];
    this.calls.push({ at, timeoutMs: target.timeoutMs });
    const ms = Math.min(step.ms, target.timeoutMs);
    const timedOut = step.ms >= target.timeoutMs;
    return new Promise((resolve) => {
      const t = setTimeout(
        () =>
          resolve(
            step.up && !timedOut
              ? { up: true, latencyMs: ms, httpStatus: 200, phases: { total: ms }, checkedAt: at }
              : {
                  up: false,
                  latencyMs: ms,
                  failure: timedOut ? 'TIMEOUT' : 'CONNECT',
                  error: 'refused',
                  phases: { total: ms },
                  checkedAt: at,
                },
          ),
        ms,
      );
      signal?.addEventListener('abort', () => clearTimeout(t));
    });
  }
}

describe('PingScheduler in-round retries', () => {
  let scheduler: PingScheduler | undefined;
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(async () => {
    await scheduler?.stop();
    jest.useRealTimers();
  });

  async function firstRound(checker: FlakyChecker, over: Parameters<typeof spec>[1]) {
    const source = new InMemorySiteSource();
    const sink = new RecordingSink();
    source.upsert(spec('s', { intervalMs: 10_000, timeoutMs: 2_000, ...over }));
    scheduler = new PingScheduler(source, checker, sink, new RecordingMetrics(), {
      concurrency: 4,
      suspectShare: 0.5,
      maxLateMs: 10_000,
      refreshMs: 60_000,
    });
    await scheduler.start();
    const published: number[] = [];
    const orig = sink.onResult.bind(sink);
    sink.onResult = (site, round, r) => {
      published.push(Date.now());
      orig(site, round, r);
    };
    for (let i = 0; i < 120 && sink.results.length === 0; i++)
      await jest.advanceTimersByTimeAsync(100);
    expect(sink.results).toHaveLength(1);
    return { result: sink.results[0], publishedAt: published[0] };
  }

  it('votes UP when a retry succeeds, dated at the first attempt', async () => {
    const checker = new FlakyChecker([
      { up: false, ms: 50 },
      { up: true, ms: 30 },
    ]);
    const { result } = await firstRound(checker, { retries: 2, retryDelayMs: 200 });
    expect(checker.calls).toHaveLength(2);
    expect(checker.calls[1].at - checker.calls[0].at).toBe(250);
    expect(result.result).toMatchObject({ up: true, attempts: 2 });
    expect(result.result.checkedAt).toBe(checker.calls[0].at);
    expect(roundAt(result.result.checkedAt, sitePhase('s', 10_000), 10_000)).toBe(result.round);
  });

  it('never runs past the timeout budget from the first attempt, however many retries', async () => {
    const checker = new FlakyChecker([{ up: false, ms: 300 }]);
    const { result, publishedAt } = await firstRound(checker, { retries: 10, retryDelayMs: 400 });
    const start = checker.calls[0].at;
    // 0-300 fail, 700-1000 fail, 1400-1700 fail; 2100 would be past 2000: stop.
    expect(checker.calls.map((c) => c.at - start)).toEqual([0, 700, 1400]);
    for (const c of checker.calls) expect(c.at - start + c.timeoutMs).toBeLessThanOrEqual(2_000);
    expect(publishedAt - start).toBeLessThanOrEqual(2_000);
    expect(result.result).toMatchObject({ up: false, failure: 'CONNECT', attempts: 3 });
  });

  it('a retry gets only the budget left, and a timeout leaves none', async () => {
    const slow = new FlakyChecker([
      { up: false, ms: 1_500 },
      { up: true, ms: 1_000 },
    ]);
    const { result, publishedAt } = await firstRound(slow, { retries: 1, retryDelayMs: 100 });
    const start = slow.calls[0].at;
    expect(slow.calls.map((c) => c.timeoutMs)).toEqual([2_000, 400]);
    expect(result.result).toMatchObject({ up: false, failure: 'TIMEOUT', attempts: 2 });
    expect(publishedAt - start).toBeLessThanOrEqual(2_000);

    await scheduler?.stop();
    const hang = new FlakyChecker([{ up: false, ms: 5_000 }]);
    const second = await firstRound(hang, { retries: 3, retryDelayMs: 0 });
    expect(hang.calls).toHaveLength(1);
    expect(second.result.result.attempts).toBeUndefined();
  });

  it('without retries (the default) a failure is voted at once', async () => {
    const checker = new FlakyChecker([{ up: false, ms: 50 }]);
    const { result } = await firstRound(checker, {});
    expect(checker.calls).toHaveLength(1);
    expect(result.result).toMatchObject({ up: false, failure: 'CONNECT' });
    expect(result.result.attempts).toBeUndefined();
  });
});
