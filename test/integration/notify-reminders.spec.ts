// Issue 14, acceptance 4, with a pinned clock walked in 20-second steps: a site with reminders
// every 2 minutes stays DOWN for 7 minutes. Each channel gets the DOWN, reminders 1, 2 and 3
// (at 2, 4 and 6 minutes), then one RECOVERED, and nothing after; running the job again at the
// same moment adds nothing (one reminder per channel and number). PagerDuty escalates by
// itself: it gets the trigger and the resolve only.
import { SchedulerRegistry } from '@nestjs/schedule';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { NotifySweeper } from '@/modules/notifications/delivery/notify-sweeper';
import { ReminderJob } from '@/modules/notifications/delivery/reminder.job';
import { NotifyClock } from '@/modules/notifications/notify-clock';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import type { Owner } from './alerts-support/fixtures';
import { channelSettings, ProviderSinks, quietOwner } from './notify-support/provider-sinks';

jest.setTimeout(120_000);

describe('reminders while a site stays DOWN (pinned clock)', () => {
  let sinks: ProviderSinks;
  let t: TestApp;
  let owner: Owner;
  const t0 = Date.now();
  let now = t0;

  beforeAll(async () => {
    sinks = await new ProviderSinks().start();
    t = await createTestApp(sinks.env());
    t.app.get(NotifyClock).now = () => now;
    // The test runs these jobs itself, at the pinned times it chooses.
    for (const job of ['notify-maintenance', 'notify-reminders'])
      t.app.get(SchedulerRegistry).deleteInterval(job);
    owner = await quietOwner(t, 'remind@example.com', 'Sleepy');
    const settings = channelSettings(sinks, 'remind');
    for (const type of ['WEBHOOK', 'SLACK', 'PAGERDUTY'] as const) {
      await t.http
        .post('/api/notifications/channels')
        .set('authorization', `Bearer ${owner.token}`)
        .send({ name: type, type, settings: settings[type] })
        .expect(201);
    }
    await t.http
      .put(`/api/websites/${owner.siteId}/notifications`)
      .set('authorization', `Bearer ${owner.token}`)
      .send({ reminderEveryMinutes: 2 })
      .expect(200);
  });

  afterAll(async () => {
    await t?.close();
    await sinks?.stop();
  });

  const publish = (kind: 'DOWN' | 'RECOVERED', round: number) =>
    t.app.get(AlertPublisher).publish({
      siteId: owner.siteId,
      url: owner.siteUrl,
      kind,
      region: null,
      round,
      decisionLogIndex: round,
      tally: { up: 0, down: 3, total: 3 },
      at: now,
    });

  it('sends 3 reminders per channel during a 7-minute outage, then one RECOVERED', async () => {
    const reminders = t.app.get(ReminderJob);
    const sweeper = t.app.get(NotifySweeper);
    const down = await publish('DOWN', 500);
    await waitFor('the DOWN everywhere', () => sinks.received.length === 3);
    for (let s = 20; s <= 10 * 60; s += 20) {
      now = t0 + s * 1_000;
      if (s === 7 * 60) {
        await publish('RECOVERED', 521);
        await waitFor('the RECOVERED everywhere', () => sinks.received.length === 3 + 2 * 3 + 3);
      }
      await reminders.runOnce();
      await reminders.runOnce();
      await sweeper.sweep();
    }
    await sleep(500);

    const webhook = sinks
      .of('webhook')
      .map((r) =>
        r.body.event === 'reminder' ? `REMINDER ${r.body.alert.reminder}` : r.body.alert.kind,
      );
    const slack = sinks.of('slack').map((r) => /^\[([A-Z ]+\d*)\]/.exec(r.body.text)![1]);
    const pagerduty = sinks.of('pagerduty').map((r) => r.body.event_action);
    process.stderr.write(
      `webhook: ${webhook.join(', ')}\nslack: ${slack.join(', ')}\npagerduty: ${pagerduty.join(', ')}\n`,
    );
    expect(webhook).toEqual(['DOWN', 'REMINDER 1', 'REMINDER 2', 'REMINDER 3', 'RECOVERED']);
    expect(slack).toEqual(['DOWN', 'REMINDER 1', 'REMINDER 2', 'REMINDER 3', 'RECOVERED']);
    expect(pagerduty).toEqual(['trigger', 'resolve']);
    // Reminder n went out at n x 2 minutes (the pinned clock), each with its own delivery id.
    const sentAt = sinks
      .of('webhook')
      .filter((r) => r.body.event === 'reminder')
      .map((r) => Date.parse(r.body.sentAt) - t0);
    expect(sentAt).toEqual([120_000, 240_000, 360_000]);
    expect(new Set(sinks.of('webhook').map((r) => r.headers['x-uptime-delivery'])).size).toBe(5);

    const log = await t.http
      .get(`/api/notifications/deliveries?alertId=${down.alertId}&status=SENT`)
      .set('authorization', `Bearer ${owner.token}`)
      .expect(200);
    const byChannel = (type: string) =>
      log.body.items
        .filter((d: any) => d.channel.type === type)
        .map((d: any) => d.reminder)
        .sort();
    expect(byChannel('WEBHOOK')).toEqual([0, 1, 2, 3]);
    expect(byChannel('SLACK')).toEqual([0, 1, 2, 3]);
    expect(byChannel('PAGERDUTY')).toEqual([0]);
  });
});
