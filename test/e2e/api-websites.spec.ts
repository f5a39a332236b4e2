// The websites API over HTTP against a real PostgreSQL: CRUD, pause, pagination, every
// kind of bad input per endpoint, bad tokens on every endpoint, one user's sites invisible
// to another (404 on every operation), and the scheduler following the database.
import { PrismaService } from '@/infra/database/prisma.service';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import { WebsiteSiteSource } from '@/modules/websites/website.site-source';
import { makeTestCerts } from '../integration/ping/support/certs';
import { startTarget } from '../integration/ping/support/targets';
import { createTestApp, TestApp } from '../support/app';
import {
  Api,
  badTokens,
  Call,
  expectError,
  fieldPaths,
  ids,
  MALFORMED_BODIES,
} from './api-helpers';

jest.setTimeout(120_000);

/** Nothing listens on port 9 of loopback; paused by default so nothing is checked. */
const site = (over: Record<string, unknown> = {}) => ({
  url: 'http://127.0.0.1:9/health',
  name: 'local',
  paused: true,
  ...over,
});

const BAD_SITE_BODIES: [string, unknown, string][] = [
  ['no url', { name: 'x' }, 'url'],
  ['downAfterRounds 0', { ...site(), downAfterRounds: 0 }, 'downAfterRounds'],
  ['upAfterRounds 11', { ...site(), upAfterRounds: 11 }, 'upAfterRounds'],
  ['retries 6', { ...site(), retries: 6 }, 'retries'],
  ['a negative retryDelayMs', { ...site(), retryDelayMs: -1 }, 'retryDelayMs'],
  [
    'retries that cannot fit in the interval',
    { ...site(), intervalMs: 10_000, timeoutMs: 4_000, retries: 2, retryDelayMs: 1_000 },
    'retries',
  ],
  ['an extra field', { ...site(), ownerId: 'someone' }, '(body)'],
  ['a numeric url', { url: 5 }, 'url'],
  ['an ftp url', { url: 'ftp://127.0.0.1/file' }, 'url'],
  ['a javascript: url', { url: 'javascript:alert(1)' }, 'url'],
  ['a relative url', { url: '/health' }, 'url'],
  ['an overlong url', { url: `http://127.0.0.1/${'a'.repeat(2040)}` }, 'url'],
  ['an overlong name', site({ name: 'n'.repeat(201) }), 'name'],
  ['an empty name', site({ name: '   ' }), 'name'],
  ['a string interval', site({ intervalMs: '60000' }), 'intervalMs'],
  ['a fractional interval', site({ intervalMs: 60000.5 }), 'intervalMs'],
  ['an interval under 10 s', site({ intervalMs: 9_999 }), 'intervalMs'],
  ['an interval over 24 h', site({ intervalMs: 86_400_001 }), 'intervalMs'],
  ['a timeout under 500 ms', site({ timeoutMs: 499 }), 'timeoutMs'],
  [
    'a timeout not below the interval',
    site({ intervalMs: 10_000, timeoutMs: 10_000 }),
    'timeoutMs',
  ],
  ['a status code out of range', site({ expectedStatus: [99] }), 'expectedStatus.0'],
  ['a string status code', site({ expectedStatus: ['200'] }), 'expectedStatus.0'],
  ['too many status codes', site({ expectedStatus: Array(33).fill(200) }), 'expectedStatus'],
  ['a status list that is not a list', site({ expectedStatus: 200 }), 'expectedStatus'],
  ['an empty keyword', site({ keyword: '' }), 'keyword'],
  ['an overlong keyword', site({ keyword: 'k'.repeat(1025) }), 'keyword'],
  ['a string paused flag', site({ paused: 'yes' }), 'paused'],
  ['an array body', [site()], '(body)'],
  ['an unknown check kind', site({ check: { kind: 'icmp' } }), 'check.kind'],
  ['a tcp check of an http url', site({ check: { kind: 'tcp' } }), 'url'],
  ['a tcp target without a port', { url: 'tcp://127.0.0.1', check: { kind: 'tcp' } }, 'url'],
  [
    'a keyword on a tcp check',
    { url: 'tcp://127.0.0.1:22', keyword: 'x', check: { kind: 'tcp' } },
    'keyword',
  ],
  ['a dns target with a path', { url: 'dns://example.com/x', check: { kind: 'dns' } }, 'url'],
  [
    'a dns resolver that is a name',
    { url: 'dns://example.com', check: { kind: 'dns', resolver: 'ns.example.com' } },
    'check.resolver',
  ],
  [
    'a dns record type not offered',
    { url: 'dns://a.com', check: { kind: 'dns', recordType: 'ANY' } },
    'check.recordType',
  ],
  [
    'tls thresholds in the wrong order',
    { url: 'tls://127.0.0.1', check: { kind: 'tls', warnDays: 7, downDays: 14 } },
    'check',
  ],
  [
    'a reserved request header',
    site({ check: { kind: 'http', headers: { Host: 'x' } } }),
    'check.headers.Host',
  ],
  ['an unknown http method', site({ check: { kind: 'http', method: 'TRACE' } }), 'check.method'],
  [
    'a JSON path with a wildcard',
    site({
      check: { kind: 'http', assertions: { json: [{ path: '$.a[*]', op: 'equals', value: 1 }] } },
    }),
    'check.assertions.json.0.path',
  ],
  [
    'a status range upside down',
    site({ check: { kind: 'http', assertions: { status: [{ min: 500, max: 200 }] } } }),
    'check.assertions.status.0',
  ],
];

