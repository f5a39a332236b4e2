import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '@/bootstrap';
import { loadConfig } from '@/config/app-config';
import { createTestDatabase, TestDatabase } from './db';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  db: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real application (same wiring as main.ts) on a throwaway PostgreSQL
 * database, with the in-process event bus unless env says otherwise.
 */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'uptime-app-'));
  const config = loadConfig({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_TARGETS: 'true',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
    ...env,
  });
  const app = await createApp(config);
  await app.init();
  return {
    app,
    db,
    http: request(app.getHttpServer()),
    async close() {
      await app.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs up and logs in; returns the bearer token. */
export async function signupAndLogin(
  t: TestApp,
  email: string,
  password = 'correct horse battery',
): Promise<string> {
  await t.http.post('/api/auth/signup').send({ email, password }).expect(201);
  const res = await t.http.post('/api/auth/login').send({ email, password }).expect(200);
  return (res.body as { accessToken: string }).accessToken;
}
