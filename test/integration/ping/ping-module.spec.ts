/**
 * PingModule wired as the app wires it: GET /api/status validates its input, runs
 * one check and returns the phases; a bound SiteSource is checked on schedule and
 * every result lands on the healthLogs topic as a v1 health log.
 */
import { UserTokenGuard } from '@/modules/auth/current-user.decorator';
import { Global, INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ZodValidationPipe } from 'nestjs-zod';
import request from 'supertest';
import { AllExceptionsFilter } from '@/common/all-exceptions.filter';
import { loadConfig } from '@/config/app-config';
import { ConfigModule } from '@/config/config.module';
import { EventBus, OutgoingEvent, TopicKey } from '@/infra/events/event-bus.port';
import { DnsResolver } from '@/modules/dns/dns-resolver';
import { InMemorySiteSource } from '@/modules/ping/in-memory-site-source';
import { PingModule } from '@/modules/ping/ping.module';
import { FakeDnsResolver } from '../../unit/ping/support/fake-dns-resolver';
import { spec } from '../../unit/ping/support/recording';
import { startTarget, Target } from './support/targets';

class MemoryBus extends EventBus {
  readonly published: { topic: TopicKey; event: OutgoingEvent }[] = [];
  override async publish(topic: TopicKey, events: OutgoingEvent[]): Promise<void> {
    for (const event of events) this.published.push({ topic, event });
  }
  override subscribe(): never {
    throw new Error('unused');
  }
  override async health() {
    return { up: true, kind: 'in-process' as const };
  }
  override async close(): Promise<void> {}
}

const sites = new InMemorySiteSource();

@Global()
@Module({})
class TestInfraModule {
  static bus = new MemoryBus();
}

@Module({
  providers: [{ provide: InMemorySiteSource, useValue: sites }],
  exports: [InMemorySiteSource],
})
class TestSitesModule {}

async function makeApp(env: Record<string, string>, withSites = false): Promise<INestApplication> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PING_TIMEOUT_MS: '1000',
    VALIDATOR_ID: 'v7',
    LOCATION: 'test-1',
    ...env,
  });
  const ping = withSites
    ? PingModule.forRoot({ imports: [TestSitesModule], siteSource: InMemorySiteSource })
    : PingModule;
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      {
        module: TestInfraModule,
        global: true,
        providers: [{ provide: EventBus, useValue: TestInfraModule.bus }],
        exports: [EventBus],
      },
      ping,
    ],
    providers: [
      { provide: APP_PIPE, useClass: ZodValidationPipe },
      { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ],
  })
    .overrideProvider(DnsResolver)
    .useValue(new FakeDnsResolver({ 'target.test': { v4: ['127.0.0.1'] } }))
    // GET /api/status needs a user token; the accounts are not part of this module's test
    // (test/e2e/hardening-api.spec.ts covers the authentication).
    .overrideGuard(UserTokenGuard)
    .useValue({ canActivate: () => true })
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.setGlobalPrefix('api');
  await app.init();
  return app;
}

describe('PingModule', () => {
  let target: Target;
  let open: INestApplication;
  let strict: INestApplication;

  beforeAll(async () => {
    target = await startTarget();
    open = await makeApp({ ALLOW_PRIVATE_TARGETS: 'true' });
    strict = await makeApp({ ALLOW_PRIVATE_TARGETS: 'false' });
  });

  afterAll(async () => {
    await Promise.all([open?.close(), strict?.close()]);
    await target.close();
  });

  it('GET /api/status checks the URL now and returns the verdict with its phases', async () => {
    const res = await request(open.getHttpServer())
      .get('/api/status')
      .query({ url: target.url('/ok', 'target.test') })
      .expect(200);
    expect(res.body).toMatchObject({
      url: target.url('/ok', 'target.test'),
      validatorId: 'v7',
      region: 'test-1',
      up: true,
      httpStatus: 200,
      remoteAddress: '127.0.0.1',
    });
    expect(Object.keys(res.body.phases).sort()).toEqual(['connect', 'dns', 'firstByte', 'total']);
    expect(new Date(res.body.checkedAt).toISOString()).toBe(res.body.checkedAt);
  });

  it('a failing target is a 200 with up=false and the failure class', async () => {
    const res = await request(open.getHttpServer())
      .get('/api/status')
      .query({ url: target.url('/500') })
      .expect(200);
    expect(res.body).toMatchObject({ up: false, failure: 'HTTP_STATUS', httpStatus: 500 });
  });

  it.each([
    ['not a URL', 'not a url'],
    ['another scheme', 'ftp://example.com/file'],
    ['too long', `http://example.com/${'a'.repeat(2048)}`],
  ])('400 with field details for %s', async (_what, url) => {
    const res = await request(open.getHttpServer()).get('/api/status').query({ url }).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'VALIDATION_FAILED' });
    expect(res.body.details[0].path).toBe('url');
  });

  it('400 without url when no DEFAULT_TARGET_URL is set', async () => {
    const res = await request(open.getHttpServer()).get('/api/status').expect(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
  });

  it('422 for private targets when they are not allowed, directly or by name', async () => {
    for (const url of [
      target.url('/ok'),
      target.url('/ok', 'target.test'),
      'http://169.254.169.254/',
    ]) {
      const res = await request(strict.getHttpServer())
        .get('/api/status')
        .query({ url })
        .expect(422);
      expect(res.body).toMatchObject({ statusCode: 422, error: 'TARGET_NOT_ALLOWED' });
    }
    expect(target.connections).toBeGreaterThan(0); // from the open app's checks only
  });

  it('checks the bound SiteSource on schedule and publishes health logs', async () => {
    const app = await makeApp({ ALLOW_PRIVATE_TARGETS: 'true' }, true);
    try {
      sites.upsert(spec('site-a', { url: target.url('/ok'), intervalMs: 1_000, timeoutMs: 500 }));
      const deadline = Date.now() + 3_000;
      const bus = TestInfraModule.bus;
      while (Date.now() < deadline && !bus.published.some((p) => p.event.key === 'site-a')) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const log = bus.published.find((p) => p.event.key === 'site-a');
      expect(log?.topic).toBe('healthLogs');
      expect(log?.event.value).toMatchObject({
        v: 1,
        siteId: 'site-a',
        validatorId: 'v7',
        region: 'test-1',
        up: true,
        httpStatus: 200,
        failure: null,
      });
    } finally {
      await app.close();
    }
  });
});
