// The ping-log writer against a real PostgreSQL: batched inserts, rollups for the region and
// '*', idempotent redelivery, bad payloads dropped (never thrown), unknown sites, retention,
// and the health-logs topic end to end through the in-process bus.
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@/config/app-config';
import { PrismaService } from '@/infra/database/prisma.service';
import { InProcessEventBus } from '@/infra/events/in-process-event-bus';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';
import { PingLogRetention } from '@/modules/ping-logs/ping-log-retention';
import { PingLogRepository } from '@/modules/ping-logs/ping-log.repository';
import { LINGER_MS, PingLogWriter } from '@/modules/ping-logs/ping-log.writer';
import { createTestDatabase, TestDatabase } from '../support/db';

jest.setTimeout(60_000);

const HOUR = 3_600_000;
const config = { db: { pingLogRetentionDays: 30 } } as AppConfig;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

describe('ping-log writer', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let repo: PingLogRepository;
  let writer: PingLogWriter;
  let ownerId: string;
  // A fixed hour well inside retention: 2 h ago, floored.
  const base = Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
    await prisma.onModuleInit();
    ownerId = (await prisma.user.create({ data: { email: 'w@example.com', passwordHash: 'x' } }))
      .id;
    repo = new PingLogRepository(prisma);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  beforeEach(() => {
    writer = new PingLogWriter(new InProcessEventBus({}, quiet), repo, config);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  async function site(): Promise<string> {
    const w = await prisma.website.create({
      data: {
        ownerId,
        name: 's',
        url: 'https://example.com',
        intervalMs: 60_000,
        timeoutMs: 5_000,
      },
    });
    return w.id;
  }

  function log(siteId: string, over: Partial<HealthLogV1> = {}): HealthLogV1 {
    return {
      v: 1,
      siteId,
      round: 1,
      validatorId: 'v1',
      region: 'eu',
      up: true,
      latencyMs: 100,
      httpStatus: 200,
      failure: null,
      error: null,
      phases: { dns: 1, connect: 2, firstByte: 50, total: 100 },
      checkedAt: new Date(base + 60_000).toISOString(),
      ...over,
    };
  }

  const hourly = (websiteId: string) =>
    prisma.pingRollupHourly.findMany({ where: { websiteId }, orderBy: [{ region: 'asc' }] });

  it('stores a batch and rolls it up per region and for all regions, hourly and daily', async () => {
    const id = await site();
    await Promise.all([
      writer.write(log(id, { round: 1, validatorId: 'v1', region: 'eu', latencyMs: 5 })),
      writer.write(log(id, { round: 1, validatorId: 'v2', region: 'us', latencyMs: 120 })),
      writer.write(
        log(id, {
          round: 2,
          validatorId: 'v1',
          region: 'eu',
          up: false,
          latencyMs: 9_000,
          httpStatus: null,
          failure: 'TIMEOUT',
          error: 'timed out',
        }),
      ),
      writer.write(
        log(id, {
          round: 3,
          validatorId: 'v1',
          region: 'eu',
          latencyMs: 70_000,
          checkedAt: new Date(base + HOUR + 5).toISOString(),
        }),
      ),
    ]);
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(4);
    const rows = await hourly(id);
    const at = (region: string, start: number) =>
      rows.find((r) => r.region === region && r.bucketStart.getTime() === start);
    // bucket 0 = [0,10), 5 = [100,150), 21 = [60000, ∞)
    expect(at('*', base)).toMatchObject({
      checks: 3,
      upChecks: 2,
      latencySumMs: 125n,
      latencyCount: 2,
      latencyMaxMs: 120,
    });
    expect(at('*', base)!.latencyHist[0]).toBe(1);
    expect(at('*', base)!.latencyHist[5]).toBe(1);
    expect(at('*', base)!.latencyHist.reduce((a, b) => a + b)).toBe(2);
    expect(at('eu', base)).toMatchObject({ checks: 2, upChecks: 1, latencySumMs: 5n });
    expect(at('us', base)).toMatchObject({ checks: 1, upChecks: 1, latencySumMs: 120n });
    expect(at('eu', base + HOUR)).toMatchObject({ checks: 1, latencyMaxMs: 70_000 });
    expect(at('eu', base + HOUR)!.latencyHist[21]).toBe(1);
    expect(at('eu', base)!.latencyHist).toHaveLength(22);

    const day = Math.floor(base / 86_400_000) * 86_400_000;
    const daily = await prisma.pingRollupDaily.findMany({ where: { websiteId: id } });
    const dayStar = daily.find((d) => d.region === '*' && d.bucketStart.getTime() === day);
    // The hour after `base` may fall on the next day; the sum over days is exact either way.
    expect(daily.filter((d) => d.region === '*').reduce((s, d) => s + d.checks, 0)).toBe(4);
    expect(dayStar).toBeDefined();
  });

  it('counts a redelivered log once, in another batch and within the same batch', async () => {
    const id = await site();
    const one = log(id, { round: 7 });
    await writer.write(one);
    await Promise.all([writer.write(one), writer.write(one), writer.write({ ...one })]);
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(1);
    const star = (await hourly(id)).find((r) => r.region === '*')!;
    expect(star.checks).toBe(1);
    expect(star.latencyHist.reduce((a, b) => a + b)).toBe(1);
    expect(writer.stats()).toMatchObject({ inserted: 1, duplicates: 3 });
  });

  it('writes logs that trickle in within the linger as one batch, a full batch at once', async () => {
    const id = await site();
    const started = Date.now();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      writes.push(writer.write(log(id, { round: 100 + i })));
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(writes);
    expect(writer.stats().batches).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LINGER_MS);
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(5);

    const big = Array.from({ length: 600 }, (_, i) => log(id, { round: 1_000 + i }));
    const t0 = Date.now();
    await Promise.all(big.map((b) => writer.write(b)));
    expect(Date.now() - t0).toBeLessThan(LINGER_MS);
    expect(writer.stats()).toMatchObject({ batches: 2, inserted: 605 });
  });

  it('writes what lingers when it shuts down, before it returns', async () => {
    const id = await site();
    const writes = [0, 1, 2].map((i) => writer.write(log(id, { round: 50 + i })));
    await writer.onModuleDestroy();
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(3);
    await Promise.all(writes);
  });

  it('drops malformed payloads, counting them, without throwing', async () => {
    const id = await site();
    const bad: unknown[] = [
      null,
      'text',
      42,
      [],
      {},
      { ...log(id), v: 2 },
      { ...log(id), siteId: 'not-a-uuid' },
      { ...log(id), round: -1 },
      { ...log(id), round: 1.5 },
      { ...log(id), up: 'yes' },
      { ...log(id), latencyMs: '100' },
      { ...log(id), region: 'x'.repeat(65) },
      { ...log(id), validatorId: 'bad id' },
      { ...log(id), failure: 'EXPLODED' },
      { ...log(id), checkedAt: 'yesterday' },
      { ...log(id), phases: null },
    ];
    for (const b of bad) await expect(writer.write(b)).resolves.toBeUndefined();
    expect(writer.stats().dropped.invalid).toBe(bad.length);
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(0);
  });

  it('cleans what it can store: NUL bytes and over-long error texts', async () => {
    const id = await site();
    await writer.write(log(id, { up: false, error: `a\u0000b${'x'.repeat(3_000)}` }));
    const row = await prisma.pingLog.findFirstOrThrow({ where: { websiteId: id } });
    expect(row.error).toHaveLength(1_024);
    expect(row.error!.startsWith('abx')).toBe(true);
  });

  it('drops logs of unknown sites and logs past retention or from the future', async () => {
    const id = await site();
    const now = Date.now();
    await writer.write(log(randomUUID()));
    await writer.write(log(id, { checkedAt: new Date(now - 31 * 86_400_000).toISOString() }), now);
    await writer.write(log(id, { checkedAt: new Date(now + HOUR).toISOString() }), now);
    expect(writer.stats().dropped).toMatchObject({ unknownSite: 1, stale: 1, future: 1 });
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(0);
  });

  it('drops only the unstorable row of a batch and retries on a transient fault', async () => {
    const id = await site();
    const real = repo.insertBatch.bind(repo);
    const spy = jest.spyOn(repo, 'insertBatch').mockImplementation(async (rows) => {
      if (rows.some((r) => r.round === 666)) {
        throw Object.assign(new Error('value out of range'), {
          meta: { driverAdapterError: { cause: { originalCode: '22003' } } },
        });
      }
      return real(rows);
    });
    await Promise.all([10, 666, 11].map((round) => writer.write(log(id, { round }))));
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(2);
    expect(writer.stats().dropped.unstorable).toBe(1);

    spy.mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    await expect(writer.write(log(id, { round: 12 }))).rejects.toThrow('Connection terminated');
    spy.mockRestore();
  });

  it('consumes the health-logs topic in batches; a poison event does not block a partition', async () => {
    const ids = [await site(), await site(), await site(), await site()];
    const bus = new InProcessEventBus({ partitions: 4, handlerRetry: { initialMs: 10 } }, quiet);
    const w = new PingLogWriter(bus, repo, config);
    await w.onModuleInit();
    const events = Array.from({ length: 300 }, (_, i) => {
      const id = ids[i % ids.length];
      return {
        key: id,
        value: i === 5 ? { broken: true } : log(id, { round: 100 + i, validatorId: `v${i % 5}` }),
      };
    });
    await bus.publish('healthLogs', events.slice(0, 150));
    await bus.publish('healthLogs', events.slice(150));
    const stored = () => prisma.pingLog.count({ where: { websiteId: { in: ids } } });
    await waitFor(async () => (await stored()) === 299);
    const stars = await prisma.pingRollupHourly.findMany({
      where: { websiteId: { in: ids }, region: '*' },
    });
    expect(stars.reduce((s, r) => s + r.checks, 0)).toBe(299);
    expect(w.stats().dropped.invalid).toBe(1);
    // Events of several partitions arriving together share a write.
    expect(w.stats().batches).toBeLessThan(299);
    await w.onModuleDestroy();
    await bus.close();
  });

  it('retention deletes raw rows past the horizon in batches and keeps the rollups', async () => {
    const id = await site();
    const now = Date.now();
    const old = now - 40 * 86_400_000;
    // Written as if at `old`, so the writer accepts them; the purge runs at `now`.
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        writer.write(log(id, { round: 500 + i, checkedAt: new Date(old + i).toISOString() }), old),
      ),
    );
    await writer.write(log(id, { round: 999, checkedAt: new Date(now - HOUR).toISOString() }), now);
    const retention = new PingLogRetention(repo, config);
    Object.assign(retention.options, { batchSize: 10, pauseMs: 0 });
    expect(await retention.runOnce(now)).toBe(25);
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(1);
    const daily = await prisma.pingRollupDaily.findMany({ where: { websiteId: id, region: '*' } });
    expect(daily.reduce((s, d) => s + d.checks, 0)).toBe(26);
    await retention.onModuleDestroy();
  });

  it('deleting a site removes its logs and rollups; later logs for it are dropped', async () => {
    const id = await site();
    await writer.write(log(id, { round: 1 }));
    await prisma.website.delete({ where: { id } });
    await writer.write(log(id, { round: 2 }));
    expect(await prisma.pingLog.count({ where: { websiteId: id } })).toBe(0);
    expect(await prisma.pingRollupHourly.count({ where: { websiteId: id } })).toBe(0);
    expect(writer.stats().dropped.unknownSite).toBe(1);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
