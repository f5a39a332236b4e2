// The Kafka adapter against a real broker: topics are created as configured, events come back
// through consumer groups in per-key order, a failing handler leaves its offset uncommitted.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { LoggerService } from '@nestjs/common';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { IncomingEvent, TopicKey } from '@/infra/events/event-bus.port';
import { KafkaEventBus, KafkaEventBusOptions } from '@/infra/events/kafka-event-bus';
import { ensureKafka } from '../support/kafka';

jest.setTimeout(120_000);

const recorder = (): LoggerService & { lines: string[] } => {
  const lines: string[] = [];
  const keep = (level: string) => (m: string) => {
    lines.push(`${level} ${m}`);
    if (process.env.TEST_VERBOSE_KAFKA) process.stderr.write(`${level} ${m}\n`);
  };
  return {
    lines,
    log: keep('log'),
    warn: keep('warn'),
    error: keep('error'),
    debug: keep('debug'),
  };
};

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port on 127.0.0.1 with nothing listening, for "broker down" cases. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('KafkaEventBus (real broker)', () => {
  let brokers: string[];
  let admin: Admin;
  const runId = `evtest-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const createdTopics: string[] = [];
  const buses: KafkaEventBus[] = [];
  let n = 0;

  const topicsFor = (prefix: string): Record<TopicKey, string> => ({
    validatorStatus: `${prefix}.validator-status`,
    healthLogs: `${prefix}.health-logs`,
    healthAlerts: `${prefix}.health-alerts`,
  });

  /** A bus over topics of its own, so tests never see each other's events. */
  const newBus = (overrides: Partial<KafkaEventBusOptions> = {}) => {
    const topics = topicsFor(`${runId}-${++n}`);
    createdTopics.push(...Object.values(topics));
    const logger = recorder();
    const bus = new KafkaEventBus(
      {
        brokers,
        clientId: `${runId}-${n}`,
        topics,
        partitions: 3,
        replicationFactor: 1,
        handlerRetry: { initialMs: 100, maxMs: 400 },
        closeTimeoutMs: 15_000,
        ...overrides,
      },
      logger,
    );
    buses.push(bus);
    return { bus, topics, logger };
  };

  /** The group's committed offset on a partition; -1 when nothing is committed. */
  const committed = async (group: string, topic: string, partition = 0): Promise<number> => {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p = entry.partitions.find((x) => x.partition === partition);
    return Number(p?.offset ?? -1);
  };

  beforeAll(async () => {
    brokers = (await ensureKafka()).split(',');
    admin = new Kafka({ clientId: `${runId}-admin`, brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  afterAll(async () => {
    if (!admin) return;
    const existing = new Set(await admin.listTopics());
    const ours = createdTopics.filter((t) => existing.has(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    await admin.disconnect();
  });

  it('creates missing topics with the configured partitions, and tolerates existing ones', async () => {
    const { bus, topics } = newBus({ partitions: 5 });
    await bus.start();
    await bus.ensureTopics();
    const meta = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
    expect(meta.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
      Object.values(topics)
        .map((t) => [t, 5])
        .sort(),
    );
    expect(await bus.health()).toMatchObject({ up: true, kind: 'kafka' });
  });

  it('publishes through the adapter and receives through a consumer group', async () => {
    const { bus } = newBus();
    const replay: IncomingEvent[] = [];
    const live: IncomingEvent[] = [];
    await bus.publish('healthAlerts', [
      { key: 'site-1', value: { v: 1, kind: 'DOWN' }, headers: { 'x-trace': 'abc' } },
    ]);
    await bus.subscribe('healthAlerts', { group: 'replay', fromBeginning: true }, async (e) => {
      replay.push(e);
    });
    // fromBeginning: false still gets what is published once subscribe() has resolved
    await bus.subscribe('healthAlerts', { group: 'live' }, async (e) => void live.push(e));
    await bus.publish('healthAlerts', [{ key: 'site-1', value: { v: 1, kind: 'UP' } }]);
    await waitFor('both groups', () => replay.length === 2 && live.length === 1);
    expect(replay[0]).toEqual({
      topic: 'healthAlerts',
      key: 'site-1',
      value: { v: 1, kind: 'DOWN' },
      headers: { 'x-trace': 'abc' },
      partition: expect.any(Number),
      offset: '0',
    });
    expect(replay.map((e) => (e.value as { kind: string }).kind)).toEqual(['DOWN', 'UP']);
    expect(live[0]).toMatchObject({ key: 'site-1', value: { v: 1, kind: 'UP' }, offset: '1' });
  });

  it('keeps per-key order across concurrent publishes, one partition per key', async () => {
    const { bus } = newBus({ partitions: 3 });
    const seen = new Map<string, number[]>();
    const partitionsOf = new Map<string, Set<number>>();
    await bus.subscribe('healthLogs', { group: 'order', fromBeginning: true }, async (e) => {
      const { seq } = e.value as { seq: number };
      seen.set(e.key, [...(seen.get(e.key) ?? []), seq]);
      partitionsOf.set(e.key, (partitionsOf.get(e.key) ?? new Set()).add(e.partition));
    });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    // Ten publish calls in flight at once: the adapter must keep call order per key.
    await Promise.all(
      Array.from({ length: 10 }, (_, call) =>
        bus.publish(
          'healthLogs',
          keys.flatMap((key) => [0, 1, 2].map((i) => ({ key, value: { seq: call * 3 + i } }))),
        ),
      ),
    );
    await waitFor('all events', () => keys.every((k) => seen.get(k)?.length === 30));
    for (const key of keys) {
      expect(seen.get(key)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(partitionsOf.get(key)!.size).toBe(1);
    }
  });

  it('redelivers to a throwing handler and commits only after success', async () => {
    const { bus, topics } = newBus({ partitions: 1 });
    const group = 'retry';
    const topic = topics.healthAlerts;
    await bus.publish('healthAlerts', [
      { key: 's', value: 'ok-0' },
      { key: 's', value: 'poison-1' },
      { key: 's', value: 'ok-2' },
    ]);

    const seenByA: string[] = [];
    const a = await bus.subscribe('healthAlerts', { group, fromBeginning: true }, async (e) => {
      seenByA.push(e.value as string);
      if (e.value === 'poison-1') throw new Error('not yet');
    });
    await waitFor(
      'a sees the failing event again',
      () => seenByA.filter((v) => v === 'poison-1').length >= 3,
    );
    // Still failing: later events wait, and nothing at or past offset 1 is committed.
    expect(seenByA).not.toContain('ok-2');
    expect(await committed(group, topic)).toBeLessThanOrEqual(1);

    // A member that stops mid-retry must not commit the event either.
    await a.stop();
    expect(await committed(group, topic)).toBeLessThanOrEqual(1);

    const seenByB: string[] = [];
    await bus.subscribe(
      'healthAlerts',
      { group },
      async (e) => void seenByB.push(e.value as string),
    );
    await waitFor('b takes over', () => seenByB.includes('ok-2'));
    expect(seenByB).toEqual(['poison-1', 'ok-2']);
    await waitFor(
      'offset committed after success',
      async () => (await committed(group, topic)) === 3,
    );
  });

  it('splits partitions between two members of a group without duplicates', async () => {
    const { bus } = newBus({ partitions: 4 });
    const byMember: Record<'a' | 'b', IncomingEvent[]> = { a: [], b: [] };
    const group = 'shared';
    await bus.subscribe('validatorStatus', { group, fromBeginning: true }, async (e) => {
      byMember.a.push(e);
    });
    // resolves once b has joined: the group has rebalanced to two members
    await bus.subscribe('validatorStatus', { group, fromBeginning: true }, async (e) => {
      byMember.b.push(e);
    });
    const events = Array.from({ length: 40 }, (_, i) => ({ key: `validator-${i % 20}`, value: i }));
    await bus.publish('validatorStatus', events);
    await waitFor('all delivered', () => byMember.a.length + byMember.b.length >= 40);
    await new Promise((r) => setTimeout(r, 1_500)); // room for a duplicate to show up
    const values = [...byMember.a, ...byMember.b]
      .map((e) => e.value as number)
      .sort((x, y) => x - y);
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(byMember.a.length).toBeGreaterThan(0);
    expect(byMember.b.length).toBeGreaterThan(0);
    const pa = new Set(byMember.a.map((e) => e.partition));
    const pb = new Set(byMember.b.map((e) => e.partition));
    expect([...pa].filter((p) => pb.has(p))).toEqual([]);
  });

  it('rejects a publish within its retry budget when no broker answers', async () => {
    const port = await deadPort();
    const { bus, logger } = newBus({ brokers: [`127.0.0.1:${port}`], publishTimeoutMs: 1_500 });
    const t0 = Date.now();
    await expect(bus.publish('healthAlerts', [{ key: 'k', value: 1 }])).rejects.toThrow(
      /publish to .* failed after/,
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(logger.lines.some((l) => l.startsWith('warn publish to'))).toBe(true);
    expect(await bus.health()).toMatchObject({ up: false, kind: 'kafka' });
  });

  it('close() is idempotent and refuses work afterwards', async () => {
    const { bus } = newBus();
    await bus.subscribe('healthLogs', { group: 'closing' }, async () => undefined);
    await bus.publish('healthLogs', [{ key: 'k', value: 1 }]);
    await Promise.all([bus.close(), bus.close()]);
    await bus.close();
    await expect(bus.publish('healthLogs', [{ key: 'k', value: 2 }])).rejects.toThrow(/closed/);
    expect(await bus.health()).toEqual({ up: false, kind: 'kafka', detail: 'closed' });
  });
});
