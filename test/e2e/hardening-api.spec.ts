// Hostile-client cases of issue 12 over HTTP: /api/status needs a token and never echoes
// internal addresses; /api/simulate is rate- and concurrency-limited; /api/logs/stream is
// capped per user, served by one shared poll, delivers rows written late and ends on
// logout; cursors, dates and ids PostgreSQL cannot store are 400, never 500.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { PrismaService } from '@/infra/database/prisma.service';
import { LIVE_QUOTAS } from '@/modules/auth/quotas';
import { LogFollower } from '@/modules/logs/log-follower';
import { SIMULATIONS_PER_MINUTE } from '@/modules/simulate/simulate.service';
import { createTestApp, TestApp } from '../support/app';
import { Api, expectError } from './api-helpers';

jest.setTimeout(120_000);

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function readSse(res: Response, until: (text: string) => boolean, ms = 6_000) {
  const reader = res.body!.getReader();
  let text = '';
  const t0 = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel();
  }, ms);
  try {
    while (!until(text) && Date.now() - t0 < ms) {
      const { value, done } = await reader.read();
      // a read cut short by our own timer is not the server ending the stream
      if (done) return { text, ended: !timedOut };
      text += Buffer.from(value).toString('utf8');
    }
  } finally {
    clearTimeout(timer);
  }
  return { text, ended: false };
}

