import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '@/app.module';
import type { Decision } from '@/core/consensus/decision';
import { loadConfig } from '@/config/app-config';
import { resolveSecrets } from '@/config/secrets';
import { PrismaService } from '@/infra/database/prisma.service';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipModule } from '@/modules/gossip/gossip.module';
import { GossipService } from '@/modules/gossip/gossip.service';
import { SigningResultSink } from '@/modules/gossip/signing-result.sink';
import { PingModule } from '@/modules/ping/ping.module';
import { WebsiteSiteSource } from '@/modules/websites/website.site-source';
import { WebsitesModule } from '@/modules/websites/websites.module';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The app.module change this module asks for, applied to the real AppModule:
 * PingModule.forRoot({ imports: [WebsitesModule, GossipModule], siteSource:
 * WebsiteSiteSource, resultSink: SigningResultSink }). A scheduled check then
 * becomes a signed vote that the single node's tally decides, and its health
 * log still reaches ping_logs.
 */
jest.setTimeout(120_000);

function withSigningSink(root: DynamicModule): DynamicModule {
  const imports = (root.imports ?? []).map((m) =>
    (m as DynamicModule)?.module === PingModule
      ? PingModule.forRoot({
          imports: [WebsitesModule, GossipModule],
          siteSource: WebsiteSiteSource,
          resultSink: SigningResultSink,
        })
      : m,
  );
  return { ...root, imports };
}

describe('SigningResultSink bound into the ping scheduler', () => {
  let db: TestDatabase;
  let dataDir: string;
  let app: INestApplicationContext;
  let target: Server;
  const decisions: Decision[] = [];

  beforeAll(async () => {
    target = createServer((_req, res) => res.writeHead(503).end('down for maintenance'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'uptime-wiring-'));
    const config = loadConfig({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ALLOW_PRIVATE_TARGETS: 'true',
      VALIDATOR_ID: 'solo',
      LOCATION: 'eu',
    });
    await resolveSecrets(config);
    app = await NestFactory.createApplicationContext(withSigningSink(AppModule.forRoot(config)), {
      logger: false,
    });
    await app.init();
    app.get(TallyService).onDecision((d) => decisions.push(d));
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await new Promise((r) => target?.close(r));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('votes, decides and still logs every scheduled check', async () => {
    const prisma = app.get(PrismaService);
    const user = await prisma.user.create({ data: { email: 'w@example.com', passwordHash: 'x' } });
    const { port } = target.address() as { port: number };
    const site = await prisma.website.create({
      data: {
        ownerId: user.id,
        name: 'local',
        url: `http://127.0.0.1:${port}/`,
        intervalMs: 10_000,
        timeoutMs: 2_000,
        expectedStatus: [],
      },
    });
    const deadline = Date.now() + 40_000;
    while (!decisions.some((d) => d.siteId === site.id) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const d = decisions.find((x) => x.siteId === site.id);
    expect(d).toMatchObject({
      verdict: 'DOWN',
      regionVerdicts: { eu: 'DOWN' },
      voters: ['solo'],
      tally: { up: 0, down: 1, total: 1 },
    });
    expect(app.get(GossipService).stats().published).toBeGreaterThanOrEqual(1);
    // the health log went on to ping_logs as before
    let rows = 0;
    while (rows === 0 && Date.now() < deadline + 10_000) {
      rows = await prisma.pingLog.count({ where: { websiteId: site.id } });
      if (rows === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).toBeGreaterThanOrEqual(1);
  });
});
