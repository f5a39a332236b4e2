// Acceptance 2: the standalone alert service (a real child process) is killed with SIGKILL after
// the e-mail delivery is recorded and before Kafka commits the offset; its replacement gets the
// alert again and does not send it again: one e-mail. Two instances share the partitions and
// still deliver every alert exactly once.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { createTestDatabase, TestDatabase } from '../support/db';
import { Child, startTsChild } from './alerts-support/child-process';
import { sleep, waitFor } from './alerts-support/clients';
import { deliveryRows, healthAlert, insertOwnerWithSite } from './alerts-support/fixtures';
import { SmtpSink } from './alerts-support/smtp-sink';

jest.setTimeout(180_000);

const CHILD = join(__dirname, 'alerts-support', 'alert-service-child.ts');

describe('alert service crash and redelivery (child processes, real broker)', () => {
  const runId = `alerts-crash-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const brokers = process.env.TEST_KAFKA_BROKERS!;
  const kafka = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let producer: Producer;
  let db: TestDatabase;
  let smtp: SmtpSink;
  const children: Child[] = [];
  const topics: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'alerts-crash-'));

  const envFor = (name: string, prefix: string, partitions: number) => {
    const t = {
      HEALTH_ALERTS_TOPIC: `${prefix}.health-alerts`,
      HEALTH_LOGS_TOPIC: `${prefix}.health-logs`,
      VALIDATOR_STATUS_TOPIC: `${prefix}.validator-status`,
    };
    topics.push(...Object.values(t));
    return {
      ...t,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers,
      KAFKA_GROUP_ID: `${prefix}-group`,
      KAFKA_TOPIC_PARTITIONS: String(partitions),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Uptime Monitor <alerts@uptime.test>',
      LOG_LEVEL: 'info',
      DATA_DIR: join(dataDir, name),
      VALIDATOR_ID: name,
      NODE_ENV: 'test',
    };
  };

  const start = async (env: Record<string, string>, extra: Record<string, string> = {}) => {
    const child = startTsChild(CHILD, { ...env, ...extra });
    children.push(child);
    const m = await child.waitForLine(/READY (\d+)/, 90_000);
    return { child, port: Number(m[1]) };
  };

  const committed = async (groupId: string, topic: string): Promise<number[]> => {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return res.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  };

  const counts = async (port: number): Promise<Record<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
    return ((await res.json()) as { counts: Record<string, number> }).counts;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await new SmtpSink().start();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await producer?.disconnect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await smtp?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends one e-mail when the consumer dies between the delivery record and the offset commit', async () => {
    const site = await insertOwnerWithSite(db.url, `crash-${runId}@example.com`, 'Crashy');
    const env = envFor('alerts-a', `${runId}-a`, 1);
    const a = await start(env, { CRASH_AFTER_EMAIL_RECORDED: '1' });

    const alert = healthAlert(site, 'REGION_DOWN', 'ap-south-1');
    await producer.send({
      topic: env.HEALTH_ALERTS_TOPIC,
      messages: [{ key: site.siteId, value: JSON.stringify(alert) }],
    });
    const { signal } = await a.child.exited;
    expect(signal).toBe('SIGKILL');
    expect(a.child.output()).toContain(`CRASHING after recording ${alert.alertId}`);

    const messageId = `<alert-${alert.alertId}@uptime.test>`;
    expect(smtp.withMessageId(messageId)).toHaveLength(1);
    expect(smtp.withMessageId(messageId)[0].envelopeTo).toEqual([site.email]);
    const [email] = await deliveryRows(db.url, alert.alertId);
    expect(email).toMatchObject({ channel: 'EMAIL', status: 'SENT', message_id: messageId });
    // The delivery is recorded, the offset is not: Kafka will hand the alert out again.
    expect(await committed(env.KAFKA_GROUP_ID, env.HEALTH_ALERTS_TOPIC)).toEqual([-1]);

    const b = await start({ ...env, VALIDATOR_ID: 'alerts-b' });
    await waitFor(
      'the redelivered alert to be committed',
      async () => {
        return (await committed(env.KAFKA_GROUP_ID, env.HEALTH_ALERTS_TOPIC))[0] === 1;
      },
      90_000,
    );
    expect(b.child.output()).toContain(
      `EMAIL of alert ${alert.alertId} already delivered; not sent again`,
    );
    const c = await counts(b.port);
    expect(c['consumed.handled']).toBe(1);
    expect(c['EMAIL.already-sent']).toBe(1);
    expect(c['EMAIL.sent']).toBeUndefined();
    // The alert service's own /metrics (no Raft or ping families: it has neither).
    const scrape = await fetch(`http://127.0.0.1:${b.port}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    expect(text).toContain('alerts_consumed_total{outcome="handled"} 1');
    expect(text).toContain(
      'alert_delivery_attempts_total{channel="EMAIL",outcome="already-sent"} 1',
    );
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('raft_');

    await sleep(1_500);
    expect(smtp.withMessageId(messageId)).toHaveLength(1);
    // The WebSocket channel, not yet attempted when the first instance died, went out once.
    const rows = await deliveryRows(db.url, alert.alertId);
    expect(rows.map((r) => [r.channel, r.status])).toEqual([
      ['EMAIL', 'SENT'],
      ['WEBSOCKET', 'SENT'],
    ]);
    await b.child.kill('SIGTERM');
  });

  it('two instances share the partitions and deliver each alert once', async () => {
    const env = envFor('alerts-c', `${runId}-c`, 4);
    // Random site ids hash to the 4 partitions: with 8 keys, one member's two partitions got
    // none in about 1 run of 128 (2 × 2^-8); with 24 keys, 2 × 2^-24.
    const sites = [];
    for (let i = 0; i < 24; i++) {
      sites.push(
        await insertOwnerWithSite(db.url, `shared-${i}-${runId}@example.com`, `Site ${i}`),
      );
    }
    const c1 = await start(env);
    const c2 = await start({ ...env, VALIDATOR_ID: 'alerts-d' });
    await waitFor(
      'both members in the group',
      async () => {
        const { groups } = await admin.describeGroups([env.KAFKA_GROUP_ID]);
        return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
      },
      60_000,
    );
    const alerts = sites.flatMap((s) => [
      healthAlert(s, 'DOWN', null),
      healthAlert(s, 'RECOVERED', null),
    ]);
    await producer.send({
      topic: env.HEALTH_ALERTS_TOPIC,
      messages: alerts.map((a) => ({ key: a.siteId, value: JSON.stringify(a) })),
    });
    const ids = alerts.map((a) => `<alert-${a.alertId}@uptime.test>`);
    await waitFor(
      'every e-mail',
      () => ids.every((id) => smtp.withMessageId(id).length > 0),
      90_000,
    );
    await sleep(1_000);
    for (const id of ids) expect(smtp.withMessageId(id)).toHaveLength(1);
    const [k1, k2] = [await counts(c1.port), await counts(c2.port)];
    // Both members consumed (4 partitions, 24 keys), and between them every alert once.
    expect(k1['consumed.handled'] ?? 0).toBeGreaterThan(0);
    expect(k2['consumed.handled'] ?? 0).toBeGreaterThan(0);
    expect((k1['consumed.handled'] ?? 0) + (k2['consumed.handled'] ?? 0)).toBe(alerts.length);
    // Per site, DOWN went out before RECOVERED (one key, one partition, in order).
    for (const s of sites) {
      const subjects = smtp.received
        .filter((m) => m.envelopeTo.includes(s.email))
        .map((m) => m.subject);
      expect(subjects).toEqual([
        `[DOWN] ${s.siteName} is DOWN`,
        `[RECOVERED] ${s.siteName} is back UP`,
      ]);
    }
  });
});
