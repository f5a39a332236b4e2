// Acceptance 3: the Kafka broker is stopped for ALERTS_KAFKA_OUTAGE_MS (default 12 s) while
// alerts keep being produced, then restarted: every alert is still e-mailed, exactly once.
// Runs against a private second broker (own directory and ports), never the shared one.
import { randomBytes } from 'node:crypto';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import type { HealthAlertV1 } from '@/modules/alerts/alert-events';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import { Owner, ownerWithSite } from './alerts-support/fixtures';
import { PrivateBroker, privateBroker } from './alerts-support/second-kafka';
import { SmtpSink } from './alerts-support/smtp-sink';

const OUTAGE_MS = Number(process.env.ALERTS_KAFKA_OUTAGE_MS ?? 12_000);
jest.setTimeout(OUTAGE_MS + 300_000);

describe(`Kafka broker down for ${OUTAGE_MS / 1000} s while alerts are produced`, () => {
  const runId = `alerts-outage-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let broker: PrivateBroker;
  let smtp: SmtpSink;
  let t: TestApp;
  const owners: Owner[] = [];

  beforeAll(async () => {
    broker = await privateBroker(`test-${process.pid}-outage`);
    await broker.start();
    smtp = await new SmtpSink().start();
    t = await createTestApp({
      KAFKA_BROKERS: broker.brokers,
      KAFKA_GROUP_ID: `${runId}-group`,
      KAFKA_TOPIC_PARTITIONS: '3',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Uptime Monitor <alerts@uptime.test>',
    });
    for (let i = 0; i < 3; i++) {
      owners.push(await ownerWithSite(t, `outage-${i}-${runId}@example.com`, `Site ${i}`));
    }
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await broker?.destroy();
  });

  it('loses no alert', async () => {
    const publisher = t.app.get(AlertPublisher);
    const results: Promise<HealthAlertV1>[] = [];
    let round = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const owner = owners[round % owners.length];
        round++;
        results.push(
          publisher.publish({
            siteId: owner.siteId,
            url: owner.siteUrl,
            kind: round % 2 === 0 ? 'RECOVERED' : 'DOWN',
            region: null,
            round,
            decisionLogIndex: round,
            tally: { up: 1, down: 2, total: 3 },
            at: Date.now(),
          }),
        );
        await sleep(250);
      }
    })();

    await sleep(3_000);
    const before = round;
    await broker.stop();
    const downAt = Date.now();
    await sleep(OUTAGE_MS);
    const during = round - before;
    await broker.start();
    process.stderr.write(`broker down ${Date.now() - downAt} ms (stop to answering again)\n`);
    await sleep(3_000);
    producing = false;
    await producer;

    // Every publish resolved: none gave up while the broker was away.
    const alerts = await Promise.all(results);
    expect(during).toBeGreaterThan(OUTAGE_MS / 250 / 2);
    const ids = alerts.map((a) => `<alert-${a.alertId}@uptime.test>`);
    await waitFor(
      `all ${ids.length} e-mails`,
      () => ids.every((id) => smtp.withMessageId(id).length > 0),
      120_000,
    );
    await sleep(2_000);
    for (const id of ids) expect(smtp.withMessageId(id)).toHaveLength(1);
    process.stderr.write(
      `${ids.length} alerts (${during} produced while down), each e-mailed once\n`,
    );
  });
});
