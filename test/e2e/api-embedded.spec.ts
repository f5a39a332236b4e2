// The websites, history and summary API on the embedded database (PGlite, one connection):
// the writer's single-statement batches, the keyset pages and the one-statement summary must
// work there too, with no query awaiting another inside a transaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '@/bootstrap';
import { loadConfig } from '@/config/app-config';
import { EventBus } from '@/infra/events/event-bus.port';
import { PrismaService } from '@/infra/database/prisma.service';
import { PingLogRetention } from '@/modules/ping-logs/ping-log-retention';
import type { TestApp } from '../support/app';
import { Api } from './api-helpers';

jest.setTimeout(180_000);

describe('API on the embedded database', () => {
  let app: INestApplication;
  let api: Api;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'uptime-embedded-api-'));
    app = await createApp(
      loadConfig({
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
        ALLOW_PRIVATE_TARGETS: 'true',
      }),
    );
    await app.init();
    api = new Api({ app, http: request(app.getHttpServer()) } as unknown as TestApp);
  });
  afterAll(async () => {
    expect(api?.serverErrors()).toEqual([]);
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores checks and serves history and summary', async () => {
    const token = await api.signup('embedded@example.com');
    const site = await api.post(
      '/api/websites',
      { url: 'http://127.0.0.1:9/', paused: true },
      token,
    );
    expect(site.status).toBe(201);
    const id = site.body.id as string;
    const checkedAt = new Date(Date.now() - 5 * 60_000).toISOString();
    const logs = [true, true, false, true].map((up, i) => ({
      key: id,
      value: {
        v: 1,
        siteId: id,
        round: 1 + (i >> 1),
        validatorId: `v${i % 2}`,
        region: i % 2 ? 'us' : 'eu',
        up,
        latencyMs: 100 * (i + 1),
        httpStatus: up ? 200 : 500,
        failure: up ? null : 'HTTP_STATUS',
        error: null,
        phases: { total: 100 * (i + 1) },
        checkedAt,
      },
    }));
    await app.get(EventBus).publish('healthLogs', [...logs, ...logs]);
    const prisma = app.get(PrismaService);
    const deadline = Date.now() + 20_000;
    while ((await prisma.pingLog.count({ where: { websiteId: id } })) < 4) {
      if (Date.now() > deadline) throw new Error('logs not stored');
      await new Promise((r) => setTimeout(r, 100));
    }

    const history = await api.get(`/api/websites/${id}/history?limit=3`, token);
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(3);
    const next = await api.get(
      `/api/websites/${id}/history?limit=3&cursor=${history.body.nextCursor}`,
      token,
    );
    expect(next.body.items).toHaveLength(1);

    const summary = await api.get(`/api/websites/${id}/summary`, token);
    expect(summary.status).toBe(200);
    expect(summary.body.windows[0]).toMatchObject({
      checks: 4,
      upChecks: 3,
      uptimePct: 75,
      avgLatencyMs: 233.3, // (100 + 200 + 400) / 3
    });
    expect(summary.body.windows[0].regions.map((r: { region: string }) => r.region)).toEqual([
      'eu',
      'us',
    ]);
    expect(await app.get(PingLogRetention).runOnce()).toBe(0);
  });
});
