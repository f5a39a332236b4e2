// Every model survives a create / read / update / delete through the generated client on PrismaPg,
// against a database that DatabaseModule itself migrated on boot: the SQL, the schema and the adapter agree.
import { Test, TestingModule } from '@nestjs/testing';
import { loadConfig } from '@/config/app-config';
import { ConfigModule } from '@/config/config.module';
import { Prisma } from '@/generated/prisma/client';
import { DatabaseModule } from '@/infra/database/database.module';
import { PrismaService } from '@/infra/database/prisma.service';
import { createTestDatabase, TestDatabase } from '../support/db';

jest.setTimeout(60_000);

const at = (iso: string) => new Date(iso);

interface Parents {
  userId: string;
  websiteId: string;
  alertId: string;
  channelId: string;
  pageId: string;
}

interface Case {
  create(p: Parents): Record<string, unknown>;
  where(row: any): Record<string, unknown>;
  update: Record<string, unknown>;
}

const cases: Record<Prisma.ModelName, Case> = {
  User: {
    create: () => ({ email: 'roundtrip@example.com', passwordHash: 'scrypt$abc' }),
    where: (r) => ({ id: r.id }),
    update: { passwordHash: 'scrypt$def' },
  },
  Website: {
    create: (p) => ({
      ownerId: p.userId,
      name: 'Example',
      url: 'https://example.com/health',
      intervalMs: 30_000,
      timeoutMs: 5_000,
      expectedStatus: [200, 204],
      keyword: 'ok',
      paused: true,
    }),
    where: (r) => ({ id: r.id }),
    update: { paused: false, expectedStatus: [200] },
  },
  Validator: {
    create: () => ({
      id: 'validator-eu-1',
      region: 'eu-west',
      publicKey: 'MCowBQYDK2VwAyEA',
      address: '10.0.0.1:3000',
      lastSeenAt: at('2026-11-28T10:00:00.123Z'),
    }),
    where: (r) => ({ id: r.id }),
    update: { lastSeenAt: at('2026-11-28T10:00:05.456Z') },
  },
  PingLog: {
    create: (p) => ({
      websiteId: p.websiteId,
      validatorId: 'validator-eu-1',
      region: 'eu-west',
      round: 9_007_199_254_740_993n, // beyond Number.MAX_SAFE_INTEGER
      up: false,
      latencyMs: 812,
      httpStatus: 503,
      failure: 'HTTP_STATUS',
      error: 'status 503',
      phases: { dns: 3.5, connect: 20, tls: 41, firstByte: 800, total: 812 },
      checkedAt: at('2026-11-28T10:00:00.001Z'),
    }),
    where: (r) => ({ id: r.id }),
    update: { failure: null, up: true, phases: { total: 1 } },
  },
  Decision: {
    create: (p) => ({
      logIndex: 42n,
      term: 3n,
      websiteId: p.websiteId,
      round: 1_000n,
      verdict: 'DOWN',
      regionVerdicts: { 'eu-west': 'DOWN', 'us-east': 'UP' },
      tally: { up: 1, down: 2, n: 3 },
      voters: ['validator-eu-1', 'validator-us-1'],
      decidedAt: at('2026-11-28T10:00:01.500Z'),
    }),
    where: (r) => ({ logIndex_batchPos: { logIndex: r.logIndex, batchPos: r.batchPos } }),
    update: { verdict: 'UNKNOWN', voters: [] },
  },
  Alert: {
    create: (p) => ({
      dedupKey: `${p.websiteId}:1000:REGION_DOWN:eu-west`,
      websiteId: p.websiteId,
      kind: 'REGION_DOWN',
      region: 'eu-west',
      round: 1_000n,
      decisionLogIndex: 42n,
      payload: { message: 'eu-west cannot reach example.com', nested: [1, 'two', null] },
    }),
    where: (r) => ({ dedupKey: r.dedupKey }),
    update: { region: null },
  },
  AlertDelivery: {
    create: (p) => ({
      alertId: p.alertId,
      channel: 'EMAIL',
      status: 'SENT',
      attempts: 2,
      messageId: '<abc@uptime>',
      lastError: 'timeout on first try',
      sentAt: at('2026-11-28T10:00:02.000Z'),
    }),
    where: (r) => ({ alertId_channel: { alertId: r.alertId, channel: r.channel } }),
    update: { status: 'FAILED', attempts: { increment: 1 } },
  },
  PingRollupHourly: {
    create: (p) => ({
      websiteId: p.websiteId,
      region: '*',
      bucketStart: at('2026-11-28T10:00:00.000Z'),
      checks: 120,
      upChecks: 118,
      latencySumMs: 12_345_678_901n,
      latencyCount: 118,
      latencyMaxMs: 2_000,
      latencyHist: [10, 50, 40, 18, 0],
    }),
    where: (r) => ({
      websiteId_region_bucketStart: {
        websiteId: r.websiteId,
        region: r.region,
        bucketStart: r.bucketStart,
      },
    }),
    update: { checks: { increment: 1 }, latencyHist: [11, 50, 40, 18, 0] },
  },
  PingRollupDaily: {
    create: (p) => ({
      websiteId: p.websiteId,
      region: 'us-east',
      bucketStart: at('2026-11-28T00:00:00.000Z'),
      checks: 2_880,
      upChecks: 2_870,
      latencySumMs: 99n,
      latencyCount: 2_870,
      latencyMaxMs: 3_000,
      latencyHist: [],
    }),
    where: (r) => ({
      websiteId_region_bucketStart: {
        websiteId: r.websiteId,
        region: r.region,
        bucketStart: r.bucketStart,
      },
    }),
    update: { upChecks: 2_871 },
  },
  SiteStatus: {
    create: (p) => ({
      websiteId: p.websiteId,
      verdict: 'UP',
      since: at('2026-11-28T09:00:00.000Z'),
      lastRound: 1_000n,
      lastLogIndex: 42n,
      regionStatus: { 'eu-west': 'UP' },
    }),
    where: (r) => ({ websiteId: r.websiteId }),
    update: { verdict: 'DOWN', lastLogIndex: 43n },
  },
  Incident: {
    create: (p) => ({
      websiteId: p.websiteId,
      region: 'eu-west',
      startedAt: at('2026-11-28T09:00:00.000Z'),
      startRound: 990n,
    }),
    where: (r) => ({ id: r.id }),
    update: { endedAt: at('2026-11-28T09:30:00.000Z'), endRound: 1_020n },
  },
  ProjectionCursor: {
    create: () => ({ name: 'decisions', lastIndex: 42n }),
    where: (r) => ({ name: r.name }),
    update: { lastIndex: 43n },
  },
  NotificationChannel: {
    create: (p) => ({
      ownerId: p.userId,
      name: 'ops slack',
      type: 'SLACK',
      config: {},
      secrets: { webhookUrl: 'https://hooks.slack.com/services/T/B/X' },
      defaultKinds: ['DOWN', 'RECOVERED'],
    }),
    where: (r) => ({ id: r.id }),
    update: { state: 'FAILING', failingSince: at('2026-11-28T10:00:00.000Z'), defaultKinds: [] },
  },
  SiteNotificationRoute: {
    create: (p) => ({ websiteId: p.websiteId, channelId: p.channelId, kinds: ['REGION_DOWN'] }),
    where: (r) => ({ websiteId_channelId: { websiteId: r.websiteId, channelId: r.channelId } }),
    update: { kinds: [] },
  },
  SiteNotificationSettings: {
    create: (p) => ({ websiteId: p.websiteId, reminderEveryMinutes: 5 }),
    where: (r) => ({ websiteId: r.websiteId }),
    update: { reminderEveryMinutes: null },
  },
  NotificationDelivery: {
    create: (p) => ({
      alertId: p.alertId,
      channelId: p.channelId,
      websiteId: p.websiteId,
      seq: 2,
      kind: 'DOWN',
      round: 1n,
      incidentKey: `${p.websiteId}:*:1`,
      nextAttemptAt: at('2026-11-28T10:00:00.000Z'),
      createdAt: at('2026-11-28T10:00:00.000Z'),
      attemptLog: [{ at: '2026-11-28T10:00:00.000Z', statusCode: 500, error: 'HTTP 500', ms: 3 }],
    }),
    where: (r) => ({ id: r.id }),
    update: { status: 'SENT', lastStatusCode: 200, sentAt: at('2026-11-28T10:00:01.000Z') },
  },
  MaintenanceWindow: {
    create: (p) => ({
      ownerId: p.userId,
      websiteId: p.websiteId,
      statusPageId: p.pageId,
      title: 'weekly patching',
      cron: '0 2 * * 0',
      durationMinutes: 90,
      timeZone: 'Europe/Berlin',
    }),
    where: (r) => ({ id: r.id }),
    update: { durationMinutes: 60, activeUntil: at('2027-01-01T00:00:00.000Z') },
  },
  AlertHold: {
    create: (p) => ({
      alertId: p.alertId,
      websiteId: p.websiteId,
      heldAt: at('2026-11-28T10:00:00.000Z'),
    }),
    where: (r) => ({ alertId: r.alertId }),
    update: { releasedAt: at('2026-11-28T11:00:00.000Z'), outcome: 'RELEASED' },
  },
  StatusPage: {
    create: (p) => ({
      ownerId: p.userId,
      slug: 'acme-status',
      title: 'Acme',
      description: 'Our services',
      showUrls: false,
    }),
    where: (r) => ({ id: r.id }),
    update: { showUrls: true, description: null },
  },
  StatusPageSite: {
    create: (p) => ({ pageId: p.pageId, websiteId: p.websiteId, position: 0 }),
    where: (r) => ({ pageId_websiteId: { pageId: r.pageId, websiteId: r.websiteId } }),
    update: { position: 3 },
  },
  ApiKey: {
    create: (p) => ({
      ownerId: p.userId,
      name: 'ci',
      scope: 'READ',
      keyHash: Buffer.alloc(32, 7),
      hint: 'uk_abcdef',
      expiresAt: at('2027-01-01T00:00:00.000Z'),
    }),
    where: (r) => ({ id: r.id }),
    update: { lastUsedAt: at('2026-12-01T10:00:00.000Z'), scope: 'WRITE' },
  },
};