describe('websites API', () => {
  let t: TestApp;
  let api: Api;
  let a: string;
  let b: string;

  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
    a = await api.signup('a@example.com');
    b = await api.signup('b@example.com');
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  async function create(token: string, over: Record<string, unknown> = {}): Promise<string> {
    const res = await api.post('/api/websites', site(over), token);
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  }

  describe('POST /api/websites', () => {
    it('registers a site with defaults', async () => {
      const res = await api.post('/api/websites', { url: 'http://127.0.0.1:9/a?b=c' }, a);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: '127.0.0.1:9',
        url: 'http://127.0.0.1:9/a?b=c',
        check: {
          kind: 'http',
          method: 'GET',
          headers: {},
          body: null,
          connection: 'reuse',
          assertions: {
            status: [],
            bodyContains: [],
            bodyNotContains: [],
            json: [],
            maxLatencyMs: null,
          },
        },
        intervalMs: 60_000,
        timeoutMs: 10_000,
        expectedStatus: [],
        keyword: null,
        paused: false,
        downAfterRounds: 1,
        upAfterRounds: 1,
        retries: 0,
        retryDelayMs: 0,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        status: {
          verdict: 'UNKNOWN',
          since: null,
          regions: {},
          lastRound: null,
          lastDecidedAt: null,
          pending: null,
          lastCheck: null,
          certificate: null,
        },
      });
      await api.delete(`/api/websites/${res.body.id}`, a);
    });

    it('registers a site with every field set', async () => {
      const body = {
        url: 'https://127.0.0.1:8443/status',
        name: 'Status page',
        intervalMs: 30_000,
        timeoutMs: 5_000,
        expectedStatus: [200, 204],
        keyword: 'healthy',
        paused: true,
        downAfterRounds: 3,
        upAfterRounds: 2,
        retries: 2,
        retryDelayMs: 1_000,
      };
      const res = await api.post('/api/websites', body, a);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject(body);
    });

    it.each(MALFORMED_BODIES)('answers 400 BAD_JSON to %s', async (_, raw) => {
      expectError(await api.post('/api/websites', raw, a), 400, 'BAD_JSON');
    });

    it.each(BAD_SITE_BODIES)('answers 400 to %s', async (_, body, path) => {
      const res = await api.post('/api/websites', body, a);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res)).toContain(path);
    });

    it('registers a check of every kind, with its options and defaults', async () => {
      const bodies = [
        {
          url: 'http://127.0.0.1:9/api',
          check: {
            kind: 'http',
            method: 'POST',
            headers: { 'x-probe': '1' },
            body: '{"ping":true}',
            assertions: {
              status: [{ min: 200, max: 204 }],
              json: [{ path: '$.status', op: 'equals', value: 'ok' }],
              maxLatencyMs: 2_000,
            },
          },
        },
        { url: 'tcp://127.0.0.1:5432', check: { kind: 'tcp', tls: false } },
        {
          url: 'dns://example.com',
          check: { kind: 'dns', recordType: 'MX', resolver: '127.0.0.1:53' },
        },
        { url: 'tls://127.0.0.1:8443', check: { kind: 'tls' } },
      ];
      for (const body of bodies) {
        const res = await api.post('/api/websites', body, a);
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject(body);
        const read = await api.get(`/api/websites/${res.body.id}`, a);
        expect(read.body.check).toEqual(res.body.check);
        await api.delete(`/api/websites/${res.body.id}`, a);
      }
      const tls = await api.post(
        '/api/websites',
        { url: 'tls://127.0.0.1', check: { kind: 'tls' } },
        a,
      );
      expect(tls.body.check).toEqual({
        kind: 'tls',
        warnDays: 14,
        downDays: 7,
        checkChain: true,
        checkHostname: true,
      });
      await api.delete(`/api/websites/${tls.body.id}`, a);
    });

    it('refuses a dns resolver or tcp target the SSRF guard refuses, and stores nothing', async () => {
      const before = await t.app.get(PrismaService).website.count();
      for (const body of [
        { url: 'dns://example.com', check: { kind: 'dns', resolver: '169.254.169.254' } },
        { url: 'tcp://169.254.169.254:80', check: { kind: 'tcp' } },
        { url: 'tls://0.0.0.0:443', check: { kind: 'tls' } },
      ]) {
        expectError(await api.post('/api/websites', body, a), 422, 'TARGET_NOT_ALLOWED');
      }
      expect(await t.app.get(PrismaService).website.count()).toBe(before);
    });

    it('changes the kind of a site only with a target that fits it', async () => {
      const id = await create(a);
      const wrong = await api.put(`/api/websites/${id}`, { check: { kind: 'tcp' } }, a);
      expectError(wrong, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(wrong)).toEqual(['url']);
      const moved = await api.put(
        `/api/websites/${id}`,
        { url: 'tcp://127.0.0.1:6379', check: { kind: 'tcp' } },
        a,
      );
      expect(moved.status).toBe(200);
      expect(moved.body.check).toEqual({ kind: 'tcp', tls: false });
      const back = await api.put(`/api/websites/${id}`, { url: 'http://127.0.0.1:9/' }, a);
      expectError(back, 400, 'VALIDATION_FAILED');
    });

    it('stores nothing for a refused body', async () => {
      const before = await t.app.get(PrismaService).website.count();
      await api.post('/api/websites', site({ intervalMs: 1 }), a);
      expect(await t.app.get(PrismaService).website.count()).toBe(before);
    });
  });

  describe('GET /api/websites', () => {
    it('pages through the caller’s sites, newest first, and only theirs', async () => {
      const c = await api.signup('c@example.com');
      const made = [await create(c, { name: 's1' }), await create(c, { name: 's2' })];
      made.push(await create(c, { name: 's3' }));
      await create(b, { name: 'not c' });
      const p1 = await api.get('/api/websites?limit=2', c);
      expect(p1.status).toBe(200);
      expect(p1.body.items.map((s: { id: string }) => s.id)).toEqual([made[2], made[1]]);
      expect(p1.body.nextCursor).toEqual(expect.any(String));
      const p2 = await api.get(`/api/websites?limit=2&cursor=${p1.body.nextCursor}`, c);
      expect(p2.body).toEqual({
        items: [expect.objectContaining({ id: made[0] })],
        nextCursor: null,
      });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('2026-01-01T00:00:00Z|x').toString('base64url')}`, 'cursor'],
      [`cursor=${'c'.repeat(201)}`, 'cursor'],
      ['owner=someone', '(body)'],
    ])('answers 400 to ?%s', async (query, path) => {
      const res = await api.get(`/api/websites?${query}`, a);
      expectError(res, 400, 'VALIDATION_FAILED');
      if (path !== '(body)') expect(fieldPaths(res)).toContain(path);
    });
  });

  describe('GET /api/websites/:id', () => {
    it('returns the site', async () => {
      const id = await create(a, { name: 'one' });
      const res = await api.get(`/api/websites/${id}`, a);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'one' });
      // Ids are case-insensitive UUIDs.
      expect((await api.get(`/api/websites/${id.toUpperCase()}`, a)).status).toBe(200);
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(await api.get(`/api/websites/${id}`, a), 404, 'NOT_FOUND');
    });

    it('answers 400 to an id that is not valid percent-encoding', async () => {
      expectError(await api.get('/api/websites/%zz', a), 400, 'BAD_REQUEST');
    });
  });

  describe('PUT /api/websites/:id', () => {
    it('changes only the fields given', async () => {
      const id = await create(a, { name: 'before', keyword: 'ok' });
      const res = await api.put(`/api/websites/${id}`, { name: 'after', keyword: null }, a);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'after', keyword: null, paused: true });
      expect((await api.get(`/api/websites/${id}`, a)).body.name).toBe('after');
    });

    it('checks timeout against the stored interval', async () => {
      const id = await create(a, { intervalMs: 20_000, timeoutMs: 5_000 });
      const res = await api.put(`/api/websites/${id}`, { timeoutMs: 20_000 }, a);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res)).toEqual(['timeoutMs']);
    });

    it.each(MALFORMED_BODIES)('answers 400 BAD_JSON to %s', async (_, raw) => {
      const id = await create(a);
      expectError(await api.put(`/api/websites/${id}`, raw, a), 400, 'BAD_JSON');
    });

    it.each([
      ['an empty change', {}],
      ...BAD_SITE_BODIES.filter(([name]) => name !== 'no url').map(
        ([name, body]) => [name, body] as [string, unknown],
      ),
    ])('answers 400 to %s and changes nothing', async (_, body) => {
      const id = await create(a, { name: 'unchanged' });
      expectError(await api.put(`/api/websites/${id}`, body, a), 400, 'VALIDATION_FAILED');
      expect((await api.get(`/api/websites/${id}`, a)).body.name).toBe('unchanged');
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(await api.put(`/api/websites/${id}`, { name: 'x' }, a), 404, 'NOT_FOUND');
    });
  });

  describe('PUT /api/websites/:id/pause', () => {
    it('pauses and resumes', async () => {
      const id = await create(a, { paused: false });
      const paused = await api.put(`/api/websites/${id}/pause`, { paused: true }, a);
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ id, paused: true });
      const resumed = await api.put(`/api/websites/${id}/pause`, { paused: false }, a);
      expect(resumed.body.paused).toBe(false);
      await api.put(`/api/websites/${id}/pause`, { paused: true }, a);
    });

    it.each(MALFORMED_BODIES)('answers 400 BAD_JSON to %s', async (_, raw) => {
      const id = await create(a);
      expectError(await api.put(`/api/websites/${id}/pause`, raw, a), 400, 'BAD_JSON');
    });

    it.each<[string, unknown]>([
      ['a missing flag', {}],
      ['a string flag', { paused: 'true' }],
      ['a numeric flag', { paused: 1 }],
      ['a null flag', { paused: null }],
      ['an extra field', { paused: true, name: 'x' }],
      ['an overlong string', { paused: 'x'.repeat(5000) }],
    ])('answers 400 to %s', async (_, body) => {
      const id = await create(a);
      const res = await api.put(`/api/websites/${id}/pause`, body, a);
      expectError(res, 400, 'VALIDATION_FAILED');
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(
        await api.put(`/api/websites/${id}/pause`, { paused: true }, a),
        404,
        'NOT_FOUND',
      );
    });
  });

  describe('DELETE /api/websites/:id', () => {
    it('deletes once', async () => {
      const id = await create(a);
      expect((await api.delete(`/api/websites/${id}`, a)).status).toBe(204);
      expectError(await api.delete(`/api/websites/${id}`, a), 404, 'NOT_FOUND');
      expectError(await api.get(`/api/websites/${id}`, a), 404, 'NOT_FOUND');
    });

    it.each([...ids.malformed, ids.unknown()])('answers 404 to id %s', async (id) => {
      expectError(await api.delete(`/api/websites/${id}`, a), 404, 'NOT_FOUND');
    });
  });

  describe('authentication on every endpoint', () => {
    const endpoints = (id: string): [string, Call][] => [
      ['GET /api/auth/me', { method: 'get', path: '/api/auth/me' }],
      ['GET /api/websites', { method: 'get', path: '/api/websites' }],
      ['POST /api/websites', { method: 'post', path: '/api/websites', body: site() }],
      ['GET /api/websites/:id', { method: 'get', path: `/api/websites/${id}` }],
      [
        'PUT /api/websites/:id',
        { method: 'put', path: `/api/websites/${id}`, body: { name: 'x' } },
      ],
      [
        'PUT /api/websites/:id/pause',
        { method: 'put', path: `/api/websites/${id}/pause`, body: { paused: false } },
      ],
      ['DELETE /api/websites/:id', { method: 'delete', path: `/api/websites/${id}` }],
      ['GET /api/websites/:id/history', { method: 'get', path: `/api/websites/${id}/history` }],
      ['GET /api/websites/:id/summary', { method: 'get', path: `/api/websites/${id}/summary` }],
    ];

    it.each(endpoints('{id}').map(([name]) => name))(
      '%s answers 401 to missing, expired, forged and malformed tokens',
      async (name) => {
        const id = await create(a, { name: 'guarded' });
        const aId = (await api.get('/api/auth/me', a)).body.id as string;
        const call = endpoints(id).find(([n]) => n === name)![1];
        for (const [kind, token] of Object.entries(badTokens(aId))) {
          const res = await api.call({ ...call, token });
          expect({ kind, status: res.status, error: res.body.error }).toEqual({
            kind,
            status: 401,
            error: 'UNAUTHENTICATED',
          });
        }
        const after = await api.get(`/api/websites/${id}`, a);
        expect(after.body).toMatchObject({ name: 'guarded', paused: true });
      },
    );
  });

  describe("one user's sites are invisible to another", () => {
    it('answers 404 to user B for every operation on a site of user A, and changes nothing', async () => {
      const id = await create(a, { name: 'private to a' });
      const calls: Call[] = [
        { method: 'get', path: `/api/websites/${id}` },
        { method: 'put', path: `/api/websites/${id}`, body: { name: 'stolen' } },
        { method: 'put', path: `/api/websites/${id}`, body: { url: 'http://127.0.0.1:1/' } },
        { method: 'put', path: `/api/websites/${id}/pause`, body: { paused: false } },
        { method: 'delete', path: `/api/websites/${id}` },
        { method: 'get', path: `/api/websites/${id}/history` },
        { method: 'get', path: `/api/websites/${id}/history?up=false&limit=5` },
        { method: 'get', path: `/api/websites/${id}/summary` },
      ];
      for (const call of calls) {
        const res = await api.call({ ...call, token: b });
        expect({ call: `${call.method} ${call.path}`, status: res.status, body: res.body }).toEqual(
          {
            call: `${call.method} ${call.path}`,
            status: 404,
            body: { statusCode: 404, error: 'NOT_FOUND', message: 'website not found' },
          },
        );
      }
      const listB = await api.get('/api/websites?limit=100', b);
      expect(listB.body.items.map((s: { id: string }) => s.id)).not.toContain(id);
      const still = await api.get(`/api/websites/${id}`, a);
      expect(still.body).toMatchObject({ name: 'private to a', paused: true, url: site().url });
    });
  });

  describe('the scheduler follows the database', () => {
    it('checks created and resumed sites, not paused or deleted ones', async () => {
      const scheduler = t.app.get(PingScheduler);
      const source = t.app.get(WebsiteSiteSource);
      const activeIds = async () => (await source.listActive()).map((s) => s.id);
      const start = scheduler.scheduledSites;
      const id = await create(a, {
        paused: false,
        intervalMs: 3_600_000,
        timeoutMs: 2_000,
        expectedStatus: [200],
        keyword: 'ok',
      });
      expect((await source.listActive()).find((s) => s.id === id)).toMatchObject({
        id,
        url: site().url,
        intervalMs: 3_600_000,
        timeoutMs: 2_000,
        expectedStatus: [200],
        keyword: 'ok',
        retries: 0,
        retryDelayMs: 0,
      });
      await until(() => scheduler.scheduledSites === start + 1);
      await api.put(`/api/websites/${id}/pause`, { paused: true }, a);
      expect(await activeIds()).not.toContain(id);
      await until(() => scheduler.scheduledSites === start);
      await api.put(`/api/websites/${id}/pause`, { paused: false }, a);
      await until(() => scheduler.scheduledSites === start + 1);
      await api.delete(`/api/websites/${id}`, a);
      expect(await activeIds()).not.toContain(id);
      await until(() => scheduler.scheduledSites === start);
    });

    it('shows the certificate a tls check saw in the live status', async () => {
      const certs = makeTestCerts();
      const target = await startTarget(certs.in10Days);
      try {
        const id = await create(a, {
          url: `tls://127.0.0.1:${target.port}`,
          check: { kind: 'tls', checkChain: false }, // the app trusts only the system's CAs
          paused: false,
          intervalMs: 10_000,
          timeoutMs: 2_000,
        });
        let status: { certificate: unknown } | undefined;
        await untilAsync(async () => {
          status = (await api.get(`/api/websites/${id}`, a)).body.status;
          return status?.certificate != null;
        }, 25_000);
        expect(status!.certificate).toEqual({
          validTo: expect.any(String),
          daysLeft: 9,
          warning: true,
          checkedAt: expect.any(String),
        });
        await api.delete(`/api/websites/${id}`, a);
      } finally {
        await target.close();
      }
    }, 40_000);
  });
});

async function untilAsync(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
