// API keys over real HTTP against a real PostgreSQL: a key is shown once and stored only as an
// HMAC; a read key is refused (403) on every write and changes nothing; a write key acts as its
// owner and only its owner; expired, revoked and unknown keys get 401; keys cannot manage keys or
// the account; the per-user quota holds under concurrent creates; last use is recorded.
import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { createTestApp, signupAndLogin, TestApp } from '../support/app';
import { Api, expectError, TEST_JWT_SECRET } from './api-helpers';

jest.setTimeout(120_000);

const site = { url: 'http://127.0.0.1:9/health', name: 'local', paused: true };
const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

interface Issued {
  id: string;
  key: string;
  name: string;
  scope: string;
  hint: string;
  expiresAt: string;
}

describe('API keys', () => {
  let t: TestApp;
  let api: Api;
  let pg: Client;
  let alice: string;
  let bob: string;

  const createKey = async (token: string, body: Record<string, unknown>): Promise<Issued> => {
    const res = await api.call({ method: 'post', path: '/api/api-keys', token, body });
    expect(res.status).toBe(201);
    return res.body as Issued;
  };
  const siteCount = async () =>
    Number((await pg.query('SELECT count(*)::int AS n FROM websites')).rows[0].n);

  beforeAll(async () => {
    t = await createTestApp({ MAX_API_KEYS_PER_USER: '8' });
    api = new Api(t);
    pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    alice = await signupAndLogin(t, 'alice-keys@example.com');
    bob = await signupAndLogin(t, 'bob-keys@example.com');
  });
  afterAll(async () => {
    await pg?.end();
    await t?.close();
  });
  afterEach(() => {
    expect(api.seen.filter((s) => s.status >= 500)).toEqual([]);
  });

  it('shows a key once and stores only its HMAC, never the key', async () => {
    const res = await api.call({
      method: 'post',
      path: '/api/api-keys',
      token: alice,
      body: { name: 'shown-once', scope: 'read' },
    });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const issued = res.body as Issued;
    expect(issued.key).toMatch(/^uk_[A-Za-z0-9_-]{43}$/);
    expect(issued.hint).toBe(issued.key.slice(0, 9));
    // default expiry: 90 days
    const days = (Date.parse(issued.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    const list = await api.get('/api/api-keys', alice);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(issued.key);
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ id: issued.id, name: 'shown-once', scope: 'read', expired: false }),
    );
    expect(list.body.items[0]).not.toHaveProperty('key');

    const row = (await pg.query('SELECT * FROM api_keys WHERE id = $1', [issued.id])).rows[0];
    expect(JSON.stringify(row)).not.toContain(issued.key.slice(3));
    const pepper = createHmac('sha256', TEST_JWT_SECRET)
      .update('uptime-validator/api-key-pepper/v1')
      .digest('base64url');
    expect(
      (row.key_hash as Buffer).equals(createHmac('sha256', pepper).update(issued.key).digest()),
    ).toBe(true);
  });

  it('a read key reads, and gets 403 on every write route without changing anything', async () => {
    const { key } = await createKey(alice, { name: 'reader', scope: 'read' });
    const created = await api.call({
      method: 'post',
      path: '/api/websites',
      token: alice,
      body: site,
    });
    expect(created.status).toBe(201);
    const siteId = created.body.id as string;
    const before = await siteCount();

    expect((await api.get('/api/websites', key)).status).toBe(200);
    expect((await api.get(`/api/websites/${siteId}`, key)).status).toBe(200);
    expect((await api.get('/api/auth/me', key)).body.email).toBe('alice-keys@example.com');

    const writes: ['post' | 'put' | 'delete', string, unknown][] = [
      ['post', '/api/websites', site],
      ['put', `/api/websites/${siteId}`, { name: 'renamed' }],
      ['put', `/api/websites/${siteId}/pause`, { paused: false }],
      ['delete', `/api/websites/${siteId}`, undefined],
      ['post', '/api/notifications/channels', { type: 'WEBHOOK', name: 'x', config: {} }],
      ['post', '/api/status-pages', { slug: 'alice-page', title: 'A' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await api.call({ method, path, token: key, body });
      expectError(res, 403, 'FORBIDDEN');
    }
    expect(await siteCount()).toBe(before);
    const still = await api.get(`/api/websites/${siteId}`, alice);
    expect(still.body).toMatchObject({ name: 'local', paused: true });
  });

  it('a write key acts as its owner, and sees nothing of another user', async () => {
    const { key } = await createKey(alice, { name: 'writer', scope: 'write' });
    const res = await api.call({
      method: 'post',
      path: '/api/websites',
      token: key,
      body: { ...site, name: 'by-key' },
    });
    expect(res.status).toBe(201);
    const mine = await api.get('/api/websites?limit=100', alice);
    expect(mine.body.items.map((s: { id: string }) => s.id)).toContain(res.body.id);

    const bobs = await api.call({
      method: 'post',
      path: '/api/websites',
      token: bob,
      body: { ...site, name: 'bob' },
    });
    const bobSite = bobs.body.id as string;
    expectError(await api.get(`/api/websites/${bobSite}`, key), 404, 'NOT_FOUND');
    expectError(
      await api.call({ method: 'delete', path: `/api/websites/${bobSite}`, token: key }),
      404,
      'NOT_FOUND',
    );
    expect((await api.get(`/api/websites/${bobSite}`, bob)).status).toBe(200);
    expect(
      (await api.get('/api/websites?limit=100', key)).body.items.map((s: { id: string }) => s.id),
    ).not.toContain(bobSite);
  });

  it('a key cannot create, list or revoke keys, nor log out, change the password or delete the account', async () => {
    const { id, key } = await createKey(alice, { name: 'no-admin', scope: 'write' });
    expectError(
      await api.call({
        method: 'post',
        path: '/api/api-keys',
        token: key,
        body: { name: 'child', scope: 'write' },
      }),
      403,
      'FORBIDDEN',
    );
    expectError(await api.get('/api/api-keys', key), 403, 'FORBIDDEN');
    expectError(
      await api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: key }),
      403,
      'FORBIDDEN',
    );
    expectError(
      await api.call({ method: 'post', path: '/api/auth/logout', token: key }),
      403,
      'FORBIDDEN',
    );
    expectError(
      await api.call({
        method: 'post',
        path: '/api/auth/password',
        token: key,
        body: { currentPassword: 'correct horse battery', newPassword: 'another long password' },
      }),
      403,
      'FORBIDDEN',
    );
    expectError(
      await api.call({
        method: 'delete',
        path: '/api/auth/me',
        token: key,
        body: { password: 'correct horse battery' },
      }),
      403,
      'FORBIDDEN',
    );
    expect((await api.get('/api/auth/me', alice)).status).toBe(200);
  });

  it('a revoked key gets 401, and only its owner can revoke it', async () => {
    const { id, key } = await createKey(alice, { name: 'to-revoke', scope: 'read' });
    expect((await api.get('/api/websites', key)).status).toBe(200);
    expectError(
      await api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: bob }),
      404,
      'NOT_FOUND',
    );
    expect((await api.get('/api/websites', key)).status).toBe(200);
    expect(
      (await api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: alice })).status,
    ).toBe(204);
    expectError(await api.get('/api/websites', key), 401, 'UNAUTHENTICATED');
    expectError(
      await api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: alice }),
      404,
      'NOT_FOUND',
    );
    const list = await api.get('/api/api-keys', alice);
    expect(list.body.items.map((k: { id: string }) => k.id)).not.toContain(id);
  });

  it('an expired key gets 401 and is listed as expired', async () => {
    const { id, key } = await createKey(alice, {
      name: 'expiring',
      scope: 'write',
      expiresAt: future(1),
    });
    await pg.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      id,
    ]);
    expectError(await api.get('/api/websites', key), 401, 'UNAUTHENTICATED');
    expectError(
      await api.call({ method: 'post', path: '/api/websites', token: key, body: site }),
      401,
      'UNAUTHENTICATED',
    );
    const listed = (await api.get('/api/api-keys', alice)).body.items.find(
      (k: { id: string }) => k.id === id,
    );
    expect(listed).toMatchObject({ expired: true });
    await api.call({ method: 'delete', path: `/api/api-keys/${id}`, token: alice });
  });

  it('unknown, malformed and forged keys get 401; JWTs keep working', async () => {
    const { key } = await createKey(bob, { name: 'real', scope: 'read' });
    const forged = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const bad of [forged, 'uk_', 'uk_short', `uk_${'x'.repeat(43)}`, `${key}x`])
      expectError(await api.get('/api/websites', bad), 401, 'UNAUTHENTICATED');
    expect((await api.get('/api/websites', bob)).status).toBe(200);
    expect((await api.get('/api/websites', key)).status).toBe(200);
  });

  it('refuses bad input with a clear error and creates nothing', async () => {
    const count = async () =>
      Number((await pg.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n);
    const before = await count();
    const bad: [unknown, string][] = [
      [{ name: 'x', scope: 'admin' }, 'scope'],
      [{ name: '', scope: 'read' }, 'name'],
      [{ name: 'n'.repeat(101), scope: 'read' }, 'name'],
      [{ name: 'a\u0007b', scope: 'read' }, 'name'],
      [{ scope: 'read' }, 'name'],
      [{ name: 'x', scope: 'read', expiresAt: 'tomorrow' }, 'expiresAt'],
      [
        { name: 'x', scope: 'read', expiresAt: new Date(Date.now() - 1000).toISOString() },
        'expiresAt',
      ],
      [{ name: 'x', scope: 'read', expiresAt: future(400) }, 'expiresAt'],
      [{ name: 'x', scope: 'read', extra: 1 }, '(body)'],
    ];
    for (const [body, path] of bad) {
      const res = await api.call({ method: 'post', path: '/api/api-keys', token: alice, body });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body.details ?? [])).toContain(path === '(body)' ? '' : path);
    }
    expectError(
      await api.call({
        method: 'post',
        path: '/api/api-keys',
        token: alice,
        body: { name: 'reader', scope: 'read' },
      }),
      409,
      'CONFLICT',
    );
    expect(await count()).toBe(before);
  });

  it('caps unexpired keys per user (MAX_API_KEYS_PER_USER), also under concurrent creates', async () => {
    const carol = await signupAndLogin(t, 'carol-keys@example.com');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api.call({
          method: 'post',
          path: '/api/api-keys',
          token: carol,
          body: { name: `k${i}`, scope: 'read' },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(8);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 422, 'QUOTA_EXCEEDED');
    const listed = await api.get('/api/api-keys', carol);
    expect(listed.body.items).toHaveLength(8);
    // an expired key no longer counts
    await pg.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      listed.body.items[0].id,
    ]);
    expect(
      (
        await api.call({
          method: 'post',
          path: '/api/api-keys',
          token: carol,
          body: { name: 'after-expiry', scope: 'read' },
        })
      ).status,
    ).toBe(201);
  });

  it('records the last use', async () => {
    const { id, key } = await createKey(bob, { name: 'used', scope: 'read' });
    const listedBefore = (await api.get('/api/api-keys', bob)).body.items.find(
      (k: { id: string }) => k.id === id,
    );
    expect(listedBefore.lastUsedAt).toBeNull();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) expect((await api.get('/api/websites', key)).status).toBe(200);
    const listed = (await api.get('/api/api-keys', bob)).body.items.find(
      (k: { id: string }) => k.id === id,
    );
    expect(Date.parse(listed.lastUsedAt)).toBeGreaterThanOrEqual(t0 - 1000);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.http.get('/api/docs-json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths['/api/api-keys'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/api-keys/{id}'] ?? {})).toEqual(['delete']);
    expect(JSON.stringify(doc.paths['/api/websites'])).toContain('"403"');
  });
});
