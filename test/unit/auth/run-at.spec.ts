import { MAX_TIMER_MS, runAt } from '@/modules/realtime/realtime-access';

describe('runAt (real-time connection expiry)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('waits out a JWT TTL above 24.8 days instead of firing at once', () => {
    const fired: number[] = [];
    const ttl = 40 * 86_400_000; // 40 days > 2^31-1 ms
    expect(ttl).toBeGreaterThan(MAX_TIMER_MS);
    runAt(ttl, () => fired.push(Date.now()));
    jest.advanceTimersByTime(1_000);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(ttl);
    expect(fired).toEqual([ttl]);
  });

  it('can be cancelled, also after re-arming', () => {
    const fired: number[] = [];
    const cancel = runAt(30 * 86_400_000, () => fired.push(1));
    jest.advanceTimersByTime(MAX_TIMER_MS + 10);
    cancel();
    jest.advanceTimersByTime(60 * 86_400_000);
    expect(fired).toEqual([]);
  });
});
