// POST /api/auth/signup, POST /api/auth/login, GET /api/auth/me over HTTP against a real
// PostgreSQL: success paths, every kind of bad input, tokens that are missing, expired,
// forged or malformed, no account enumeration, rate limits; and never a 5xx.
import { PrismaService } from '@/infra/database/prisma.service';
import { createTestApp, TestApp } from '../support/app';
import {
  Api,
  badTokens,
  expectError,
  fieldPaths,
  MALFORMED_BODIES,
  signJwt,
  TEST_JWT_SECRET,
} from './api-helpers';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery';

describe('auth API', () => {
  let t: TestApp;
  let api: Api;
  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  describe('POST /api/auth/signup', () => {
    it('creates an account and never returns the password hash', async () => {
      const res = await api.post('/api/auth/signup', {
        email: '  Alice@Example.COM ',
        password: PASSWORD,
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: 'alice@example.com',
        createdAt: expect.any(String),
      });
      const stored = await t.app.get(PrismaService).user.findUniqueOrThrow({
        where: { email: 'alice@example.com' },
      });
      expect(stored.passwordHash).toMatch(/^scrypt\$/);
      expect(stored.passwordHash).not.toContain(PASSWORD);
    });

    it('answers a taken e-mail exactly like a new one, and changes nothing', async () => {
      const before = await t.app.get(PrismaService).user.findUniqueOrThrow({
        where: { email: 'alice@example.com' },
      });
      const taken = await api.post('/api/auth/signup', {
        email: 'ALICE@example.com',
        password: 'an attacker password',
      });
      const fresh = await api.post('/api/auth/signup', {
        email: 'nobody-yet@example.com',
        password: PASSWORD,
      });
      // Same status, same keys, same formats: nothing tells the two apart.
      for (const res of [taken, fresh]) {
        expect(res.status).toBe(201);
        expect(res.body).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          email: expect.any(String),
          createdAt: expect.any(String),
        });
      }
      expect(taken.body.id).not.toBe(before.id);
      const after = await t.app.get(PrismaService).user.findUniqueOrThrow({
        where: { email: 'alice@example.com' },
      });
      expect(after).toEqual(before);
    });

    it.each([...MALFORMED_BODIES, ['a bare JSON string', '"hello"'], ['a JSON null', 'null']])(
      'answers 400 BAD_JSON to %s',
      async (_, raw) => {
        expectError(await api.post('/api/auth/signup', raw), 400, 'BAD_JSON');
      },
    );

    it.each<[string, unknown, string[]]>([
      ['an empty object', {}, ['email', 'password']],
      ['a missing password', { email: 'b@example.com' }, ['password']],
      ['a missing email', { password: PASSWORD }, ['email']],
      ['an extra field', { email: 'b@example.com', password: PASSWORD, admin: true }, ['(body)']],
      ['a numeric email', { email: 5, password: PASSWORD }, ['email']],
      ['a boolean password', { email: 'b@example.com', password: true }, ['password']],
      ['a null email', { email: null, password: PASSWORD }, ['email']],
      ['an invalid email', { email: 'not-an-email', password: PASSWORD }, ['email']],
      ['a short password', { email: 'b@example.com', password: 'short' }, ['password']],
      [
        'an overlong email',
        { email: `${'a'.repeat(250)}@example.com`, password: PASSWORD },
        ['email'],
      ],
      ['an overlong password', { email: 'b@example.com', password: 'p'.repeat(257) }, ['password']],
      ['an array body', [{ email: 'b@example.com', password: PASSWORD }], ['(body)']],
    ])('answers 400 VALIDATION_FAILED to %s', async (_, body, paths) => {
      const res = await api.post('/api/auth/signup', body);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res)).toEqual(expect.arrayContaining(paths));
    });

    it('answers 400, not 5xx, to a body that is not JSON-typed or too large', async () => {
      const text = await api.call({
        method: 'post',
        path: '/api/auth/signup',
        body: 'email=a@b.c&password=x',
        contentType: 'application/x-www-form-urlencoded',
      });
      expectError(text, 400, 'VALIDATION_FAILED');
      const huge = await api.post('/api/auth/signup', {
        email: 'b@example.com',
        password: 'x'.repeat(300_000),
      });
      expectError(huge, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('POST /api/auth/login', () => {
    it('returns a bearer token that expires', async () => {
      const res = await api.post('/api/auth/login', {
        email: 'alice@example.com',
        password: PASSWORD,
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 3600,
      });
      const claims = JSON.parse(
        Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString(),
      );
      expect(claims.exp - claims.iat).toBe(3600);
      const me = await api.get('/api/auth/me', res.body.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.email).toBe('alice@example.com');
    });

    it('gives the same 401 for an unknown e-mail and a wrong password', async () => {
      const unknown = await api.post('/api/auth/login', {
        email: 'nobody@example.com',
        password: PASSWORD,
      });
      const wrong = await api.post('/api/auth/login', {
        email: 'alice@example.com',
        password: 'wrong password!',
      });
      expectError(unknown, 401, 'UNAUTHENTICATED');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual(unknown.body);
    });

    it.each(MALFORMED_BODIES)('answers 400 BAD_JSON to %s', async (_, raw) => {
      expectError(await api.post('/api/auth/login', raw), 400, 'BAD_JSON');
    });

    it.each<[string, unknown]>([
      ['an empty object', {}],
      ['a missing password', { email: 'alice@example.com' }],
      ['an extra field', { email: 'alice@example.com', password: PASSWORD, remember: true }],
      ['wrong types', { email: ['alice@example.com'], password: 123 }],
      ['an overlong password', { email: 'alice@example.com', password: 'p'.repeat(257) }],
      ['an overlong email', { email: `${'a'.repeat(300)}@example.com`, password: PASSWORD }],
    ])('answers 400 VALIDATION_FAILED to %s', async (_, body) => {
      expectError(await api.post('/api/auth/login', body), 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /api/auth/me', () => {
    it.each(Object.entries(badTokens()))(
      'answers 401 to a bearer token that is %s',
      async (_, token) => {
        expectError(await api.get('/api/auth/me', token), 401, 'UNAUTHENTICATED');
      },
    );

    it('answers 401 to a valid token of an account that no longer exists', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(
        { sub: '00000000-0000-4000-8000-000000000000', email: 'gone@example.com', exp: now + 60 },
        TEST_JWT_SECRET,
      );
      expectError(await api.get('/api/auth/me', token), 401, 'UNAUTHENTICATED');
    });

    it('answers 401 to a token whose signature was tampered with', async () => {
      const token = await api.signup('tamper@example.com');
      const [h, p, s] = token.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const lifted = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString(
        'base64url',
      );
      expectError(await api.get('/api/auth/me', `${h}.${lifted}.${s}`), 401, 'UNAUTHENTICATED');
      const other = await api.call({ method: 'get', path: '/api/auth/me' });
      expect(other.status).toBe(401);
      const basic = await t.http.get('/api/auth/me').set('authorization', `Basic ${token}`);
      expect(basic.status).toBe(401);
    });
  });
});

describe('auth API rate limits', () => {
  let t: TestApp;
  let api: Api;
  beforeAll(async () => {
    t = await createTestApp();
    api = new Api(t);
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await t?.close();
  });

  it('locks an account after 10 failures, even for the right password, with Retry-After', async () => {
    await api.signup('victim@example.com');
    for (let i = 0; i < 10; i++) {
      const res = await api.post('/api/auth/login', {
        email: 'victim@example.com',
        password: `wrong password ${i}`,
      });
      expect(res.status).toBe(401);
    }
    const locked = await api.post('/api/auth/login', {
      email: 'victim@example.com',
      password: PASSWORD,
    });
    expectError(locked, 429, 'RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits attempts per IP across accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await api.post('/api/auth/login', {
        email: `someone${i}@example.com`,
        password: PASSWORD,
      });
      statuses.push(res.status);
    }
    // 20 per minute per IP: 1 signup-login + 11 before, so the limit bites in this loop.
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });
});
