import type { Decision, Verdict } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertPublisher, NewAlert } from '@/modules/alerts/alert.publisher';
import { ApplyRing } from '@/modules/consensus/apply-ring';
import { DecisionProjector } from '@/modules/projection/decision.projector';
import { SiteDirectory } from '@/modules/projection/site-directory';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The leader's projector against a real PostgreSQL: rows, site_status, incidents,
 * cursor and alerts from committed decisions; a second leader replaying the same
 * entries changes nothing; a failing database is retried, not skipped.
 */
jest.setTimeout(60_000);

function decision(
  siteId: string,
  round: number,
  verdict: Verdict,
  regions: Record<string, Verdict> = {},
): Decision {
  const down = verdict === 'DOWN' ? 2 : 0;
  return {
    siteId,
    url: 'http://example.com/',
    round,
    verdict,
    regionVerdicts: regions,
    tally: { up: 2 - down, down, total: 2, quorum: 2, byRegion: {} },
    voters: ['v1', 'v2'],
    decidedAt: 1_700_000_000_000 + round * 1_000,
  };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DecisionProjector', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let siteId: string;
  const ring = new ApplyRing(100);
  const published: NewAlert[] = [];
  const alerts = {
    publish: (a: NewAlert) => {
      published.push(a);
      return Promise.resolve({} as never);
    },
  } as unknown as AlertPublisher;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 2, embedded: false });
    await prisma.$connect();
    const user = await prisma.user.create({ data: { email: 'p@example.com', passwordHash: 'x' } });
    const site = await prisma.website.create({
      data: {
        ownerId: user.id,
        name: 's',
        url: 'http://example.com/',
        intervalMs: 10_000,
        timeoutMs: 1_000,
      },
    });
    siteId = site.id;
    const sm = new SiteStatusMachine();
    const seq: [number, Verdict, Record<string, Verdict>][] = [
      [1, 'UP', {}],
      [2, 'DOWN', {}],
      [3, 'DOWN', {}],
      [4, 'UP', {}],
      [5, 'UP', { eu: 'DOWN' }],
      [6, 'UP', { eu: 'UP' }],
    ];
    seq.forEach(([round, verdict, regions], i) =>
      ring.push({
        index: 10 + i,
        term: 1,
        result: sm.applyDecision(decision(siteId, round, verdict, regions)),
      }),
    );
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  async function counts() {
    return {
      decisions: await prisma.decision.count({ where: { websiteId: siteId } }),
      incidents: await prisma.incident.count({ where: { websiteId: siteId } }),
      open: await prisma.incident.count({ where: { websiteId: siteId, endedAt: null } }),
      cursor: Number(
        (await prisma.projectionCursor.findUnique({ where: { name: 'decisions' } }))?.lastIndex ??
          -1,
      ),
    };
  }

  function leader(p: PrismaService = prisma) {
    const projector = new DecisionProjector(p, new SiteDirectory(prisma));
    projector.bind(ring, () => true, alerts);
    return projector;
  }

  it('projects rows, status, incidents, cursor and one alert per transition', async () => {
    const p = leader();
    p.leadershipChanged();
    await until(async () => (await counts()).cursor === 15);
    expect(await counts()).toEqual({ decisions: 6, incidents: 2, open: 0, cursor: 15 });
    const status = await prisma.siteStatus.findUnique({ where: { websiteId: siteId } });
    expect(status).toMatchObject({ verdict: 'UP', lastRound: 6n, lastLogIndex: 15n });
    expect(published.map((a) => `${a.kind}:${a.region ?? '*'}:${a.decisionLogIndex}`)).toEqual([
      'DOWN:*:11',
      'RECOVERED:*:13',
      'REGION_DOWN:eu:14',
      'REGION_RECOVERED:eu:15',
    ]);
    p.onModuleDestroy();
  });

  it('a new leader replaying from an old cursor duplicates nothing', async () => {
    await prisma.projectionCursor.update({ where: { name: 'decisions' }, data: { lastIndex: 9 } });
    const p = leader();
    p.leadershipChanged();
    await until(async () => (await counts()).cursor === 15);
    expect(await counts()).toEqual({ decisions: 6, incidents: 2, open: 0, cursor: 15 });
    const status = await prisma.siteStatus.findUnique({ where: { websiteId: siteId } });
    expect(status).toMatchObject({ lastRound: 6n, lastLogIndex: 15n });
    // Alerts are re-published with the same dedup keys; AlertPublisher keeps one row per key.
    const keys = published.map((a) => `${a.kind}:${a.round}:${a.region ?? '*'}`);
    expect(new Set(keys).size).toBe(4);
    p.onModuleDestroy();
  });

  it('retries with backoff while the database fails, then catches up', async () => {
    const sm = new SiteStatusMachine();
    for (let r = 1; r <= 6; r++) sm.applyDecision(decision(siteId, r, 'UP'));
    ring.push({ index: 16, term: 2, result: sm.applyDecision(decision(siteId, 7, 'DOWN')) });
    let failures = 2;
    const flaky = new Proxy(prisma, {
      get(target, prop, receiver) {
        if (prop === '$transaction' && failures > 0) {
          return () => {
            failures--;
            return Promise.reject(new Error('connection refused (simulated)'));
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const p = leader(flaky);
    p.leadershipChanged();
    await until(async () => (await counts()).cursor === 16);
    expect(p.stats.failures).toBe(2);
    expect(await counts()).toEqual({ decisions: 7, incidents: 3, open: 1, cursor: 16 });
    p.onModuleDestroy();
  });

  it('does nothing on a follower', async () => {
    const p = new DecisionProjector(prisma, new SiteDirectory(prisma));
    p.bind(ring, () => false, alerts);
    await prisma.projectionCursor.update({ where: { name: 'decisions' }, data: { lastIndex: 9 } });
    p.leadershipChanged();
    await new Promise((r) => setTimeout(r, 200));
    expect((await counts()).cursor).toBe(9);
    expect(p.stats.projected).toBe(0);
  });
});
