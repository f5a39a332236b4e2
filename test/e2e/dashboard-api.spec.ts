// The dashboard's read models over HTTP against a real PostgreSQL: the paged overview (with
// and without stats, by ids), daily bars, incidents, verdicts with the tally behind each, and
// GET /api/dashboard/cluster; each only ever shows the caller's own sites. Also the static serving of
// the web app: index.html for client routes, cached assets, and API paths left alone.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { serveWebApp } from '@/modules/web-app/serve-web-app';
import { createTestApp, TestApp } from '../support/app';
import { seedSites, userIdOf, withClient } from '../browser/support/seed';
import { Api, expectError, fieldPaths, ids } from './api-helpers';

jest.setTimeout(120_000);

describe('dashboard read API', () => {
  let t: TestApp;
  let api: Api;
  let alice: string;
  let bob: string;
  let aliceSites: string[];
  let bobSites: string[];

  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
    alice = await api.signup('alice@dash.test');
    bob = await api.signup('bob@dash.test');
    aliceSites = await seedSites(t.db.url, {
      ownerId: await userIdOf(t.db.url, 'alice@dash.test'),
      count: 25,
      prefix: 'Alice',
      downEvery: 5,
    });
    bobSites = await seedSites(t.db.url, {
      ownerId: await userIdOf(t.db.url, 'bob@dash.test'),
      count: 3,
      prefix: 'Bob',
    });
    const site = aliceSites[0];
    // two committed verdicts of round 7 and 8 with the checks of round 8 (2 regions)
    await withClient(t.db.url, async (c) => {
      await c.query(
        `INSERT INTO decisions (log_index, term, website_id, round, verdict, region_verdicts, tally, voters, decided_at)
         VALUES (41, 3, $1, 7, 'UP', '{"eu":"UP","us":"UP"}', '{"up":2,"down":0,"total":2,"quorum":2}', '{v1,v2}', now() - interval '1 minute'),
                (42, 3, $1, 8, 'DOWN', '{"eu":"DOWN","us":"DOWN"}',
                 '{"up":0,"down":2,"total":2,"quorum":2,"byRegion":{"eu":{"up":0,"down":1,"total":1},"us":{"up":0,"down":1,"total":1}}}',
                 '{v1,v2}', now())`,
        [site],
      );
      await c.query(
        `INSERT INTO ping_logs (website_id, validator_id, region, round, up, latency_ms, http_status, failure, error, checked_at)
         VALUES ($1, 'v1', 'eu', 8, false, 5012, null, 'TIMEOUT', 'no answer in 5000 ms', now()),
                ($1, 'v2', 'us', 8, false, 3, null, 'CONNECT', 'connection refused', now())`,
        [site],
      );
      await c.query(
        `INSERT INTO incidents (website_id, region, started_at, ended_at, start_round, end_round)
         VALUES ($1, NULL, now() - interval '2 hours', now() - interval '90 minutes', 3, 4),
                ($1, 'us', now() - interval '10 minutes', NULL, 8, NULL)`,
        [site],
      );
    });
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  it('pages my sites newest first with status, last check, 24 h uptime and a 24-point sparkline', async () => {
    const p1 = await api.get('/api/dashboard/sites?limit=10', alice);
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ total: 25, stats: true });
    expect(p1.body.items).toHaveLength(10);
    const first = p1.body.items[0];
    expect(first).toMatchObject({ id: aliceSites[0], name: 'Alice 0001', paused: false });
    expect(first.status).toMatchObject({ verdict: 'UP', lastRound: 1000 });
    expect(first.status.lastLatencyMs).toBeGreaterThan(0);
    expect(first.spark).toHaveLength(24);
    expect(first.spark.filter((v: number | null) => v !== null).length).toBeGreaterThanOrEqual(23);
    expect(first.uptime24h).toBeGreaterThan(99);
    const seen = new Set<string>(p1.body.items.map((i: { id: string }) => i.id));
    let cursor = p1.body.nextCursor;
    while (cursor) {
      const p = await api.get(`/api/dashboard/sites?limit=10&cursor=${cursor}`, alice);
      expect(p.body.total).toBeNull();
      for (const i of p.body.items) seen.add(i.id);
      cursor = p.body.nextCursor;
    }
    expect([...seen].sort()).toEqual([...aliceSites].sort());
    expect(p1.body.items.filter((i: any) => i.status.verdict === 'DOWN')).toHaveLength(2);
  });

  it('loads long lists without stats in pages of up to 5000, and reads rows by id', async () => {
    const brief = await api.get('/api/dashboard/sites?stats=false&limit=5000', alice);
    expect(brief.body).toMatchObject({ total: 25, stats: false, nextCursor: null });
    expect(brief.body.items[0]).toMatchObject({ spark: [], uptime24h: null });
    expect(brief.body.items[0].status.verdict).toBe('UP');
    expect(fieldPaths(await api.get('/api/dashboard/sites?limit=5000', alice))).toEqual(['limit']);
    const byIds = await api.get(
      `/api/dashboard/sites?ids=${aliceSites[3]},${bobSites[0]},${aliceSites[1]}`,
      alice,
    );
    expect(byIds.body.items.map((i: { id: string }) => i.id)).toEqual([
      aliceSites[3],
      aliceSites[1],
    ]);
    expect(byIds.body.items[0].spark).toHaveLength(24);
    expect(fieldPaths(await api.get('/api/dashboard/sites?ids=x,y', alice))).toEqual([
      'ids.0',
      'ids.1',
    ]);
    expect(fieldPaths(await api.get('/api/dashboard/sites?cursor=garbage', alice))).toEqual([
      'cursor',
    ]);
  });

  it('answers 90 daily bars, incidents with durations, and verdicts with their tallies', async () => {
    const site = aliceSites[0];
    const days = (await api.get(`/api/dashboard/sites/${site}/days`, alice)).body.days;
    expect(days).toHaveLength(90);
    expect(days.at(-1)).toMatchObject({ checks: 1440, upChecks: 1440, uptimePct: 100 });
    expect(
      (await api.get(`/api/dashboard/sites/${site}/days?days=7`, alice)).body.days,
    ).toHaveLength(7);

    const inc = (await api.get(`/api/dashboard/sites/${site}/incidents`, alice)).body.items;
    expect(inc.map((i: any) => [i.region, i.endedAt === null])).toEqual([
      ['us', true],
      [null, false],
    ]);
    expect(inc[1].durationMs).toBe(30 * 60_000);
    expect(inc[0].durationMs).toBeGreaterThanOrEqual(10 * 60_000 - 1000);

    const d = (await api.get(`/api/dashboard/sites/${site}/decisions?limit=1`, alice)).body;
    expect(d.items[0]).toMatchObject({
      logIndex: 42,
      term: 3,
      round: 8,
      verdict: 'DOWN',
      regionVerdicts: { eu: 'DOWN', us: 'DOWN' },
      tally: { up: 0, down: 2, total: 2, quorum: 2 },
      byRegion: { eu: { up: 0, down: 1, total: 1 } },
    });
    expect(d.items[0].votes).toEqual([
      {
        validatorId: 'v1',
        region: 'eu',
        up: false,
        latencyMs: 5012,
        httpStatus: null,
        failure: 'TIMEOUT',
        error: 'no answer in 5000 ms',
        source: 'check',
      },
      {
        validatorId: 'v2',
        region: 'us',
        up: false,
        latencyMs: 3,
        httpStatus: null,
        failure: 'CONNECT',
        error: 'connection refused',
        source: 'check',
      },
    ]);
    const older = (
      await api.get(`/api/dashboard/sites/${site}/decisions?limit=1&cursor=${d.nextCursor}`, alice)
    ).body;
    expect(older.items.map((x: any) => x.logIndex)).toEqual([41]);
    // voters without a stored check are listed as such
    expect(older.items[0].votes.map((v: any) => v.source)).toEqual(['missing', 'missing']);
    expect(older.nextCursor).toBeNull();
  });

  it("never shows another user's site: every per-site read is 404", async () => {
    const list = (await api.get('/api/dashboard/sites?stats=false&limit=5000', bob)).body;
    expect(list.total).toBe(3);
    expect(list.items.map((i: { id: string }) => i.id).sort()).toEqual([...bobSites].sort());
    for (const path of ['', '/days', '/incidents', '/decisions'])
      expectError(
        await api.get(`/api/dashboard/sites/${aliceSites[0]}${path}`, bob),
        404,
        'NOT_FOUND',
      );
    for (const id of [...ids.malformed, ids.unknown()])
      expectError(await api.get(`/api/dashboard/sites/${id}`, alice), 404, 'NOT_FOUND');
    expectError(await api.get('/api/dashboard/sites'), 401, 'UNAUTHENTICATED');
  });

  it('GET /api/dashboard/cluster shows validators, Raft role and counters, without keys or addresses', async () => {
    expectError(await api.get('/api/dashboard/cluster'), 401, 'UNAUTHENTICATED');
    const res = await api.get('/api/dashboard/cluster', alice);
    expect(res.status).toBe(200);
    const c = res.body;
    expect(c.node).toMatchObject({ validatorId: '0', region: 'local' });
    expect(c.node.raft.voters).toBe(1);
    expect(c.validators).toEqual([
      expect.objectContaining({ id: '0', region: 'local', self: true, live: true }),
    ]);
    expect(c.regions).toEqual([{ region: 'local', validators: 1, live: 1 }]);
    expect(c.gossip).toMatchObject({ published: expect.any(Number), rejected: expect.any(Object) });
    expect(c.tally).toMatchObject({ finalized: expect.any(Number), open: expect.any(Number) });
    const text = JSON.stringify(c);
    expect(text).not.toMatch(/publicKey|address|127\.0\.0\.1|secret/i);
  });

  it('keeps the OpenAPI document complete', async () => {
    const doc = (await api.get('/api/docs-json')).body;
    for (const path of [
      '/api/dashboard/sites',
      '/api/dashboard/sites/{id}/decisions',
      '/api/status-pages',
      '/api/public/status-pages/{slug}',
      '/api/badge/{siteId}/status.svg',
      '/api/dashboard/cluster',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });
});

describe('serving the web app', () => {
  @Controller('api/ping')
  class PingController {
    @Get()
    ping() {
      return { pong: true };
    }
  }
  @Module({ controllers: [PingController] })
  class TinyModule {}

  let app: INestApplication;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await NestFactory.create(TinyModule, { logger: false });
    serveWebApp(app, dir);
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html, never cached, with a CSP, for / and client-side routes', async () => {
    for (const path of ['/', '/sites/123', '/status/acme', '/cluster']) {
      const res = await request(app.getHttpServer()).get(path);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<title>app</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
  });

  it('serves hashed assets with a long cache; a missing asset is 404', async () => {
    const js = await request(app.getHttpServer()).get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(app.getHttpServer()).get('/assets/gone.js')).status).toBe(404);
  });

  it('leaves API, health, Socket.IO and /ws paths to the app', async () => {
    expect((await request(app.getHttpServer()).get('/api/ping')).body).toEqual({ pong: true });
    for (const path of ['/api/nope', '/health/live', '/socket.io/', '/ws']) {
      const res = await request(app.getHttpServer()).get(path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('<title>app</title>');
    }
    expect((await request(app.getHttpServer()).post('/sites/1')).status).toBe(404);
  });
});
