// A site's summary from rollups, against hand-computed figures, with a pinned clock:
// window edges (hourly at the leading edge, daily after), per-region figures, the p95
// estimate, incident counts and clipped downtime, and where the status comes from.
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@/config/app-config';
import { PrismaService } from '@/infra/database/prisma.service';
import { InProcessEventBus } from '@/infra/events/in-process-event-bus';
import { PingHistoryRepository } from '@/modules/history/ping-history.repository';
import { SummaryRepository } from '@/modules/history/summary.repository';
import { SummaryService, windowBounds } from '@/modules/history/summary.service';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';
import { PingLogRepository } from '@/modules/ping-logs/ping-log.repository';
import { PingLogWriter } from '@/modules/ping-logs/ping-log.writer';
import { createTestDatabase, TestDatabase } from '../support/db';

jest.setTimeout(60_000);

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Thursday 15 Jan 2026, 10:30 UTC */
const NOW = Date.UTC(2026, 0, 15, 10, 30);
const at = (iso: string) => Date.parse(iso);
const config = { db: { pingLogRetentionDays: 3650 } } as AppConfig;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

describe('site summary from rollups', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let writer: PingLogWriter;
  let summaries: SummaryService;
  let ownerId: string;
  let siteId: string;
  let round = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
    await prisma.onModuleInit();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    writer = new PingLogWriter(
      new InProcessEventBus({}, quiet),
      new PingLogRepository(prisma),
      config,
    );
    summaries = new SummaryService(
      new SummaryRepository(prisma),
      new PingHistoryRepository(prisma),
    );
    ownerId = (await prisma.user.create({ data: { email: 's@example.com', passwordHash: 'x' } }))
      .id;
    siteId = await newSite();

    // One check per entry: [when, validator, region, up, latencyMs]
    const checks: [string, string, string, boolean, number][] = [
      // A: 20 min ago
      ['2026-01-15T10:10:00Z', 'v1', 'eu', true, 100],
      ['2026-01-15T10:10:00Z', 'v2', 'eu', true, 200],
      ['2026-01-15T10:10:00Z', 'v3', 'us', false, 9_000],
      ['2026-01-15T10:10:00Z', 'v4', 'us', true, 300],
      // B: inside the 24 h window, whose first bucket is 14 Jan 10:00
      ['2026-01-14T10:05:00Z', 'v1', 'eu', true, 50],
      ['2026-01-14T10:05:00Z', 'v3', 'us', true, 50],
      // C: one minute before that bucket: in 7 d, not in 24 h
      ['2026-01-14T09:59:00Z', 'v1', 'eu', false, 10_000],
      // D: 7 d
      ['2026-01-10T12:00:00Z', 'v1', 'eu', true, 1_000],
      // E: 30 d
      ['2025-12-20T08:00:00Z', 'v3', 'us', false, 10_000],
      ['2025-12-20T08:01:00Z', 'v3', 'us', false, 10_000],
      // F: 90 d
      ['2025-11-01T00:00:00Z', 'v1', 'eu', true, 20],
      // G: before 90 d (from = 17 Oct 10:00): only "all"
      ['2025-09-01T00:00:00Z', 'v1', 'eu', false, 10_000],
    ];
    await Promise.all(
      checks.map(([when, v, region, up, ms]) => check(siteId, when, v, region, up, ms)),
    );

    await prisma.incident.createMany({
      data: [
        // open, global: 90 min inside every window
        { websiteId: siteId, startedAt: new Date(at('2026-01-15T09:00:00Z')), startRound: 1 },
        // global, straddles the 24 h edge: 60 min in 24 h, 120 min in 7 d
        {
          websiteId: siteId,
          startedAt: new Date(at('2026-01-14T09:00:00Z')),
          endedAt: new Date(at('2026-01-14T11:00:00Z')),
          startRound: 2,
          endRound: 3,
        },
        // region us only, 20 min
        {
          websiteId: siteId,
          region: 'us',
          startedAt: new Date(at('2026-01-15T10:00:00Z')),
          endedAt: new Date(at('2026-01-15T10:20:00Z')),
          startRound: 4,
          endRound: 5,
        },
      ],
    });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  async function newSite(): Promise<string> {
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

  function check(
    id: string,
    iso: string,
    validatorId: string,
    region: string,
    up: boolean,
    latencyMs: number,
  ): Promise<void> {
    const log: HealthLogV1 = {
      v: 1,
      siteId: id,
      round: ++round,
      validatorId,
      region,
      up,
      latencyMs,
      httpStatus: up ? 200 : null,
      failure: up ? null : 'TIMEOUT',
      error: up ? null : 'timed out',
      phases: { total: latencyMs },
      checkedAt: iso,
    };
    return writer.write(log, NOW);
  }

  it('aligns windows on hour boundaries and switches to daily rows at the first midnight', () => {
    const b = windowBounds(NOW);
    expect(b.map((w) => [w.name, w.from?.toISOString(), w.dayFrom?.toISOString()])).toEqual([
      ['24h', '2026-01-14T10:00:00.000Z', '2026-01-15T00:00:00.000Z'],
      ['7d', '2026-01-08T10:00:00.000Z', '2026-01-09T00:00:00.000Z'],
      ['30d', '2025-12-16T10:00:00.000Z', '2025-12-17T00:00:00.000Z'],
      ['90d', '2025-10-17T10:00:00.000Z', '2025-10-18T00:00:00.000Z'],
      ['all', undefined, undefined],
    ]);
    // A window that starts at midnight takes no hourly rows at all.
    const midnight = windowBounds(Date.UTC(2026, 0, 15, 0, 0) + DAY);
    expect(midnight[0].from!.getTime()).toBe(midnight[0].dayFrom!.getTime());
  });

  it('matches hand-computed uptime, latency and incidents per window and region', async () => {
    const s = await summaries.summary(ownerId, siteId, NOW);
    const w = Object.fromEntries(s.windows.map((x) => [x.window, x]));

    // 24 h = A + B: 6 checks, 5 up; latencies of up checks 100, 200, 300, 50, 50.
    // p95: rank ⌈0.95·5⌉ = 5 lies in [300, 400) → 400, capped at the maximum 300.
    expect(w['24h']).toMatchObject({
      from: '2026-01-14T10:00:00.000Z',
      to: '2026-01-15T10:30:00.000Z',
      checks: 6,
      upChecks: 5,
      uptimePct: 83.333,
      avgLatencyMs: 140,
      p95LatencyMs: 300,
      maxLatencyMs: 300,
      incidents: 2,
      downtimeMs: (90 + 60) * MIN,
    });
    // eu: 100, 200, 50 all up → p95 rank 3 in [200, 300) → 300, capped at 200.
    // us: down, 300, 50 → 2 of 3; its own 20-minute incident.
    expect(w['24h'].regions).toEqual([
      {
        region: 'eu',
        checks: 3,
        upChecks: 3,
        uptimePct: 100,
        avgLatencyMs: 116.7,
        p95LatencyMs: 200,
        maxLatencyMs: 200,
        incidents: 0,
        downtimeMs: 0,
      },
      {
        region: 'us',
        checks: 3,
        upChecks: 2,
        uptimePct: 66.667,
        avgLatencyMs: 175,
        p95LatencyMs: 300,
        maxLatencyMs: 300,
        incidents: 1,
        downtimeMs: 20 * MIN,
      },
    ]);

    // 7 d adds C (eu down) and D (eu up, 1000 ms): 8 checks, 6 up, sum 1700 over 6.
    expect(w['7d']).toMatchObject({
      checks: 8,
      upChecks: 6,
      uptimePct: 75,
      avgLatencyMs: 283.3,
      maxLatencyMs: 1_000,
      incidents: 2,
      downtimeMs: (90 + 120) * MIN,
    });
    expect(w['7d'].regions.find((r) => r.region === 'eu')).toMatchObject({
      checks: 5,
      upChecks: 4,
      uptimePct: 80,
    });
    // 30 d adds E (2 us down); 90 d adds F (eu up, 20 ms); all adds G (eu down).
    expect(w['30d']).toMatchObject({ checks: 10, upChecks: 6, uptimePct: 60 });
    expect(w['30d'].regions.find((r) => r.region === 'us')).toMatchObject({
      checks: 5,
      upChecks: 2,
      uptimePct: 40,
    });
    expect(w['90d']).toMatchObject({ checks: 11, upChecks: 7, uptimePct: 63.636 });
    expect(w['90d'].avgLatencyMs).toBe(Math.round((1720 / 7) * 10) / 10);
    expect(w.all).toMatchObject({ from: null, checks: 12, upChecks: 7, uptimePct: 58.333 });
    expect(w.all.regions.find((r) => r.region === 'eu')).toMatchObject({
      checks: 7,
      upChecks: 5,
      uptimePct: 71.429,
    });
  });

  it('interpolates p95 inside its histogram bucket', async () => {
    const id = await newSite();
    // 20 checks in [100, 150): rank 19 → 100 + 19/20 · 50 = 147.5 (max 149 does not cap it)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        check(id, '2026-01-15T10:00:00Z', `v${i}`, 'eu', true, i === 0 ? 149 : 100 + i),
      ),
    );
    const s = await summaries.summary(ownerId, id, NOW);
    expect(s.windows[0]).toMatchObject({ checks: 20, p95LatencyMs: 147.5, maxLatencyMs: 149 });
  });

  it('reports the committed status, else the last round, else UNKNOWN', async () => {
    await prisma.siteStatus.create({
      data: {
        websiteId: siteId,
        verdict: 'DOWN',
        since: new Date(at('2026-01-15T09:00:00Z')),
        lastRound: 10n,
        lastLogIndex: 3n,
        regionStatus: { eu: 'UP', us: { verdict: 'DOWN' }, junk: 7 },
      },
    });
    const committed = await summaries.summary(ownerId, siteId, NOW);
    expect(committed.status).toEqual({
      verdict: 'DOWN',
      since: '2026-01-15T09:00:00.000Z',
      source: 'consensus',
      paused: false,
      regions: { eu: 'UP', us: 'DOWN' },
    });

    const fresh = await newSite();
    expect((await summaries.summary(ownerId, fresh, NOW)).status).toMatchObject({
      verdict: 'UNKNOWN',
      source: 'none',
      since: null,
    });
    expect((await summaries.summary(ownerId, fresh, NOW)).windows[0]).toMatchObject({
      checks: 0,
      uptimePct: null,
      avgLatencyMs: null,
      p95LatencyMs: null,
      regions: [],
    });
    const r = ++round;
    await Promise.all(
      [true, false, false].map((up, i) =>
        writer.write(
          {
            v: 1,
            siteId: fresh,
            round: r,
            validatorId: `v${i}`,
            region: 'eu',
            up,
            latencyMs: 10,
            httpStatus: null,
            failure: up ? null : 'CONNECT',
            error: null,
            phases: { total: 10 },
            checkedAt: '2026-01-15T10:29:00Z',
          },
          NOW,
        ),
      ),
    );
    expect((await summaries.summary(ownerId, fresh, NOW)).status).toMatchObject({
      verdict: 'DOWN',
      source: 'latest-checks',
    });
  });

  it("answers 404 for another owner's site", async () => {
    const other = (
      await prisma.user.create({ data: { email: 'o@example.com', passwordHash: 'x' } })
    ).id;
    await expect(summaries.summary(other, siteId, NOW)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
