import { PrismaService } from '@/infra/database/prisma.service';
import { createTestApp, signupAndLogin, TestApp } from '../support/app';

/**
 * GET /api/logs and /api/logs/stream: a user reads the decisions, alerts and ping
 * logs of their own sites only, page by page, and follows new rows as SSE.
 */
jest.setTimeout(90_000);

describe('logs API', () => {
  let t: TestApp;
  let prisma: PrismaService;
  let token: string;
  let other: string;
  let siteId: string;

  beforeAll(async () => {
    t = await createTestApp();
    prisma = t.app.get(PrismaService);
    token = await signupAndLogin(t, 'logs@example.com');
    other = await signupAndLogin(t, 'other@example.com');
    const owner = await prisma.user.findUniqueOrThrow({ where: { email: 'logs@example.com' } });
    const site = await prisma.website.create({
      data: {
        ownerId: owner.id,
        name: 's',
        url: 'http://example.com/',
        intervalMs: 10_000,
        timeoutMs: 1_000,
      },
    });
    siteId = site.id;
    for (let r = 1; r <= 5; r++) {
      await prisma.decision.create({
        data: {
          logIndex: BigInt(r),
          term: 1n,
          websiteId: siteId,
          round: BigInt(r),
          verdict: r === 3 ? 'DOWN' : 'UP',
          regionVerdicts: {},
          tally: { up: 2, down: 0, total: 2, quorum: 2 },
          voters: ['v1', 'v2'],
          decidedAt: new Date(1_700_000_000_000 + r * 1_000),
        },
      });
    }
  });
  afterAll(() => t?.close());

  const get = (path: string, bearer = token) =>
    t.http.get(path).set('authorization', `Bearer ${bearer}`);

  it('pages the decisions of my sites newest first, with filters', async () => {
    const p1 = await get('/api/logs?type=decisions&limit=2').expect(200);
    expect(p1.body.items.map((i: { round: number }) => i.round)).toEqual([5, 4]);
    const p2 = await get(`/api/logs?type=decisions&limit=2&cursor=${p1.body.nextCursor}`).expect(
      200,
    );
    expect(p2.body.items.map((i: { round: number }) => i.round)).toEqual([3, 2]);
    const p3 = await get(`/api/logs?type=decisions&limit=2&cursor=${p2.body.nextCursor}`).expect(
      200,
    );
    expect(p3.body.items.map((i: { round: number }) => i.round)).toEqual([1]);
    expect(p3.body.nextCursor).toBeNull();
    const down = await get(`/api/logs?type=decisions&verdict=DOWN&siteId=${siteId}`).expect(200);
    expect(down.body.items.map((i: { round: number }) => i.round)).toEqual([3]);
  });

  it("never shows another user's rows; bad queries are 400", async () => {
    const res = await get('/api/logs?type=decisions', other).expect(200);
    expect(res.body.items).toEqual([]);
    await get('/api/logs?type=nope').expect(400);
    await get('/api/logs?cursor=garbage').expect(400);
    await t.http.get('/api/logs').expect(401);
  });

  it('follows new rows as Server-Sent Events', async () => {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as { port: number };
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/logs/stream?type=decisions`, {
      headers: { authorization: `Bearer ${token}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await new Promise((r) => setTimeout(r, 300));
    await prisma.decision.create({
      data: {
        logIndex: 6n,
        term: 1n,
        websiteId: siteId,
        round: 6n,
        verdict: 'DOWN',
        regionVerdicts: {},
        tally: { up: 0, down: 2, total: 2, quorum: 2 },
        voters: ['v1', 'v2'],
        decidedAt: new Date(),
      },
    });
    const reader = res.body!.getReader();
    let text = '';
    const t0 = Date.now();
    while (!text.includes('"round":6') && Date.now() - t0 < 5_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    ac.abort();
    expect(text).toContain('event: decisions');
    expect(text).toContain('"round":6');
  });
});
