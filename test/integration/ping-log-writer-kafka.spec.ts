// The ping-log writer over the real Kafka broker (issue 10): the topic is consumed per fetched
// batch, one transaction per batch; a batch whose write fails is delivered again as a whole and
// lands once; bad payloads in a batch are dropped without holding the rest back.
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@/config/app-config';
import { PrismaService } from '@/infra/database/prisma.service';
import { KafkaEventBus } from '@/infra/events/kafka-event-bus';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';
import { PingLogRepository } from '@/modules/ping-logs/ping-log.repository';
import { PingLogWriter } from '@/modules/ping-logs/ping-log.writer';
import { createTestDatabase, TestDatabase } from '../support/db';
import { ensureKafka } from '../support/kafka';

jest.setTimeout(180_000);

const config = { db: { pingLogRetentionDays: 30 } } as AppConfig;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
const LOGS = 3_000;

describe('ping-log writer over Kafka', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let brokers: string[];
  const buses: KafkaEventBus[] = [];
  const writers: PingLogWriter[] = [];
  let sites: string[];

  beforeAll(async () => {
    brokers = (await ensureKafka()).split(',');
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
    await prisma.onModuleInit();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const owner = await prisma.user.create({ data: { email: 'k@example.com', passwordHash: 'x' } });
    sites = Array.from({ length: 50 }, () => randomUUID());
    await prisma.website.createMany({
      data: sites.map((id, i) => ({
        id,
        ownerId: owner.id,
        name: `s${i}`,
        url: 'https://example.com',
        intervalMs: 20_000,
        timeoutMs: 5_000,
      })),
    });
  });
  afterAll(async () => {
    for (const w of writers) await w.onModuleDestroy().catch(() => undefined);
    for (const b of buses) await b.close().catch(() => undefined);
    await prisma?.$disconnect();
    await db?.drop();
  });

  function newBus(): KafkaEventBus {
    const prefix = `plw-${process.pid}-${Date.now().toString(36)}-${buses.length}`;
    const bus = new KafkaEventBus(
      {
        brokers,
        clientId: prefix,
        topics: {
          validatorStatus: `${prefix}.validator-status`,
          healthLogs: `${prefix}.health-logs`,
          healthAlerts: `${prefix}.health-alerts`,
        },
        partitions: 3,
        replicationFactor: 1,
        handlerRetry: { initialMs: 100, maxMs: 400 },
      },
      quiet,
    );
    buses.push(bus);
    return bus;
  }

  function logs(count: number, round0: number): HealthLogV1[] {
    return Array.from({ length: count }, (_, i) => ({
      v: 1,
      siteId: sites[i % sites.length],
      round: round0 + Math.floor(i / sites.length),
      validatorId: 'v1',
      region: 'eu',
      up: true,
      latencyMs: 10 + (i % 90),
      httpStatus: 200,
      failure: null,
      error: null,
      phases: { total: 10 + (i % 90) },
      checkedAt: new Date(Date.now() - 60_000).toISOString(),
    }));
  }

  async function rowsOfRounds(from: number, to: number): Promise<number> {
    return prisma.pingLog.count({ where: { round: { gte: from, lt: to } } });
  }

  async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
    const t0 = Date.now();
    while (!(await probe())) {
      if (Date.now() - t0 > 120_000) throw new Error(`${what}: not within 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('writes a backlog in a few transactions, redeliveries and bad payloads included', async () => {
    const bus = newBus();
    const good = logs(LOGS, 1);
    const events = [
      ...good.map((l) => ({ key: l.siteId, value: l })),
      // a redelivered copy and a payload that fails the schema, in the middle of the stream
      { key: sites[0], value: good[0] },
      { key: sites[1], value: { v: 1, siteId: 'not a uuid' } },
    ];
    await bus.publish('healthLogs', events);
    const repo = new PingLogRepository(prisma);
    const writer = new PingLogWriter(bus, repo, config);
    writers.push(writer);
    await writer.onModuleInit();
    await until('all rows', async () => (await rowsOfRounds(1, 1_000)) === LOGS);
    const stats = writer.stats();
    expect(stats.inserted).toBe(LOGS);
    expect(stats.dropped.invalid).toBe(1);
    // 3,002 events in at most a few dozen fetches: far fewer transactions than events.
    expect(stats.batches).toBeLessThanOrEqual(Math.ceil(events.length / 100));
    expect(stats.batches).toBeGreaterThanOrEqual(1);
    const hourly = await prisma.pingRollupHourly.aggregate({
      _sum: { checks: true },
      where: { region: 'eu' },
    });
    expect(hourly._sum.checks).toBe(LOGS);
    // One member at a time: writers share the consumer group, whatever their topics.
    await writer.onModuleDestroy();
  });

  it('a batch whose write fails is delivered again and lands exactly once', async () => {
    const bus = newBus();
    const repo = new PingLogRepository(prisma);
    let failures = 0;
    const real = repo.insertBatch.bind(repo);
    jest.spyOn(repo, 'insertBatch').mockImplementation(async (rows) => {
      if (failures < 2) {
        failures++;
        throw new Error('connection terminated unexpectedly');
      }
      return real(rows);
    });
    await bus.publish(
      'healthLogs',
      logs(600, 2_000).map((l) => ({ key: l.siteId, value: l })),
    );
    const writer = new PingLogWriter(bus, repo, config);
    writers.push(writer);
    await writer.onModuleInit();
    await until('all rows', async () => (await rowsOfRounds(2_000, 3_000)) === 600);
    expect(failures).toBe(2);
    expect(writer.stats().failedBatches).toBe(2);
    expect(writer.stats().inserted + writer.stats().duplicates).toBeGreaterThanOrEqual(600);
    await new Promise((r) => setTimeout(r, 500));
    expect(await rowsOfRounds(2_000, 3_000)).toBe(600);
    await writer.onModuleDestroy();
  });
});
