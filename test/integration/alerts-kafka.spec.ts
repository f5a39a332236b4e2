// Acceptance 1 on the real broker: an alert published to health-alerts is consumed by the alert
// consumer group, e-mailed to the site owner through a real SMTP server and pushed as REGION_DOWN
// to the owner's Socket.IO and plain WebSocket clients, and to nobody else's. A redelivered alert
// is not sent again; poison messages are skipped without blocking the partition.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { AlertMetrics } from '@/modules/alerts/alert-metrics';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { createTestApp, TestApp } from '../support/app';
import { connectIo, connectWs, IoClient, sleep, waitFor, WsClient } from './alerts-support/clients';
import { deliveryRows, healthAlert, Owner, ownerWithSite } from './alerts-support/fixtures';
import { SmtpSink } from './alerts-support/smtp-sink';

jest.setTimeout(120_000);

describe('alert service on the real Kafka broker', () => {
  const runId = `alerts-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topics = {
    HEALTH_ALERTS_TOPIC: `${runId}.health-alerts`,
    HEALTH_LOGS_TOPIC: `${runId}.health-logs`,
    VALIDATOR_STATUS_TOPIC: `${runId}.validator-status`,
  };
  const brokers = process.env.TEST_KAFKA_BROKERS!;
  const kafka = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  let producer: Producer;
  let smtp: SmtpSink;
  let t: TestApp;
  let base: string;
  let owner: Owner;
  let other: Owner;
  const clients: { close(): void }[] = [];
  let ioOwner: IoClient;
  let ioOther: IoClient;
  let wsOwner: WsClient;
  let wsOther: WsClient;

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    t = await createTestApp({
      KAFKA_BROKERS: brokers,
      ...topics,
      KAFKA_GROUP_ID: `${runId}-group`,
      KAFKA_TOPIC_PARTITIONS: '3',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Uptime Monitor <alerts@uptime.test>',
      PUBLIC_URL: 'https://uptime.test',
    });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    producer = kafka.producer();
    await producer.connect();
    // Paused: the alerts here are the test's own; a real check of the unreachable URL would add
    // a real DOWN e-mail to whoever owns the site (seen once for "other").
    owner = await ownerWithSite(t, `owner-${runId}@example.com`, 'Shop <main>', { paused: true });
    other = await ownerWithSite(t, `other-${runId}@example.com`, 'Blog', { paused: true });
    ioOwner = await connectIo(base, { token: owner.token });
    ioOther = await connectIo(base, { token: other.token });
    wsOwner = await connectWs(base, owner.token);
    wsOther = await connectWs(base, other.token);
    clients.push(ioOwner, ioOther, wsOwner, wsOther);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await producer?.disconnect();
    await t?.close();
    await smtp?.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });

  it('e-mails the owner and pushes REGION_DOWN to the owner’s clients only', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const published = await t.app.get(AlertPublisher).publish({
      siteId: owner.siteId,
      url: owner.siteUrl,
      kind: 'REGION_DOWN',
      region: 'eu-west-1',
      round: 42,
      decisionLogIndex: 420,
      tally: {
        up: 2,
        down: 1,
        total: 3,
        quorum: 2,
        byRegion: { 'eu-west-1': { up: 0, down: 1, total: 1 } },
      },
      at,
    });
    const messageId = `<alert-${published.alertId}@uptime.test>`;

    await waitFor('the e-mail', () => smtp.withMessageId(messageId).length > 0);
    const [mail] = smtp.withMessageId(messageId);
    expect(mail.envelopeTo).toEqual([owner.email]);
    expect(mail.headers.get('to')).toContain(owner.email);
    expect(mail.headers.get('from')).toContain('alerts@uptime.test');
    expect(mail.subject).toContain('[REGION_DOWN]');
    expect(mail.subject).toContain('Shop <main>');
    expect(mail.text).toContain(owner.siteUrl);
    expect(mail.text).toContain('eu-west-1');
    expect(mail.text).toContain(at.toISOString());
    expect(mail.text).toContain('1 down, 2 up of 3 (quorum 2)');
    expect(mail.text).toContain(`https://uptime.test/api/websites/${owner.siteId}`);
    // The site name is escaped in the HTML part, never markup.
    expect(mail.html).toContain('Shop &#60;main&#62;');
    expect(mail.html).not.toContain('<main>');

    await waitFor(
      'REGION_DOWN on both owner clients',
      () => ioOwner.of('REGION_DOWN').length > 0 && wsOwner.of('REGION_DOWN').length > 0,
    );
    const expected = {
      alertId: published.alertId,
      kind: 'REGION_DOWN',
      siteId: owner.siteId,
      name: 'Shop <main>',
      url: owner.siteUrl,
      region: 'eu-west-1',
      round: 42,
      at: at.toISOString(),
      tally: { up: 2, down: 1, total: 3 },
    };
    expect(ioOwner.of('REGION_DOWN')).toEqual([expected]);
    // Exactly what the original frontend parses: msg.type === 'REGION_DOWN', msg.data.
    expect(wsOwner.of('REGION_DOWN')).toEqual([{ type: 'REGION_DOWN', data: expected }]);

    await sleep(1_000);
    expect(ioOther.of('REGION_DOWN')).toEqual([]);
    expect(wsOther.of('REGION_DOWN')).toEqual([]);
    expect(smtp.received.filter((m) => m.envelopeTo.includes(other.email))).toEqual([]);

    const rows = await deliveryRows(t.db.url, published.alertId);
    expect(rows).toEqual([
      { channel: 'EMAIL', status: 'SENT', attempts: 1, message_id: messageId },
      { channel: 'WEBSOCKET', status: 'SENT', attempts: 1, message_id: null },
    ]);
  });

  it('does not send a redelivered or republished alert again', async () => {
    const metrics = t.app.get(AlertMetrics);
    const publisher = t.app.get(AlertPublisher);
    const input = {
      siteId: owner.siteId,
      url: owner.siteUrl,
      kind: 'REGION_RECOVERED' as const,
      region: 'eu-west-1',
      round: 43,
      decisionLogIndex: 430,
      tally: { up: 3, down: 0, total: 3 },
      at: Date.now(),
    };
    const first = await publisher.publish(input);
    const messageId = `<alert-${first.alertId}@uptime.test>`;
    await waitFor('the first e-mail', () => smtp.withMessageId(messageId).length === 1);
    await waitFor('REGION_RECOVERED', () => ioOwner.of('REGION_RECOVERED').length === 1);

    const skippedBefore = metrics.snapshot()['EMAIL.already-sent'] ?? 0;
    // The consensus pipeline replaying the decision: same dedup key, so the same alert id.
    const again = await publisher.publish(input);
    expect(again.alertId).toBe(first.alertId);
    // Kafka redelivering the very same message twice more.
    await producer.send({
      topic: topics.HEALTH_ALERTS_TOPIC,
      messages: [
        { key: first.siteId, value: JSON.stringify(first) },
        { key: first.siteId, value: JSON.stringify(first) },
      ],
    });
    await waitFor('three skipped redeliveries', () => {
      return (metrics.snapshot()['EMAIL.already-sent'] ?? 0) >= skippedBefore + 3;
    });
    await sleep(500);
    expect(smtp.withMessageId(messageId)).toHaveLength(1);
    expect(ioOwner.of('REGION_RECOVERED')).toHaveLength(1);
    expect(wsOwner.of('REGION_RECOVERED')).toHaveLength(1);
    expect(ioOther.of('REGION_RECOVERED')).toHaveLength(0);
  });

  it('logs, counts and skips poison messages, then keeps consuming', async () => {
    const metrics = t.app.get(AlertMetrics);
    const poisonBefore = metrics.snapshot()['consumed.poison'] ?? 0;
    const good = healthAlert(owner, 'DOWN', null);
    await producer.send({
      topic: topics.HEALTH_ALERTS_TOPIC,
      messages: [
        { key: owner.siteId, value: 'not json at all' },
        { key: owner.siteId, value: JSON.stringify({ v: 2, whatever: true }) },
        { key: owner.siteId, value: JSON.stringify({ ...good, region: 'eu-west-1' }) },
        { key: owner.siteId, value: JSON.stringify(good) },
      ],
    });
    const messageId = `<alert-${good.alertId}@uptime.test>`;
    await waitFor('the e-mail after the poison', () => smtp.withMessageId(messageId).length === 1);
    expect(metrics.snapshot()['consumed.poison']).toBe(poisonBefore + 3);
    expect(smtp.withMessageId(messageId)[0].subject).toBe('[DOWN] Shop <main> is DOWN');
    // A global DOWN is not a region message: the WebSocket room gets nothing for it.
    expect(ioOwner.events.filter((e) => e.data?.alertId === good.alertId)).toEqual([]);
  });
});
