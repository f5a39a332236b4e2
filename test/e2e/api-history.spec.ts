// GET /api/websites/:id/history and /summary over HTTP against a real PostgreSQL, with
// checks fed through the health-logs topic into the ping-log writer: keyset pages and
// filters, bad queries, summary figures against hand-computed ones (per region too),
// and the whole pipeline from a real check of a local target to the summary.
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBus } from '@/infra/events/event-bus.port';
import { PrismaService } from '@/infra/database/prisma.service';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';
import { createTestApp, TestApp } from '../support/app';
import { Api, expectError, fieldPaths, ids } from './api-helpers';

jest.setTimeout(120_000);

const MIN = 60_000;

describe('history and summary API', () => {
  let t: TestApp;
  let api: Api;
  let a: string;
  let siteId: string;
  let round = 1000;
  const now = Date.now();
  const checkedAt = new Date(now - 10 * MIN).toISOString();

  function log(over: Partial<HealthLogV1>): HealthLogV1 {
    return {
      v: 1,
      siteId,
      round: round++,
      validatorId: 'v1',
      region: 'eu',
      up: true,
      latencyMs: 100,
      httpStatus: 200,
      failure: null,
      error: null,
      phases: { dns: 1, connect: 2, firstByte: 40, total: 100 },
      checkedAt,
      ...over,
    };
  }

  async function publish(logs: HealthLogV1[]): Promise<void> {
    await t.app.get(EventBus).publish(
      'healthLogs',
      logs.map((l) => ({ key: l.siteId, value: l })),
    );
  }

  async function stored(websiteId: string): Promise<number> {
    return t.app.get(PrismaService).pingLog.count({ where: { websiteId } });
  }

  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
    a = await api.signup('a@example.com');
    const res = await api.post(
      '/api/websites',
      { url: 'http://127.0.0.1:9/', name: 'seeded', paused: true },
      a,
    );
    siteId = res.body.id;
    // eu: up 100, up 200, down, up 300; us: up 50, up 70 (all 10 minutes ago)
    const seeded = [
      log({ validatorId: 'v1', latencyMs: 100, round: 1 }),
      log({ validatorId: 'v2', latencyMs: 200, round: 1 }),
      log({
        validatorId: 'v1',
        up: false,
        latencyMs: 5_000,
        httpStatus: 503,
        failure: 'HTTP_STATUS',
        error: 'status 503',
        round: 2,
      }),
      log({ validatorId: 'v2', latencyMs: 300, round: 2 }),
      log({ validatorId: 'v3', region: 'us', latencyMs: 50, round: 1 }),
      log({ validatorId: 'v3', region: 'us', latencyMs: 70, round: 2 }),
    ];
    await publish(seeded);
    // Redelivery of the same checks must not count twice.
    await publish(seeded.slice(0, 3));
    await until(async () => (await stored(siteId)) === 6);
    const prisma = t.app.get(PrismaService);
    await prisma.incident.createMany({
      data: [
        {
          websiteId: siteId,
          startedAt: new Date(now - 30 * MIN),
          endedAt: new Date(now - 20 * MIN),
          startRound: 1,
          endRound: 2,
        },
        {
          websiteId: siteId,
          region: 'us',
          startedAt: new Date(now - 15 * MIN),
          endedAt: new Date(now - 10 * MIN),
          startRound: 3,
          endRound: 4,
        },
      ],
    });
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  describe('GET /api/websites/:id/summary', () => {
    it('matches hand-computed uptime, latency and incidents, overall and per region', async () => {
      const res = await api.get(`/api/websites/${siteId}/summary`, a);
      expect(res.status).toBe(200);
      const s = res.body;
      expect(s.websiteId).toBe(siteId);
      expect(s.status).toEqual({
        verdict: 'UP', // round 2 (the last): v1 down, v2 up, v3 up
        since: null,
        source: 'latest-checks',
        paused: true,
        regions: {},
      });
      expect(s.windows.map((w: { window: string }) => w.window)).toEqual([
        '24h',
        '7d',
        '30d',
        '90d',
        'all',
      ]);
      for (const w of s.windows) {
        // 6 checks, 5 up; up latencies 100 200 300 50 70: mean 144; the 5th of 5 lies in
        // [300, 400) → 400, capped at the maximum 300. Incident: 10 min global.
        expect(w).toMatchObject({
          checks: 6,
          upChecks: 5,
          uptimePct: 83.333,
          avgLatencyMs: 144,
          p95LatencyMs: 300,
          maxLatencyMs: 300,
          incidents: 1,
          downtimeMs: 10 * MIN,
        });
        expect(w.regions).toEqual([
          {
            region: 'eu',
            checks: 4,
            upChecks: 3,
            uptimePct: 75,
            avgLatencyMs: 200,
            p95LatencyMs: 300,
            maxLatencyMs: 300,
            incidents: 0,
            downtimeMs: 0,
          },
          {
            // 2 of 2 in [50, 75): rank 2 → 75, capped at the maximum 70
            region: 'us',
            checks: 2,
            upChecks: 2,
            uptimePct: 100,
            avgLatencyMs: 60,
            p95LatencyMs: 70,
            maxLatencyMs: 70,
            incidents: 1,
            downtimeMs: 5 * MIN,
          },
        ]);
      }
      expect(Date.parse(s.windows[0].from)).toBeLessThanOrEqual(now - 24 * 60 * MIN);
      expect(s.windows[4].from).toBeNull();
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(await api.get(`/api/websites/${id}/summary`, a), 404, 'NOT_FOUND');
    });
  });

  describe('GET /api/websites/:id/history', () => {
    type Item = { id: string; validatorId: string; region: string; up: boolean };

    it('returns the checks newest first with every field', async () => {
      const res = await api.get(`/api/websites/${siteId}/history`, a);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(6);
      expect(res.body.nextCursor).toBeNull();
      const down = res.body.items.find((i: Item) => !i.up);
      expect(down).toEqual({
        id: expect.stringMatching(/^\d+$/),
        validatorId: 'v1',
        region: 'eu',
        round: 2,
        up: false,
        latencyMs: 5_000,
        httpStatus: 503,
        failure: 'HTTP_STATUS',
        error: 'status 503',
        phases: { dns: 1, connect: 2, firstByte: 40, total: 100 },
        checkedAt,
      });
    });

    it('pages with a cursor without gaps or repeats, keeping the filters', async () => {
      const all = (await api.get(`/api/websites/${siteId}/history`, a)).body.items as Item[];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const res = await api.get(`/api/websites/${siteId}/history?limit=4${q}`, a);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((i: Item) => i.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((i) => i.id));

      const page1 = await api.get(`/api/websites/${siteId}/history?limit=1&region=eu&up=true`, a);
      const page2 = await api.get(
        `/api/websites/${siteId}/history?limit=5&region=eu&up=true&cursor=${page1.body.nextCursor}`,
        a,
      );
      const ids2 = [...page1.body.items, ...page2.body.items].map((i: Item) => i.id);
      expect(ids2).toEqual(all.filter((i) => i.region === 'eu' && i.up).map((i) => i.id));
    });

    it.each<[string, (i: Item) => boolean]>([
      ['validator=v2', (i) => i.validatorId === 'v2'],
      ['region=us', (i) => i.region === 'us'],
      ['up=false', (i) => !i.up],
      [
        'up=true&region=eu&validator=v1',
        (i) => i.up && i.region === 'eu' && i.validatorId === 'v1',
      ],
      ['region=nowhere', () => false],
    ])('filters by %s', async (query, keep) => {
      const all = (await api.get(`/api/websites/${siteId}/history`, a)).body.items as Item[];
      const res = await api.get(`/api/websites/${siteId}/history?${query}`, a);
      expect(res.status).toBe(200);
      expect(res.body.items.map((i: Item) => i.id)).toEqual(all.filter(keep).map((i) => i.id));
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const at = encodeURIComponent(checkedAt);
      const later = encodeURIComponent(new Date(now).toISOString());
      const h = (q: string) => api.get(`/api/websites/${siteId}/history?${q}`, a);
      expect((await h(`from=${at}`)).body.items).toHaveLength(6);
      expect((await h(`to=${at}`)).body.items).toHaveLength(0);
      expect((await h(`from=${at}&to=${later}`)).body.items).toHaveLength(6);
      expect((await h(`from=${later}`)).body.items).toHaveLength(0);
      const offset = encodeURIComponent('2000-01-01T01:00:00+01:00');
      expect((await h(`from=${offset}`)).body.items).toHaveLength(6);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=-1', 'limit'],
      ['from=yesterday', 'from'],
      ['from=2026-13-01T00:00:00Z', 'from'],
      [`from=${'2'.repeat(100)}`, 'from'],
      ['to=1700000000000', 'to'],
      [`from=${encodeURIComponent(new Date(now).toISOString())}&to=2000-01-01T00:00:00Z`, 'from'],
      ['up=maybe', 'up'],
      ['up=1', 'up'],
      ['up=true&up=false', 'up'],
      ['validator=bad%20id', 'validator'],
      [`region=${'r'.repeat(65)}`, 'region'],
      ['region[x]=1', '(body)'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${Buffer.from('not-a-date|12').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('2026-01-01T00:00:00Z|-5').toString('base64url')}`, 'cursor'],
      [`cursor=${'x'.repeat(201)}`, 'cursor'],
    ])('answers 400 to ?%s', async (query, path) => {
      const res = await api.get(`/api/websites/${siteId}/history?${query}`, a);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res)).toContain(path);
    });

    it('answers 400 to an unknown query parameter', async () => {
      const res = await api.get(`/api/websites/${siteId}/history?websiteId=${siteId}`, a);
      expectError(res, 400, 'VALIDATION_FAILED');
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(await api.get(`/api/websites/${id}/history`, a), 404, 'NOT_FOUND');
    });
  });

  it('documents both endpoints, their errors and the edge-bucket rule in OpenAPI', async () => {
    const doc = (await api.get('/api/docs-json')).body;
    const summary = doc.paths['/api/websites/{id}/summary'].get;
    const history = doc.paths['/api/websites/{id}/history'].get;
    expect(summary.description).toMatch(/hour boundary/);
    expect(summary.description).toMatch(/never prorated/);
    for (const op of [summary, history]) {
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
      expect(op.security).toEqual([{ bearer: [] }]);
    }
    expect(Object.keys(history.responses)).toContain('400');
    expect(history.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor', 'from', 'to', 'validator', 'region', 'up']),
    );
  });

  it('follows a real check of a local target from the scheduler to the summary', async () => {
    const target: Server = createServer((_req, res) => res.end('all ok'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const port = (target.address() as AddressInfo).port;
      const res = await api.post(
        '/api/websites',
        { url: `http://127.0.0.1:${port}/`, intervalMs: 10_000, timeoutMs: 2_000, keyword: 'ok' },
        a,
      );
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      // The first round starts within one interval (its phase), then the log goes
      // through the health-logs topic and the writer.
      await until(async () => (await stored(id)) >= 1, 20_000);
      const history = await api.get(`/api/websites/${id}/history`, a);
      expect(history.body.items[0]).toMatchObject({ up: true, httpStatus: 200, failure: null });
      const summary = await api.get(`/api/websites/${id}/summary`, a);
      expect(summary.body.status.verdict).toBe('UP');
      expect(summary.body.windows[0]).toMatchObject({ upChecks: expect.any(Number) });
      expect(summary.body.windows[0].checks).toBeGreaterThanOrEqual(1);
      await api.delete(`/api/websites/${id}`, a);
    } finally {
      await new Promise((r) => target.close(r));
    }
  });
});

async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
