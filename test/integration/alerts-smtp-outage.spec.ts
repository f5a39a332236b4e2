// Acceptance 2, second half: the SMTP server is down when an alert arrives (stopped, so
// connections are refused) and comes back on the same port after ALERTS_SMTP_OUTAGE_MS (default
// 8 s for CI; run once with 30000 for the 30 s case). The e-mail arrives after it returns, once,
// with production retry timings, and the topic is not blocked meanwhile.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { AlertMetrics } from '@/modules/alerts/alert-metrics';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import { deliveryRows, Owner, ownerWithSite } from './alerts-support/fixtures';
import { SmtpSink } from './alerts-support/smtp-sink';

const OUTAGE_MS = Number(process.env.ALERTS_SMTP_OUTAGE_MS ?? 8_000);
jest.setTimeout(OUTAGE_MS + 120_000);

describe(`SMTP down for ${OUTAGE_MS / 1000} s`, () => {
  const runId = `alerts-smtp-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const topics = {
    HEALTH_ALERTS_TOPIC: `${runId}.health-alerts`,
    HEALTH_LOGS_TOPIC: `${runId}.health-logs`,
    VALIDATOR_STATUS_TOPIC: `${runId}.validator-status`,
  };
  const brokers = process.env.TEST_KAFKA_BROKERS!;
  let smtp: SmtpSink;
  let t: TestApp;
  let owner: Owner;

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    t = await createTestApp({
      KAFKA_BROKERS: brokers,
      ...topics,
      KAFKA_GROUP_ID: `${runId}-group`,
      KAFKA_TOPIC_PARTITIONS: '1',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Uptime Monitor <alerts@uptime.test>',
    });
    owner = await ownerWithSite(t, `smtp-${runId}@example.com`, 'Patient');
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });

  it('delivers the e-mail once after the server returns, without blocking the next alerts', async () => {
    const publisher = t.app.get(AlertPublisher);
    const publish = (round: number) =>
      publisher.publish({
        siteId: owner.siteId,
        url: owner.siteUrl,
        kind: round % 2 === 0 ? 'DOWN' : 'RECOVERED',
        region: null,
        round,
        decisionLogIndex: round,
        tally: { up: 0, down: 3, total: 3 },
        at: Date.now(),
      });
    // Warm the connection pool, so the outage also breaks live connections.
    const warm = await publish(1);
    await waitFor(
      'the warm-up e-mail',
      () => smtp.withMessageId(`<alert-${warm.alertId}@uptime.test>`).length === 1,
    );

    await smtp.stop();
    const downAt = Date.now();
    const during = [await publish(2), await publish(3)];
    const ids = during.map((a) => `<alert-${a.alertId}@uptime.test>`);
    // Both alerts were consumed (the partition is not held up by the first one's retries).
    const metrics = t.app.get(AlertMetrics);
    await waitFor('both alerts consumed', () => (metrics.snapshot()['consumed.handled'] ?? 0) >= 3);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    const pending = await deliveryRows(t.db.url, during[0].alertId);
    expect(pending).toEqual([expect.objectContaining({ channel: 'EMAIL', status: 'PENDING' })]);
    expect(pending[0].attempts).toBeGreaterThan(1);
    expect(smtp.received.filter((m) => ids.includes(m.messageId))).toEqual([]);

    await smtp.start(); // same port
    const upAt = Date.now();
    await waitFor(
      'both e-mails after the outage',
      () => ids.every((id) => smtp.withMessageId(id).length > 0),
      60_000,
    );
    const lateness = Math.max(...ids.map((id) => smtp.withMessageId(id)[0].at)) - upAt;
    process.stderr.write(
      `SMTP outage ${OUTAGE_MS} ms: e-mails arrived ${lateness} ms after the server returned ` +
        `(attempts: ${(await deliveryRows(t.db.url, during[0].alertId))[0].attempts})\n`,
    );
    await sleep(3_000);
    for (const id of ids) expect(smtp.withMessageId(id)).toHaveLength(1);
    // In order: the DOWN before the RECOVERED that followed it.
    const order = smtp.received.filter((m) => ids.includes(m.messageId)).map((m) => m.messageId);
    expect(order).toEqual(ids);
    for (const a of during) {
      expect((await deliveryRows(t.db.url, a.alertId))[0]).toMatchObject({ status: 'SENT' });
    }
  });
});
