// Shared by the api-*.spec.ts files: requests that record every status (so a suite can
// assert that nothing answered 5xx), bearer tokens that are expired, forged or malformed,
// and the bad-input cases every JSON body endpoint must refuse with the one error shape.
import { createHmac, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { TestApp } from '../support/app';

/** The JWT_SECRET createTestApp configures. */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Call {
  method: Method;
  path: string;
  token?: string;
  /** an object is sent as JSON; a string is sent verbatim as application/json */
  body?: unknown;
  contentType?: string;
}

export class Api {
  readonly seen: { status: number; what: string }[] = [];

  constructor(readonly t: TestApp) {}

  async call(c: Call): Promise<Response> {
    let req = this.t.http[c.method](c.path);
    if (c.token !== undefined) req = req.set('authorization', `Bearer ${c.token}`);
    if (c.body !== undefined) {
      req = req.set('content-type', c.contentType ?? 'application/json');
      req = req.send(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
    }
    const res = await req;
    this.seen.push({ status: res.status, what: `${c.method.toUpperCase()} ${c.path}` });
    return res;
  }

  get(path: string, token?: string) {
    return this.call({ method: 'get', path, token });
  }
  post(path: string, body: unknown, token?: string) {
    return this.call({ method: 'post', path, token, body });
  }
  put(path: string, body: unknown, token?: string) {
    return this.call({ method: 'put', path, token, body });
  }
  delete(path: string, token?: string) {
    return this.call({ method: 'delete', path, token });
  }

  /** Every 5xx answered so far: a suite ends with expect(api.serverErrors()).toEqual([]). */
  serverErrors(): string[] {
    return this.seen.filter((s) => s.status >= 500).map((s) => `${s.status} ${s.what}`);
  }

  async signup(email: string, password = 'correct horse battery'): Promise<string> {
    const s = await this.post('/api/auth/signup', { email, password });
    expect(s.status).toBe(201);
    const l = await this.post('/api/auth/login', { email, password });
    expect(l.status).toBe(200);
    return (l.body as { accessToken: string }).accessToken;
  }
}

/** An HS256 JWT signed with `secret`. */
export function signJwt(payload: Record<string, unknown>, secret = TEST_JWT_SECRET): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Tokens that must all be refused with 401, for the account `sub`. */
export function badTokens(sub: string = randomUUID()): Record<string, string | undefined> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, email: 'x@example.com' };
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return {
    missing: undefined,
    expired: signJwt({ ...claims, iat: now - 7200, exp: now - 3600 }),
    forged: signJwt(
      { ...claims, iat: now, exp: now + 3600 },
      'another-secret-0123456789abcdef012345',
    ),
    unsigned: `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ ...claims, exp: now + 3600 })}.`,
    garbage: 'not.a.token',
    'without subject': signJwt({ email: 'x@example.com', exp: now + 3600 }),
    'with a non-UUID subject': signJwt({
      sub: '1 OR 1=1',
      email: 'x@example.com',
      exp: now + 3600,
    }),
  };
}

/** Asserts the one error shape and returns the body. */
export function expectError(res: Response, status: number, code: string) {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status,
    body: { statusCode: status, error: code, message: expect.any(String) },
  });
  return res.body as { details?: { path: string; message: string }[] };
}

/** The field paths named by a VALIDATION_FAILED error. */
export function fieldPaths(res: Response): string[] {
  return ((res.body as { details?: { path: string }[] }).details ?? []).map((d) => d.path);
}

/** Things every endpoint that takes a JSON body must answer 400 to. */
export const MALFORMED_BODIES: [string, string][] = [
  ['truncated JSON', '{"a": '],
  ['not JSON at all', 'hello'],
  ['trailing garbage', '{"a":1}}'],
];

export const ids = {
  malformed: ['not-a-uuid', '123', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', `${randomUUID()}x`],
  unknown: () => randomUUID(),
};
