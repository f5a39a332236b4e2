// Embedded mode (no DATABASE_URL, no KAFKA_BROKERS): the same alert flow over the in-process
// event bus and the embedded PostgreSQL: e-mail to the owner through a real SMTP server,
// REGION_DOWN to the owner's Socket.IO and plain WebSocket clients only, and a redelivered
// alert is not sent again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '@/bootstrap';
import { loadConfig } from '@/config/app-config';
import { EventBus } from '@/infra/events/event-bus.port';
import { AlertMetrics } from '@/modules/alerts/alert-metrics';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { connectIo, connectWs, sleep, waitFor } from './alerts-support/clients';
import { SmtpSink } from './alerts-support/smtp-sink';

jest.setTimeout(120_000);

describe('alerts in embedded mode (in-process bus, embedded PostgreSQL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'alerts-embedded-'));
  let app: INestApplication;
  let smtp: SmtpSink;
  let base: string;
  const closers: { close(): void }[] = [];

  const user = async (email: string, siteName: string) => {
    const http = request(app.getHttpServer());
    const password = 'correct horse battery';
    await http.post('/api/auth/signup').send({ email, password }).expect(201);
    const login = await http.post('/api/auth/login').send({ email, password }).expect(200);
    const token = login.body.accessToken as string;
    const site = await http
      .post('/api/websites')
      .set('authorization', `Bearer ${token}`)
      .send({ name: siteName, url: 'http://127.0.0.1:9/', intervalMs: 60_000 })
      .expect(201);
    return { token, siteId: site.body.id as string, email };
  };

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ALLOW_PRIVATE_TARGETS: 'true',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'alerts@embedded.test',
    });
    app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    for (const c of closers) c.close();
    await app?.close();
    await smtp?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers by e-mail and to the owner’s rooms, once', async () => {
    const owner = await user('owner@embedded.test', 'Local shop');
    const other = await user('other@embedded.test', 'Other');
    const [ioOwner, ioOther] = [
      await connectIo(base, { token: owner.token }),
      await connectIo(base, { token: other.token }),
    ];
    const [wsOwner, wsOther] = [
      await connectWs(base, owner.token),
      await connectWs(base, other.token),
    ];
    closers.push(ioOwner, ioOther, wsOwner, wsOther);

    const alert = await app.get(AlertPublisher).publish({
      siteId: owner.siteId,
      url: 'http://127.0.0.1:9/',
      kind: 'REGION_DOWN',
      region: 'local',
      round: 7,
      decisionLogIndex: 70,
      tally: { up: 1, down: 1, total: 2 },
      at: Date.now(),
    });
    const messageId = `<alert-${alert.alertId}@embedded.test>`;
    await waitFor('the e-mail', () => smtp.withMessageId(messageId).length === 1);
    expect(smtp.withMessageId(messageId)[0].envelopeTo).toEqual(['owner@embedded.test']);
    await waitFor(
      'REGION_DOWN',
      () => ioOwner.of('REGION_DOWN').length === 1 && wsOwner.of('REGION_DOWN').length === 1,
    );
    expect(ioOwner.of('REGION_DOWN')[0]).toMatchObject({ alertId: alert.alertId, region: 'local' });

    // The in-process bus redelivering the same event.
    await app.get(EventBus).publish('healthAlerts', [{ key: alert.siteId, value: alert }]);
    const metrics = app.get(AlertMetrics);
    await waitFor(
      'the redelivery skipped',
      () => (metrics.snapshot()['EMAIL.already-sent'] ?? 0) === 1,
    );
    await sleep(500);
    expect(smtp.withMessageId(messageId)).toHaveLength(1);
    expect(ioOwner.of('REGION_DOWN')).toHaveLength(1);
    expect(wsOwner.of('REGION_DOWN')).toHaveLength(1);
    expect(ioOther.of('REGION_DOWN')).toEqual([]);
    expect(wsOther.of('REGION_DOWN')).toEqual([]);
  });
});
