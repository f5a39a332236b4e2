import {
  encodeCommand,
  type ConsensusCommand,
  type Decision,
  type Verdict,
} from '@/core/consensus/decision';
import type { CommittedEntry, CommittedLog } from '@/core/pipeline/projection.ports';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertPublisher, NewAlert } from '@/modules/alerts/alert.publisher';
import { DecisionProjector } from '@/modules/projection/decision.projector';
import { ProjectionAlerts } from '@/modules/projection/projection-alerts';
import { PrismaProjectionStore } from '@/modules/projection/projection.store';
import { SiteDirectory } from '@/modules/projection/site-directory';
import { createTestDatabase, TestDatabase } from '../support/db';
import { waitFor } from '../support/wait';

/**
 * The leader's projector against a real PostgreSQL, over a committed log held in memory:
 * rows, site_status, incidents, cursor and alerts from committed decisions; a second
 * leader replaying the same entries changes nothing; a failing database is retried, not
 * skipped; consecutive entries share one transaction; two leaders writing overlapping
 * batches at once write each decision once.
 */
jest.setTimeout(60_000);

/** A committed log without a snapshot; indexes below `first` are other parts' entries. */
class MemoryLog implements CommittedLog {
  private readonly commands: ConsensusCommand[] = [];
  constructor(private readonly first: number) {}
  push(cmd: ConsensusCommand): number {
    this.commands.push(cmd);
    return this.first + this.commands.length - 1;
  }
  snapshot() {
    return { index: 0, image: new Uint8Array() };
  }
  committedFrom(from: number, max: number): CommittedEntry[] {
    const out: CommittedEntry[] = [];
    const last = this.first + this.commands.length - 1;
    for (let i = from; i < from + max && i <= last; i++)
      out.push({
        index: i,
        term: 1,
        command: i < this.first ? null : encodeCommand(this.commands[i - this.first]),
      });
    return out;
  }
}

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

function recordingAlerts(published: NewAlert[]): AlertPublisher {
  return {
    publish: (a: NewAlert) => {
      published.push(a);
      return Promise.resolve({} as never);
    },
  } as unknown as AlertPublisher;
}

