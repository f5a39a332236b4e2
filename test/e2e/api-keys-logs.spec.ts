// Keys never reach the log: the built node runs as a real process at LOG_LEVEL=trace (every
// request logged) while keys are created, used, refused (read key on a write, revoked, malformed,
// sent in a query string and a body) and revoked; its whole stdout and stderr then contain
// neither a key, nor its secret part, nor the stored HMAC.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../support/db';
import { NodeProcess, startNode } from '../support/node-process';

jest.setTimeout(120_000);

describe('API keys in the logs', () => {
  let db: TestDatabase;
  let node: NodeProcess;
  let dataDir: string;
  const pepper = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'uptime-keylog-'));
    node = await startNode({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'trace',
      ALLOW_PRIVATE_TARGETS: 'true',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      API_KEY_PEPPER: pepper,
    });
    await node.waitReady();
  });
  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${node.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };

  it('never logs a key, its secret part or its hash', async () => {
    const email = 'logs@example.com';
    const password = 'correct horse battery';
    expect((await call('POST', '/api/auth/signup', undefined, { email, password })).status).toBe(
      201,
    );
    const jwt = (await call('POST', '/api/auth/login', undefined, { email, password })).body
      .accessToken as string;

    const read = await call('POST', '/api/api-keys', jwt, { name: 'read', scope: 'read' });
    const write = await call('POST', '/api/api-keys', jwt, { name: 'write', scope: 'write' });
    expect([read.status, write.status]).toEqual([201, 201]);
    const keys = [read.body.key as string, write.body.key as string];

    expect((await call('GET', '/api/websites', keys[0])).status).toBe(200);
    expect(
      (await call('POST', '/api/websites', keys[0], { url: 'http://127.0.0.1:9/' })).status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/websites', keys[1], { url: 'http://127.0.0.1:9/', paused: true }))
        .status,
    ).toBe(201);
    // A key where it does not belong: a query string, a rejected body, a key route.
    expect((await call('GET', `/api/websites?api_key=${keys[0]}`, jwt)).status).toBe(400);
    expect((await call('POST', '/api/websites', keys[1], { url: keys[1] })).status).toBe(400);
    expect((await call('GET', '/api/api-keys', keys[1])).status).toBe(403);
    // Revoked, then used; a forged one.
    expect((await call('DELETE', `/api/api-keys/${read.body.id}`, jwt)).status).toBe(204);
    expect((await call('GET', '/api/websites', keys[0])).status).toBe(401);
    expect((await call('GET', '/api/websites', `${keys[1].slice(0, -2)}xx`)).status).toBe(401);

    await node.stop('SIGTERM');
    const out = node.output();
    // The log is there and detailed: every request above left a line.
    expect(out).toContain('"url":"/api/api-keys"');
    expect(
      out.split('\n').filter((l) => l.includes('"/api/websites"')).length,
    ).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      const hash = createHmac('sha256', pepper).update(key).digest();
      for (const form of [
        key,
        key.slice(3),
        key.slice(3, 20),
        hash.toString('hex'),
        hash.toString('base64'),
        hash.toString('base64url'),
      ])
        expect({ form, logged: out.includes(form) }).toEqual({ form, logged: false });
    }
  });
});
