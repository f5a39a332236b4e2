import { createTestApp, signupAndLogin, TestApp } from '../support/app';

/** The foundation's HTTP surface over the wire: ops endpoints, errors, auth, site CRUD. */
jest.setTimeout(60_000);

describe('foundation API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('serves liveness, readiness and the OpenAPI document', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body.info).toMatchObject({ database: { status: 'up' }, events: { status: 'up' } });
    const doc = await t.http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/signup',
        '/api/auth/login',
        '/api/websites',
        '/api/websites/{id}',
      ]),
    );
    await t.http.get('/api/docs').expect(200);
  });

  it('answers malformed JSON with the one error shape, not a 5xx', async () => {
    const res = await t.http
      .post('/api/auth/signup')
      .set('content-type', 'application/json')
      .send('{"email": ')
      .expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'BAD_JSON', message: expect.any(String) });
  });

  it('lists field problems for invalid bodies', async () => {
    const res = await t.http
      .post('/api/auth/signup')
      .send({ email: 'not-an-email', password: 'short', extra: 1 })
      .expect(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['email', 'password']),
    );
  });

  it('creates, reads, pauses and deletes a site for its owner only', async () => {
    const a = await signupAndLogin(t, 'a@example.com');
    const b = await signupAndLogin(t, 'b@example.com');
    const created = await t.http
      .post('/api/websites')
      .set('authorization', `Bearer ${a}`)
      .send({ url: 'http://127.0.0.1:9/health', name: 'local' })
      .expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      url: 'http://127.0.0.1:9/health',
      paused: false,
      intervalMs: 60_000,
    });

    await t.http.get(`/api/websites/${id}`).set('authorization', `Bearer ${b}`).expect(404);
    await t.http.get(`/api/websites/${id}`).set('authorization', `Bearer ${a}`).expect(200);
    const paused = await t.http
      .put(`/api/websites/${id}/pause`)
      .set('authorization', `Bearer ${a}`)
      .send({ paused: true })
      .expect(200);
    expect(paused.body.paused).toBe(true);
    await t.http.delete(`/api/websites/${id}`).set('authorization', `Bearer ${b}`).expect(404);
    await t.http.delete(`/api/websites/${id}`).set('authorization', `Bearer ${a}`).expect(204);
    await t.http.get(`/api/websites/${id}`).set('authorization', `Bearer ${a}`).expect(404);
  });

  it('refuses missing and forged tokens with 401', async () => {
    await t.http.get('/api/websites').expect(401);
    await t.http.get('/api/websites').set('authorization', 'Bearer abc.def.ghi').expect(401);
  });
});

describe('site defaults', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('defaults the timeout below a short interval instead of refusing the site', async () => {
    const token = await signupAndLogin(t, 'short@example.com');
    const res = await t.http
      .post('/api/websites')
      .set('authorization', `Bearer ${token}`)
      .send({ url: 'http://127.0.0.1:9/', intervalMs: 10_000 })
      .expect(201);
    expect(res.body).toMatchObject({ intervalMs: 10_000, timeoutMs: 5_000 });
    const long = await t.http
      .post('/api/websites')
      .set('authorization', `Bearer ${token}`)
      .send({ url: 'http://127.0.0.1:9/', intervalMs: 300_000 })
      .expect(201);
    expect(long.body.timeoutMs).toBe(10_000);
  });
});