function delegate(prisma: PrismaService, model: Prisma.ModelName): any {
  return (prisma as any)[model[0].toLowerCase() + model.slice(1)];
}

describe('Prisma round trip on every model', () => {
  let db: TestDatabase;
  let moduleRef: TestingModule;
  let prisma: PrismaService;
  let parents: Parents;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    const config = loadConfig({ DATABASE_URL: db.url, MIGRATE_ON_BOOT: 'true', DB_POOL_SIZE: '4' });
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule],
    }).compile();
    await moduleRef.init();
    prisma = moduleRef.get(PrismaService);
    parents = await createParents(prisma);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await db?.drop();
  });

  it('covers every model in the schema', () => {
    expect(Object.keys(cases).sort()).toEqual(Object.values(Prisma.ModelName).sort());
  });

  it.each(Object.keys(cases) as Prisma.ModelName[])('%s', async (model) => {
    const c = cases[model];
    const repo = delegate(prisma, model);
    const data = c.create(parents);

    const created = await repo.create({ data });
    expect(created).toMatchObject(data);
    const where = c.where(created);
    expect(await repo.findUniqueOrThrow({ where })).toEqual(created);

    const updated = await repo.update({ where, data: c.update });
    expect(await repo.findUniqueOrThrow({ where })).toEqual(updated);
    expect(updated).not.toEqual(created);

    await repo.delete({ where });
    expect(await repo.findUnique({ where })).toBeNull();
  });

  it('answers the readiness ping', async () => {
    await expect(prisma.ping()).resolves.toBeUndefined();
  });
});

async function createParents(prisma: PrismaService): Promise<Parents> {
  const user = await prisma.user.create({
    data: { email: 'owner@example.com', passwordHash: 'x' },
  });
  const website = await prisma.website.create({
    data: {
      ownerId: user.id,
      name: 'parent',
      url: 'https://parent.example',
      intervalMs: 60_000,
      timeoutMs: 10_000,
      expectedStatus: [200],
    },
  });
  const alert = await prisma.alert.create({
    data: {
      dedupKey: 'parent-alert',
      websiteId: website.id,
      kind: 'DOWN',
      round: 1n,
      decisionLogIndex: 1n,
      payload: {},
    },
  });
  const channel = await prisma.notificationChannel.create({
    data: { ownerId: user.id, name: 'parent', type: 'WEBHOOK', config: {}, secrets: {} },
  });
  const page = await prisma.statusPage.create({
    data: { ownerId: user.id, slug: 'parent-page', title: 'Parent page' },
  });
  return {
    userId: user.id,
    websiteId: website.id,
    alertId: alert.id,
    channelId: channel.id,
    pageId: page.id,
  };
}
