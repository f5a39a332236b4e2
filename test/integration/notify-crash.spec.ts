// Issue 14, acceptance 1: the standalone alert service (real child processes, the real broker)
// notifies six channels, one per provider shape (signed webhook, Slack, Discord, Telegram,
// PagerDuty Events v2, Mattermost) served by real local HTTP servers. A DOWN and a RECOVERED
// reach each channel exactly once although the consumer is killed (SIGKILL) at the e-mail tests'
// crash points (after the deliveries are recorded, before the offset commit; and after the
// alert is recorded, before anything is sent), and Kafka redelivers and replays the messages.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { createTestDatabase, TestDatabase } from '../support/db';
import { Child, startTsChild } from './alerts-support/child-process';
import { sleep, waitFor } from './alerts-support/clients';
import {
  healthAlert,
  insertChannels,
  insertOwnerWithSite,
  notifyRows,
} from './alerts-support/fixtures';
import { channelSettings, ProviderSinks, Received } from './notify-support/provider-sinks';

jest.setTimeout(240_000);

const CHILD = join(__dirname, 'alerts-support', 'alert-service-child.ts');
const TYPES = ['WEBHOOK', 'SLACK', 'DISCORD', 'TELEGRAM', 'PAGERDUTY', 'MATTERMOST'] as const;

/** DOWN or RECOVERED, read the way each provider's message shows it. */
function kindOf(r: Received): string {
  switch (r.provider) {
    case 'webhook':
      return r.body.alert.kind;
    case 'pagerduty':
      return r.body.event_action === 'trigger' ? 'DOWN' : 'RECOVERED';
    case 'discord':
      return /\[(\w+)\]/.exec(r.body.content)![1];
    default:
      return /\[(\w+)\]/.exec(r.body.text)![1];
  }
}