/** The prisma client with $transaction counted, or failing the first `failures` times. */
function instrumented(prisma: PrismaService, failures = 0) {
  const counts = { transactions: 0 };
  const client = new Proxy(prisma, {
    get(target, prop, receiver) {
      if (prop === '$transaction') {
        counts.transactions++;
        if (failures > 0) {
          failures--;
          return () => Promise.reject(new Error('connection refused (simulated)'));
        }
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { client, counts };
}

async function cursorOf(prisma: PrismaService): Promise<number> {
  const row = await prisma.projectionCursor.findUnique({ where: { name: 'decisions' } });
  return Number(row?.lastIndex ?? -1);
}

describe('DecisionProjector', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let siteId: string;
  const log = new MemoryLog(10);
  const published: NewAlert[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
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
    const seq: [number, Verdict, Record<string, Verdict>][] = [
      [1, 'UP', {}],
      [2, 'DOWN', {}],
      [3, 'DOWN', {}],
      [4, 'UP', {}],
      [5, 'UP', { eu: 'DOWN' }],
      [6, 'UP', { eu: 'UP' }],
    ];
    for (const [round, verdict, regions] of seq)
      log.push({ t: 'decision', decision: decision(siteId, round, verdict, regions) });
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
      cursor: await cursorOf(prisma),
    };
  }

  function leader(client: PrismaService = prisma) {
    const p = new DecisionProjector(new PrismaProjectionStore(client));
    p.start(log, new ProjectionAlerts(recordingAlerts(published), new SiteDirectory(prisma)));
    p.leadershipChanged(true);
    return p;
  }

  const projectedThrough = (index: number) =>
    waitFor(`cursor ${index}`, 10_000, async () => (await cursorOf(prisma)) === index);

  it('projects rows, status, incidents, cursor and one alert per transition', async () => {
    const p = leader();
    await projectedThrough(15);
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
    await projectedThrough(15);
    expect(await counts()).toEqual({ decisions: 6, incidents: 2, open: 0, cursor: 15 });
    const status = await prisma.siteStatus.findUnique({ where: { websiteId: siteId } });
    expect(status).toMatchObject({ lastRound: 6n, lastLogIndex: 15n });
    // Alerts are re-published with the same dedup keys; AlertPublisher keeps one row per key.
    const keys = published.map((a) => `${a.kind}:${a.round}:${a.region ?? '*'}`);
    expect(new Set(keys).size).toBe(4);
    p.onModuleDestroy();
  });

  it('retries with backoff while the database fails, then catches up', async () => {
    log.push({ t: 'decision', decision: decision(siteId, 7, 'DOWN') });
    const { client } = instrumented(prisma, 2);
    const p = leader(client);
    await projectedThrough(16);
    expect(p.stats.failures).toBe(2);
    expect(await counts()).toEqual({ decisions: 7, incidents: 3, open: 1, cursor: 16 });
    p.onModuleDestroy();
  });

  it('does nothing on a follower but learn the floor', async () => {
    await prisma.projectionCursor.update({ where: { name: 'decisions' }, data: { lastIndex: 12 } });
    const p = new DecisionProjector(new PrismaProjectionStore(prisma));
    p.start(log, null);
    await waitFor('floor read', 5_000, () => Promise.resolve(p.floor() === 12));
    expect(await cursorOf(prisma)).toBe(12);
    expect(p.stats.projected).toBe(0);
    p.onModuleDestroy();
  });
});

describe('DecisionProjector with DecisionBatch entries', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  const ids: string[] = [];
  const published: NewAlert[] = [];
  const N = 300;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ connectionString: db.url, poolSize: 4, embedded: false });
    await prisma.$connect();
    const user = await prisma.user.create({ data: { email: 'b@example.com', passwordHash: 'x' } });
    for (let i = 0; i < N; i++) {
      const site = await prisma.website.create({
        data: {
          ownerId: user.id,
          name: `s${i}`,
          url: `http://e${i}.example/`,
          intervalMs: 10_000,
          timeoutMs: 1_000,
        },
      });
      ids.push(site.id);
    }
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  const batch = (round: number, verdict: Verdict): ConsensusCommand => ({
    t: 'batch',
    decisions: ids.map((id) => decision(id, round, verdict)),
  });

  it('writes consecutive batch entries (rows, statuses, incidents, cursor) in one transaction, once', async () => {
    const log = new MemoryLog(20);
    log.push(batch(1, 'UP'));
    log.push(batch(2, 'DOWN'));
    const run = async () => {
      const { client, counts } = instrumented(prisma);
      const p = new DecisionProjector(new PrismaProjectionStore(client));
      p.start(log, new ProjectionAlerts(recordingAlerts(published), new SiteDirectory(prisma)));
      p.leadershipChanged(true);
      await waitFor('cursor 21', 20_000, async () => (await cursorOf(prisma)) === 21);
      p.onModuleDestroy();
      return counts.transactions;
    };
    expect(await run()).toBe(1); // both entries, 600 decisions: one transaction
    const rows = await prisma.decision.findMany({
      where: { logIndex: 21n },
      select: { batchPos: true },
    });
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.batchPos)).size).toBe(N);
    expect(await prisma.decision.count()).toBe(2 * N);
    expect(await prisma.siteStatus.count({ where: { verdict: 'DOWN', lastLogIndex: 21n } })).toBe(
      N,
    );
    expect(await prisma.incident.count({ where: { endedAt: null } })).toBe(N);
    expect(published.filter((a) => a.kind === 'DOWN')).toHaveLength(N);
    // A new leader from an old cursor: nothing twice.
    await prisma.projectionCursor.update({ where: { name: 'decisions' }, data: { lastIndex: 0 } });
    await run();
    expect(await prisma.decision.count()).toBe(2 * N);
    expect(await prisma.incident.count()).toBe(N);
    expect(new Set(published.map((a) => `${a.siteId}:${a.kind}:${a.round}`)).size).toBe(N);
  });

  it('two leaders writing overlapping batches at once write each decision once', async () => {
    const log = new MemoryLog(30);
    log.push(batch(3, 'UP'));
    log.push(batch(4, 'DOWN'));
    log.push(batch(5, 'UP'));
    const store = new PrismaProjectionStore(prisma);
    const entries = log.committedFrom(30, 3);
    const { Projection } = await import('@/core/pipeline/projection');
    // The deposed leader's batch 30..31 and its successor's 30..32: both read cursor 29.
    const build = (from: number, to: number) => {
      const p = new Projection({
        snapshot: () => ({ index: 29, image: new Uint8Array() }),
        committedFrom: (f, max) =>
          entries.filter((e) => e.index >= f && e.index <= to).slice(0, max),
      });
      p.lead();
      p.next(0);
      p.cursorRead(1, from - 1, 0);
      let step = p.next(0);
      while (step.kind === 'continue') step = p.next(0);
      if (step.kind !== 'publish' && step.kind !== 'write') throw new Error(step.kind);
      return step.batch;
    };
    await prisma.projectionCursor.update({ where: { name: 'decisions' }, data: { lastIndex: 29 } });
    const old = build(30, 31);
    const next = build(30, 32);
    const before = await prisma.decision.count();
    await Promise.all([store.write(old), store.write(next)]);
    expect(await prisma.decision.count()).toBe(before + 3 * N);
    // The incidents still open from round 2 were closed once, by round 5; none opened twice.
    expect(await prisma.incident.count()).toBe(N);
    expect(await prisma.incident.count({ where: { endRound: 5n } })).toBe(N);
    expect(await cursorOf(prisma)).toBe(32);
  });
});