describe('hardening: status, simulate, logs and bad input', () => {
  let t: TestApp;
  let api: Api;
  let base: string;
  let token: string;
  let userId: string;
  let siteId: string;
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    t = await createTestApp({ ALLOW_PRIVATE_TARGETS: 'false' });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    api = new Api(t);
    token = await api.signup('hard@h.test');
    const prisma = t.app.get(PrismaService);
    userId = (await prisma.user.findUniqueOrThrow({ where: { email: 'hard@h.test' } })).id;
    siteId = (
      await prisma.website.create({
        data: {
          ownerId: userId,
          name: 's',
          url: 'http://example.com/',
          intervalMs: 60_000,
          timeoutMs: 1_000,
        },
      })
    ).id;
  });
  afterAll(async () => {
    for (const a of aborts) a.abort();
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  const stream = (query: string, bearer = token) => {
    const ac = new AbortController();
    aborts.push(ac);
    return fetch(`${base}/api/logs/stream?${query}`, {
      headers: { authorization: `Bearer ${bearer}` },
      signal: ac.signal,
    });
  };

  it('GET /api/status needs a token and never names the address a refused host resolves to', async () => {
    expectError(await api.get('/api/status?url=http://localhost:1/'), 401, 'UNAUTHENTICATED');
    const res = await api.get('/api/status?url=http://localhost:1/', token);
    const body = expectError(res, 422, 'TARGET_NOT_ALLOWED') as { message?: string };
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|::1|loopback/);
    expect(body.message).toMatch(/public addresses/);
  });

  it('GET /api/simulate hides resolved addresses, and limits rate and simulations in flight', async () => {
    const refused = await api.get('/api/simulate?url=http://localhost:1/', token);
    expectError(refused, 422, 'TARGET_NOT_ALLOWED');
    expect(JSON.stringify(refused.body)).not.toMatch(/127\.0\.0\.1|::1|loopback/);
    // Limits, on a node that may check 127.0.0.1: a local server that accepts and never
    // answers keeps each check (and so each simulation) in flight.
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as AddressInfo).port;
    const open = await createTestApp({ ALLOW_PRIVATE_TARGETS: 'true', PING_TIMEOUT_MS: '20000' });
    try {
      const oapi = new Api(open);
      const a = await oapi.signup('sim1@h.test');
      const url = (i: number) =>
        `/api/simulate?url=${encodeURIComponent(`http://127.0.0.1:${port}/${i}`)}`;
      const statuses: number[] = [];
      for (let i = 0; i < LIVE_QUOTAS.simulations.perUser; i++)
        statuses.push((await oapi.get(url(i), a)).status);
      expect(statuses).toEqual(statuses.map(() => 200));
      expectError(await oapi.get(url(99), a), 422, 'QUOTA_EXCEEDED');
      // The rate: a second user runs into 429 within a minute, whatever finishes.
      const b = await oapi.signup('sim2@h.test');
      const more: number[] = [];
      for (let i = 0; i < SIMULATIONS_PER_MINUTE + 1; i++)
        more.push((await oapi.get(url(100 + i), b)).status);
      expect(
        more.filter((s) => s === 429).length + more.filter((s) => s === 422).length,
      ).toBeGreaterThan(0);
      expect(oapi.serverErrors()).toEqual([]);
    } finally {
      await open.close();
      hang.close();
    }
  });

  it('answers cursors, dates and ids PostgreSQL cannot store with 400', async () => {
    const cases = [
      `/api/logs?cursor=${b64({ t: 1e300, id: '1' })}`,
      `/api/logs?cursor=${b64({ t: 8.64e15, id: '1' })}`,
      `/api/logs?cursor=${b64({ t: 1_700_000_000_000, id: '99999999999999999999' })}`,
      `/api/logs?type=alerts&cursor=${b64({ t: 1_700_000_000_000, id: "1' OR 1=1" })}`,
      `/api/logs?cursor=${b64({ t: -1e15, id: '1' })}`,
      `/api/logs?cursor=${b64(null)}`,
      `/api/websites/${siteId}/history?cursor=${Buffer.from('2026-01-01T00:00:00Z|99999999999999999999').toString('base64url')}`,
      `/api/websites/${siteId}/history?cursor=${Buffer.from('+275760-09-13T00:00:00Z|1').toString('base64url')}`,
      `/api/websites?cursor=${Buffer.from(`+275760-09-13T00:00:00Z|${siteId}`).toString('base64url')}`,
      `/api/logs?limit=1e400`,
      `/api/websites?limit=99999999999999999999999`,
    ];
    for (const path of cases) {
      const res = await api.get(path, token);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
  });

  it('caps log streams per user (422 QUOTA_EXCEEDED) and serves them all from one poll', async () => {
    const follower = t.app.get(LogFollower);
    const opened = await Promise.all(
      Array.from({ length: LIVE_QUOTAS.logStreams.perUser }, () => stream('type=pings')),
    );
    expect(opened.map((r) => r.status)).toEqual(opened.map(() => 200));
    const over = await stream('type=pings');
    expect(over.status).toBe(422);
    expect(await over.json()).toMatchObject({ error: 'QUOTA_EXCEEDED' });
    const p0 = follower.polls;
    await new Promise((r) => setTimeout(r, 3_200));
    // One poll per second for all five streams, not five.
    expect(follower.polls - p0).toBeGreaterThanOrEqual(2);
    expect(follower.polls - p0).toBeLessThanOrEqual(4);
    for (const a of aborts.splice(0)) a.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(follower.size).toBe(0);
  });

  it('delivers a ping written late (checked an hour ago) and ends the stream on logout', async () => {
    const own = await api.signup('late@h.test');
    const prisma = t.app.get(PrismaService);
    const me = await prisma.user.findUniqueOrThrow({ where: { email: 'late@h.test' } });
    const site = await prisma.website.create({
      data: {
        ownerId: me.id,
        name: 'l',
        url: 'http://example.com/',
        intervalMs: 60_000,
        timeoutMs: 1_000,
      },
    });
    const res = await stream('type=pings', own);
    expect(res.status).toBe(200);
    await prisma.pingLog.create({
      data: {
        websiteId: site.id,
        validatorId: 'v1',
        region: 'r',
        round: 1n,
        up: true,
        latencyMs: 5,
        checkedAt: new Date(),
      },
    });
    await new Promise((r) => setTimeout(r, 1_500));
    // Written now, checked an hour ago: older than the row already delivered.
    await prisma.pingLog.create({
      data: {
        websiteId: site.id,
        validatorId: 'v2',
        region: 'r',
        round: 1n,
        up: false,
        latencyMs: 7,
        checkedAt: new Date(Date.now() - 3_600_000),
      },
    });
    const logout = setTimeout(() => void api.post('/api/auth/logout', {}, own), 3_000);
    const { text, ended } = await readSse(res, () => false, 10_000);
    clearTimeout(logout);
    expect(text).toContain('"validatorId":"v1"');
    expect(text).toContain('"validatorId":"v2"');
    expect(ended).toBe(true);
  });

  it('ends a stream opened with an API key when the key is revoked', async () => {
    const own = await api.signup('keyed@h.test');
    const issued = await api.call({
      method: 'post',
      path: '/api/api-keys',
      token: own,
      body: { name: 'tail', scope: 'read' },
    });
    expect(issued.status).toBe(201);
    const { id, key } = issued.body as { id: string; key: string };
    const res = await stream('type=decisions', key);
    expect(res.status).toBe(200);
    const revoke = setTimeout(
      () => void api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: own }),
      1_500,
    );
    const t0 = Date.now();
    const { ended } = await readSse(res, () => false, 8_000);
    clearTimeout(revoke);
    expect(ended).toBe(true);
    // ended by the revocation (after it), not refused at the start
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_500);
  });
});