describe('notification channels through consumer crash and Kafka redelivery', () => {
  const runId = `notify-crash-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const brokers = process.env.TEST_KAFKA_BROKERS!;
  const kafka = new Kafka({
    clientId: runId,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let producer: Producer;
  let db: TestDatabase;
  let sinks: ProviderSinks;
  const children: Child[] = [];
  const topics: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'notify-crash-'));

  const envFor = (name: string, prefix: string) => {
    const t = {
      HEALTH_ALERTS_TOPIC: `${prefix}.health-alerts`,
      HEALTH_LOGS_TOPIC: `${prefix}.health-logs`,
      VALIDATOR_STATUS_TOPIC: `${prefix}.validator-status`,
    };
    topics.push(...Object.values(t));
    return {
      ...t,
      ...sinks.env(),
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers,
      KAFKA_GROUP_ID: `${prefix}-group`,
      KAFKA_TOPIC_PARTITIONS: '1',
      ALLOW_PRIVATE_TARGETS: 'true',
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

  const committed = async (groupId: string, topic: string): Promise<number> => {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(res.partitions[0].offset);
  };

  const counts = async (port: number): Promise<Record<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
    return ((await res.json()) as { counts: Record<string, number> }).counts;
  };

  /** provider -> kinds received, in order */
  const tally = () => {
    const out: Record<string, string[]> = {};
    for (const r of sinks.received) (out[r.provider] ??= []).push(kindOf(r));
    return out;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    sinks = await new ProviderSinks().start();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await producer?.disconnect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await sinks?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers one DOWN and one RECOVERED to each channel', async () => {
    const site = await insertOwnerWithSite(db.url, `crash-${runId}@example.com`, 'Crashy');
    const settings = channelSettings(sinks, 'crash');
    await insertChannels(
      db.url,
      site.userId,
      TYPES.map((type) => ({ type, name: `ops ${type}`, settings: settings[type] })),
    );
    const down = healthAlert(site, 'DOWN', null);
    const recovered = healthAlert(site, 'RECOVERED', null, { round: down.round + 3 });

    // Crash point 1: every delivery of the DOWN recorded, the offset not committed.
    const env1 = envFor('notify-a', `${runId}-1`);
    const a = await start(env1, { CRASH_AFTER_DELIVERIES_RECORDED: '1' });
    await producer.send({
      topic: env1.HEALTH_ALERTS_TOPIC,
      messages: [{ key: site.siteId, value: JSON.stringify(down) }],
    });
    expect((await a.child.exited).signal).toBe('SIGKILL');
    expect(a.child.output()).toContain(
      `CRASHING after recording every delivery of ${down.alertId}`,
    );
    expect(await committed(env1.KAFKA_GROUP_ID, env1.HEALTH_ALERTS_TOPIC)).toBe(-1);
    expect((await notifyRows(db.url, down.alertId)).map((r) => [r.type, r.status])).toEqual(
      [...TYPES].sort().map((t) => [t, 'SENT']),
    );

    // Its replacement gets the DOWN again and sends nothing again.
    const b = await start({ ...env1, VALIDATOR_ID: 'notify-b' });
    await waitFor(
      'the redelivered DOWN committed',
      async () => {
        return (await committed(env1.KAFKA_GROUP_ID, env1.HEALTH_ALERTS_TOPIC)) === 1;
      },
      90_000,
    );
    const cb = await counts(b.port);
    // Handled again: the e-mail and every channel are found delivered, nothing is attempted.
    expect(cb['consumed.handled']).toBe(1);
    expect(cb['EMAIL.already-sent']).toBe(1);
    expect(cb['NOTIFY.sent']).toBeUndefined();
    await b.child.kill('SIGTERM');

    // Crash point 2: the RECOVERED and its delivery rows recorded, nothing sent yet.
    const env2 = envFor('notify-c', `${runId}-2`);
    const c = await start(env2, { CRASH_BEFORE_NOTIFY_SEND: '1' });
    await producer.send({
      topic: env2.HEALTH_ALERTS_TOPIC,
      messages: [{ key: site.siteId, value: JSON.stringify(recovered) }],
    });
    expect((await c.child.exited).signal).toBe('SIGKILL');
    expect(c.child.output()).toContain(`CRASHING before sending ${TYPES.length} notifications`);
    expect(Object.values(tally()).every((k) => !k.includes('RECOVERED'))).toBe(true);

    const d = await start({ ...env2, VALIDATOR_ID: 'notify-d' });
    await waitFor(
      'every RECOVERED',
      () => Object.values(tally()).every((k) => k.includes('RECOVERED')),
      90_000,
    );
    // Kafka replaying both alerts twice more: all skipped.
    await producer.send({
      topic: env2.HEALTH_ALERTS_TOPIC,
      messages: [down, recovered, down, recovered].map((m) => ({
        key: site.siteId,
        value: JSON.stringify(m),
      })),
    });
    await waitFor(
      'the replays committed',
      async () => {
        return (await committed(env2.KAFKA_GROUP_ID, env2.HEALTH_ALERTS_TOPIC)) === 5;
      },
      90_000,
    );
    await sleep(1_500);

    const got = tally();
    process.stderr.write(`received per provider: ${JSON.stringify(got)}\n`);
    expect(got).toEqual({
      webhook: ['DOWN', 'RECOVERED'],
      slack: ['DOWN', 'RECOVERED'],
      discord: ['DOWN', 'RECOVERED'],
      telegram: ['DOWN', 'RECOVERED'],
      pagerduty: ['DOWN', 'RECOVERED'],
      mattermost: ['DOWN', 'RECOVERED'],
    });
    const cd = await counts(d.port);
    expect(cd['consumed.handled']).toBe(5);
    expect(cd['NOTIFY.sent']).toBe(TYPES.length);
    // PagerDuty: the resolve closes the incident the trigger opened.
    const [trigger, resolve] = sinks.of('pagerduty').map((r) => r.body);
    expect(trigger).toMatchObject({
      event_action: 'trigger',
      payload: { severity: 'critical', source: site.siteUrl },
    });
    expect(resolve).toEqual({
      routing_key: trigger.routing_key,
      event_action: 'resolve',
      dedup_key: `${site.siteId}:*:${down.round}`,
    });
    expect(trigger.dedup_key).toBe(resolve.dedup_key);
    // The webhook's deliveries carry stable ids and verified signatures (the sink checks them).
    const hooks = sinks.of('webhook');
    expect(new Set(hooks.map((h) => h.headers['x-uptime-delivery'])).size).toBe(2);
    expect(hooks[0].headers.authorization).toBe('Bearer tok-crash');
    await d.child.kill('SIGTERM');
  });
});
