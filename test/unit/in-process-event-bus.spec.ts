// The embedded event bus keeps Kafka's delivery rules: each group gets every event once, a key
// stays in order, a throwing handler sees the event again, members split partitions, close drains.
import { LoggerService } from '@nestjs/common';
import { IncomingEvent } from '@/infra/events/event-bus.port';
import { InProcessEventBus, InProcessEventBusOptions } from '@/infra/events/in-process-event-bus';

const quiet = (): LoggerService & { warnings: string[] } => {
  const warnings: string[] = [];
  return {
    warnings,
    log: () => undefined,
    error: (m: string) => warnings.push(m),
    warn: (m: string) => warnings.push(m),
    debug: () => undefined,
  };
};

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('InProcessEventBus', () => {
  const buses: InProcessEventBus[] = [];
  const newBus = (options: InProcessEventBusOptions = {}) => {
    const bus = new InProcessEventBus(
      { partitions: 4, handlerRetry: { initialMs: 5, maxMs: 20 }, ...options },
      quiet(),
    );
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  it('delivers a published event with its key, value, headers, partition and offset', async () => {
    const bus = newBus();
    const got: IncomingEvent[] = [];
    await bus.subscribe('healthAlerts', { group: 'g' }, async (e) => {
      got.push(e);
    });
    const value = { v: 1, siteId: 's1', at: new Date(0) };
    await bus.publish('healthAlerts', [{ key: 's1', value, headers: { trace: 't1' } }]);
    await waitFor('delivery', () => got.length === 1);
    expect(got[0]).toEqual({
      topic: 'healthAlerts',
      key: 's1',
      // shaped as by JSON over Kafka: a Date arrives as its ISO string
      value: { v: 1, siteId: 's1', at: '1970-01-01T00:00:00.000Z' },
      headers: { trace: 't1' },
      partition: expect.any(Number),
      offset: '0',
    });
    expect(got[0].value).not.toBe(value);
  });

  it('gives every group each event published after it subscribed, and history on request', async () => {
    const bus = newBus();
    await bus.publish('healthLogs', [{ key: 'a', value: 'before' }]);
    const late: unknown[] = [];
    const replay: unknown[] = [];
    await bus.subscribe('healthLogs', { group: 'late' }, async (e) => void late.push(e.value));
    await bus.subscribe('healthLogs', { group: 'replay', fromBeginning: true }, async (e) => {
      replay.push(e.value);
    });
    await bus.publish('healthLogs', [{ key: 'a', value: 'after' }]);
    await waitFor('both groups', () => late.length === 1 && replay.length === 2);
    await settle();
    expect(late).toEqual(['after']);
    expect(replay).toEqual(['before', 'after']);
  });

  it('keeps per-key order and maps a key to one partition', async () => {
    const bus = newBus();
    const seen = new Map<string, number[]>();
    const partitions = new Map<string, Set<number>>();
    await bus.subscribe('validatorStatus', { group: 'g' }, async (e) => {
      // Uneven handler times: order must come from the bus, not from timing luck.
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      const { seq } = e.value as { seq: number };
      seen.set(e.key, [...(seen.get(e.key) ?? []), seq]);
      partitions.set(e.key, (partitions.get(e.key) ?? new Set()).add(e.partition));
    });
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    for (let batch = 0; batch < 10; batch++) {
      await bus.publish(
        'validatorStatus',
        keys.flatMap((key) => [0, 1].map((i) => ({ key, value: { seq: batch * 2 + i } }))),
      );
    }
    await waitFor(
      'all events',
      () => [...seen.values()].every((s) => s.length === 20) && seen.size === 5,
    );
    for (const key of keys) {
      expect(seen.get(key)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(partitions.get(key)!.size).toBe(1);
    }
  });

  it('redelivers to a throwing handler and holds back later events of that partition', async () => {
    const bus = newBus({ partitions: 1 });
    const attempts: string[] = [];
    let failuresLeft = 2;
    await bus.subscribe('healthAlerts', { group: 'g' }, async (e) => {
      attempts.push(e.key);
      if (e.key === 'bad' && failuresLeft-- > 0) throw new Error('transient');
    });
    await bus.publish('healthAlerts', [
      { key: 'first', value: 1 },
      { key: 'bad', value: 2 },
      { key: 'after', value: 3 },
    ]);
    await waitFor('all delivered', () => attempts.includes('after'));
    expect(attempts).toEqual(['first', 'bad', 'bad', 'bad', 'after']);
    expect((await bus.health()).detail).toContain('lag 0');
  });

  it('does not advance a failing group and keeps the event for the next member', async () => {
    const bus = newBus({ partitions: 1 });
    let aSaw = 0;
    const a = await bus.subscribe('healthAlerts', { group: 'g' }, async () => {
      aSaw++;
      throw new Error('always fails');
    });
    await bus.publish('healthAlerts', [{ key: 'x', value: 'payload' }]);
    await waitFor('a retried', () => aSaw >= 2);
    expect((await bus.health()).detail).toContain('lag 1');
    await a.stop();
    const bSaw: unknown[] = [];
    await bus.subscribe('healthAlerts', { group: 'g' }, async (e) => void bSaw.push(e.value));
    await waitFor('b got it', () => bSaw.length === 1);
    expect(bSaw).toEqual(['payload']);
    expect((await bus.health()).detail).toContain('lag 0');
  });

  it('splits partitions between two members of a group without duplicates', async () => {
    const bus = newBus({ partitions: 4 });
    const byMember: Record<'a' | 'b', IncomingEvent[]> = { a: [], b: [] };
    await bus.subscribe('healthLogs', { group: 'g' }, async (e) => void byMember.a.push(e));
    await bus.subscribe('healthLogs', { group: 'g' }, async (e) => void byMember.b.push(e));
    const events = Array.from({ length: 60 }, (_, i) => ({ key: `site-${i % 30}`, value: { i } }));
    await bus.publish('healthLogs', events);
    await waitFor('all delivered', () => byMember.a.length + byMember.b.length === 60);
    await settle();
    const ids = [...byMember.a, ...byMember.b].map((e) => (e.value as { i: number }).i);
    expect(new Set(ids).size).toBe(60);
    expect(ids.length).toBe(60);
    expect(byMember.a.length).toBeGreaterThan(0);
    expect(byMember.b.length).toBeGreaterThan(0);
    const pa = new Set(byMember.a.map((e) => e.partition));
    const pb = new Set(byMember.b.map((e) => e.partition));
    expect([...pa].filter((p) => pb.has(p))).toEqual([]);
  });

  it('moves a stopped member’s partitions to the remaining one', async () => {
    const bus = newBus({ partitions: 4 });
    const a: unknown[] = [];
    const b: unknown[] = [];
    await bus.subscribe('healthLogs', { group: 'g' }, async (e) => void a.push(e.value));
    const sb = await bus.subscribe('healthLogs', { group: 'g' }, async (e) => void b.push(e.value));
    await sb.stop();
    await sb.stop(); // idempotent
    await bus.publish(
      'healthLogs',
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i })),
    );
    await waitFor('all to a', () => a.length === 20);
    expect(b).toEqual([]);
  });

  it('close() waits for a running handler, then refuses new work; it is idempotent', async () => {
    const bus = newBus();
    let finished = false;
    let started = false;
    await bus.subscribe('healthAlerts', { group: 'g' }, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 100));
      finished = true;
    });
    await bus.publish('healthAlerts', [{ key: 'k', value: 1 }]);
    await waitFor('handler started', () => started);
    await Promise.all([bus.close(), bus.close()]);
    expect(finished).toBe(true);
    await expect(bus.publish('healthAlerts', [{ key: 'k', value: 2 }])).rejects.toThrow(/closed/);
    await expect(
      bus.subscribe('healthAlerts', { group: 'h' }, async () => undefined),
    ).rejects.toThrow(/closed/);
    expect(await bus.health()).toEqual({ up: false, kind: 'in-process', detail: 'closed' });
  });

  it('close() gives up on a handler that never returns after the close timeout', async () => {
    const bus = newBus({ closeTimeoutMs: 50 });
    let started = false;
    await bus.subscribe('healthAlerts', { group: 'g' }, () => {
      started = true;
      return new Promise<void>(() => undefined);
    });
    await bus.publish('healthAlerts', [{ key: 'k', value: 1 }]);
    await waitFor('handler started', () => started);
    const t0 = Date.now();
    await bus.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('keeps a bounded history per topic for groups that start from the beginning', async () => {
    const bus = newBus({ partitions: 1, historyPerTopic: 8 });
    await bus.publish(
      'healthLogs',
      Array.from({ length: 40 }, (_, i) => ({ key: 'k', value: i })),
    );
    const got: number[] = [];
    await bus.subscribe('healthLogs', { group: 'g', fromBeginning: true }, async (e) => {
      got.push(e.value as number);
    });
    await waitFor('history', () => got.at(-1) === 39);
    expect(got.length).toBeGreaterThanOrEqual(8);
    expect(got.length).toBeLessThanOrEqual(10);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => 40 - got.length + i));
  });

  it('hands a batch subscriber what a partition holds at once; a throw redelivers the whole batch', async () => {
    const bus = newBus({ partitions: 1 });
    const batches: string[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    let calls = 0;
    await bus.subscribeBatch('healthLogs', { group: 'writer' }, async (events) => {
      calls++;
      if (calls === 1) await first; // the first write is slow: the rest queues behind it
      if (calls === 2) throw new Error('database down'); // the next batch fails once
      batches.push(events.map((e) => String(e.value)));
    });
    await bus.publish('healthLogs', [{ key: 'k', value: 'e0' }]);
    await waitFor('the first delivery', () => calls === 1);
    await bus.publish(
      'healthLogs',
      Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: `e${i + 1}` })),
    );
    release();
    await waitFor('every event', () => batches.flat().length === 51);
    // One event, then the 50 that arrived meanwhile together (delivered again after the throw).
    expect(batches.map((b) => b.length)).toEqual([1, 50]);
    expect(batches.flat()).toEqual(Array.from({ length: 51 }, (_, i) => `e${i}`));
    expect(calls).toBe(3);
  });

  it('rejects a value JSON cannot carry and delivers nothing of that call', async () => {
    const bus = newBus();
    const got: unknown[] = [];
    await bus.subscribe('healthLogs', { group: 'g' }, async (e) => void got.push(e.value));
    await expect(
      bus.publish('healthLogs', [
        { key: 'a', value: 1 },
        { key: 'b', value: { n: BigInt(1) } },
      ]),
    ).rejects.toThrow(/BigInt/);
    await settle();
    expect(got).toEqual([]);
    expect(await bus.health()).toMatchObject({ up: true, kind: 'in-process' });
  });
});
