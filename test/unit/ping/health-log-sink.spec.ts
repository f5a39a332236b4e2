/**
 * The default sink: one versioned event per result keyed by site id, published in
 * batches, retried when the bus fails, bounded when it stays down.
 */
import type { AppConfig } from '@/config/app-config';
import { EventBus, OutgoingEvent, TopicKey } from '@/infra/events/event-bus.port';
import type { CheckResult } from '@/modules/ping/check-result';
import { HealthLogSink, toHealthLog } from '@/modules/ping/health-log.sink';
import { PingMetrics } from '@/modules/ping/ping-metrics';
import { spec } from './support/recording';

class FakeBus extends EventBus {
  batches: { topic: TopicKey; events: OutgoingEvent[] }[] = [];
  failNext = 0;
  override async publish(topic: TopicKey, events: OutgoingEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('broker unavailable');
    }
    this.batches.push({ topic, events });
  }
  override subscribe(): never {
    throw new Error('unused');
  }
  override async health() {
    return { up: true, kind: 'in-process' as const };
  }
  override async close(): Promise<void> {}
}

const config = { node: { id: 'v1', region: 'eu-west' } } as AppConfig;
const result: CheckResult = {
  up: false,
  latencyMs: 1001,
  failure: 'TIMEOUT',
  error: 'no answer within 1000 ms',
  phases: { dns: 1.2, connect: 3.4, total: 1001 },
  checkedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
};

describe('HealthLogSink', () => {
  afterEach(() => jest.useRealTimers());

  it('maps a result to the v1 health-log payload', () => {
    expect(toHealthLog(spec('s1'), 42, result, config.node)).toEqual({
      v: 1,
      siteId: 's1',
      round: 42,
      validatorId: 'v1',
      region: 'eu-west',
      up: false,
      latencyMs: 1001,
      httpStatus: null,
      failure: 'TIMEOUT',
      error: 'no answer within 1000 ms',
      phases: { dns: 1.2, connect: 3.4, total: 1001 },
      checkedAt: '2025-01-02T03:04:05.678Z',
    });
  });

  it('publishes batches on healthLogs keyed by site id', async () => {
    jest.useFakeTimers();
    const bus = new FakeBus();
    const sink = new HealthLogSink(bus, config, new PingMetrics());
    for (let i = 0; i < 1200; i++) sink.onResult(spec(`s${i % 7}`), i, result);
    await jest.advanceTimersByTimeAsync(200);
    const events = bus.batches.flatMap((b) => b.events);
    expect(bus.batches.every((b) => b.topic === 'healthLogs')).toBe(true);
    expect(bus.batches.length).toBeGreaterThanOrEqual(3); // at most 500 per publish
    expect(events).toHaveLength(1200);
    expect(events[8]).toMatchObject({ key: 's1', value: { siteId: 's1', round: 8 } });
  });

  it('retries a failed publish, in order, and flushes on shutdown', async () => {
    jest.useFakeTimers();
    const bus = new FakeBus();
    bus.failNext = 1;
    const sink = new HealthLogSink(bus, config, new PingMetrics());
    sink.onResult(spec('a'), 1, result);
    sink.onResult(spec('a'), 2, result);
    await jest.advanceTimersByTimeAsync(100);
    expect(bus.batches).toHaveLength(0);
    sink.onResult(spec('a'), 3, result);
    await jest.advanceTimersByTimeAsync(1_100);
    await sink.flush();
    const rounds = bus.batches.flatMap((b) =>
      b.events.map((e) => (e.value as { round: number }).round),
    );
    expect(rounds).toEqual([1, 2, 3]);
  });
});
