// Accounts end to end: logout, password change and deletion revoke tokens on REST and on
// both real-time transports; sign-up and login limits; the per-user site quota; real-time
// connection caps; and a JWT TTL beyond what one timer can wait (24.8 days).
import { JwtService } from '@nestjs/jwt';
import { PrismaService } from '@/infra/database/prisma.service';
import { FREE_FAILURES } from '@/modules/auth/login-throttle';
import { LIVE_QUOTAS } from '@/modules/auth/quotas';
import { SIGNUP_LIMIT } from '@/modules/auth/auth.service';
import { createTestApp, TestApp } from '../support/app';
import {
  connectIo,
  connectWs,
  openWs,
  sleep,
  waitFor,
} from '../integration/alerts-support/clients';
import { Api, expectError } from './api-helpers';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery';

describe('accounts: revocation, deletion, limits and quotas', () => {
  let t: TestApp;
  let api: Api;
  let base: string;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    t = await createTestApp({ MAX_SITES_PER_USER: '3', JWT_TTL_SECONDS: String(40 * 86_400) });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    api = new Api(t);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  const site = (n: number) => ({ url: `http://127.0.0.1:9/${n}`, intervalMs: 60_000 });

  it('logout revokes every token of the account, REST and real-time', async () => {
    const token = await api.signup('logout@acc.test', PASSWORD);
    const second = (
      await api.post('/api/auth/login', { email: 'logout@acc.test', password: PASSWORD })
    ).body.accessToken as string;
    const ws = await connectWs(base, token);
    const io = await connectIo(base, { token: second });
    open.push(ws, io);
    expect((await api.get('/api/auth/me', token)).status).toBe(200);

    expect((await api.post('/api/auth/logout', {}, token)).status).toBe(204);
    expectError(await api.get('/api/auth/me', token), 401, 'UNAUTHENTICATED');
    expectError(await api.get('/api/websites', second), 401, 'UNAUTHENTICATED');
    expect((await ws.closed).code).toBe(4401);
    await waitFor('the Socket.IO disconnect', () => !io.socket.connected, 5_000);
    await expect(connectIo(base, { token })).rejects.toThrow(/unauthorized/);
    // A new login works again.
    const again = await api.post('/api/auth/login', {
      email: 'logout@acc.test',
      password: PASSWORD,
    });
    expect((await api.get('/api/auth/me', again.body.accessToken)).status).toBe(200);
  });

  it('a password change needs the current password and revokes the other tokens', async () => {
    const token = await api.signup('pw@acc.test', PASSWORD);
    expectError(
      await api.post(
        '/api/auth/password',
        { currentPassword: 'wrong password!', newPassword: 'a new long password' },
        token,
      ),
      401,
      'UNAUTHENTICATED',
    );
    const res = await api.post(
      '/api/auth/password',
      { currentPassword: PASSWORD, newPassword: 'a new long password' },
      token,
    );
    expect(res.status).toBe(200);
    expectError(await api.get('/api/auth/me', token), 401, 'UNAUTHENTICATED');
    expect((await api.get('/api/auth/me', res.body.accessToken)).status).toBe(200);
    expect(
      (await api.post('/api/auth/login', { email: 'pw@acc.test', password: PASSWORD })).status,
    ).toBe(401);
    expect(
      (await api.post('/api/auth/login', { email: 'pw@acc.test', password: 'a new long password' }))
        .status,
    ).toBe(200);
  });

  it('account deletion needs the password and deletes the sites with the account', async () => {
    const token = await api.signup('gone@acc.test', PASSWORD);
    const created = await api.post('/api/websites', site(1), token);
    expect(created.status).toBe(201);
    const ws = await connectWs(base, token);
    open.push(ws);
    expectError(
      await api.call({ method: 'delete', path: '/api/auth/me', token, body: { password: 'nope' } }),
      401,
      'UNAUTHENTICATED',
    );
    const del = await api.call({
      method: 'delete',
      path: '/api/auth/me',
      token,
      body: { password: PASSWORD },
    });
    expect(del.status).toBe(204);
    const prisma = t.app.get(PrismaService);
    expect(await prisma.user.count({ where: { email: 'gone@acc.test' } })).toBe(0);
    expect(await prisma.website.count({ where: { id: created.body.id } })).toBe(0);
    expectError(await api.get('/api/auth/me', token), 401, 'UNAUTHENTICATED');
    expect((await ws.closed).code).toBe(4401);
  });

  it('caps sites per user with 422 QUOTA_EXCEEDED, also under concurrent creates', async () => {
    const token = await api.signup('quota@acc.test', PASSWORD);
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => api.post('/api/websites', site(n), token)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 422, 'QUOTA_EXCEEDED');
    const count = await t.app.get(PrismaService).website.count({
      where: { owner: { email: 'quota@acc.test' } },
    });
    expect(count).toBe(3);
  });

  it('closes a real-time connection only when a long-lived token expires, not at once', async () => {
    // 40-day TTL: above 2^31-1 ms, a plain setTimeout would fire immediately.
    const token = await api.signup('ttl@acc.test', PASSWORD);
    const ws = await connectWs(base, token);
    const io = await connectIo(base, { token });
    open.push(ws, io);
    await sleep(1_500);
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    expect(io.socket.connected).toBe(true);
    // A token that expires in 1 s still closes on time.
    const me = (await api.get('/api/auth/me', token)).body;
    const short = t.app
      .get(JwtService)
      .sign({ sub: me.id, email: me.email, ver: 0 }, { expiresIn: 1 });
    const soon = await connectWs(base, short);
    expect((await soon.closed).code).toBe(4401);
  });

  it('caps real-time connections per user', async () => {
    const token = await api.signup('many@acc.test', PASSWORD);
    const cap = LIVE_QUOTAS.realtimeConnections.perUser;
    for (let i = 0; i < cap; i++) open.push(await connectWs(base, token));
    const over = openWs(base, token);
    open.push(over);
    const closed = await Promise.race([over.closed, sleep(3_000).then(() => null)]);
    expect(closed).not.toBeNull();
    expect(over.of('authenticated')).toEqual([]);
    await expect(connectIo(base, { token })).rejects.toThrow(/too many connections/);
  });

  it('counts login attempts before hashing: 40 concurrent wrong guesses, at most the free ones get checked', async () => {
    await api.signup('guess@acc.test', PASSWORD);
    const guesses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api.post('/api/auth/login', { email: 'guess@acc.test', password: `wrong guess ${i}` }),
      ),
    );
    const checked = guesses.filter((g) => g.status === 401).length;
    const limited = guesses.filter((g) => g.status === 429).length;
    expect({ checked: checked <= FREE_FAILURES, total: checked + limited }).toEqual({
      checked: true,
      total: 40,
    });
  });
  it('limits sign-ups per IP (429 after the limit)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < SIGNUP_LIMIT + 2; i++)
      statuses.push(
        (await api.post('/api/auth/signup', { email: `s${i}@flood.test`, password: PASSWORD }))
          .status,
      );
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});
