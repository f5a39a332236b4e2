// Issue 14, acceptance 3, with a pinned clock across the EU switch to summer time (29 March
// 2026): a recurring window "0 9 * * *" in Europe/Berlin for 60 minutes is 08:00-09:00Z in
// winter and 07:00-08:00Z in summer. A site down and back inside the window raises nothing; a
// site still DOWN when the window ends alerts then, once; the window follows local time after
// the change (an alert at 07:10Z on 30 March is held, one at 08:30Z is not).
import { Client } from 'pg';
import { EventBus } from '@/infra/events/event-bus.port';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { NotifySweeper } from '@/modules/notifications/delivery/notify-sweeper';
import { MaintenanceReleaser } from '@/modules/notifications/maintenance/maintenance-releaser';
import { NotifyClock } from '@/modules/notifications/notify-clock';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import type { Owner } from './alerts-support/fixtures';
import { channelSettings, ProviderSinks, quietOwner } from './notify-support/provider-sinks';

jest.setTimeout(120_000);

describe('maintenance windows hold alerts (pinned clock, DST)', () => {
  let sinks: ProviderSinks;
  let t: TestApp;
  let owner: Owner;
  let now = Date.parse('2026-03-28T07:50:00Z');
  let round = 1_000;
  const auth = () => ({ authorization: `Bearer ${owner.token}` });

  const publish = (kind: 'DOWN' | 'RECOVERED', atIso: string) => {
    now = Date.parse(atIso);
    return t.app.get(AlertPublisher).publish({
      siteId: owner.siteId,
      url: owner.siteUrl,
      kind,
      region: null,
      round: round++,
      decisionLogIndex: round,
      tally: { up: 0, down: 3, total: 3 },
      at: now,
    });
  };
  const releaseAt = async (iso: string) => {
    now = Date.parse(iso);
    const n = await t.app.get(MaintenanceReleaser).runOnce();
    await t.app.get(NotifySweeper).sweep();
    return n;
  };
  /** The in-process bus hands the alert over asynchronously: wait until the consumer held it. */
  const held = async (alertId: string) => {
    const pg = new Client({ connectionString: t.db.url });
    await pg.connect();
    try {
      await waitFor(`alert ${alertId} held`, async () => {
        const r = await pg.query('SELECT 1 FROM alert_holds WHERE alert_id = $1', [alertId]);
        return r.rowCount === 1;
      });
    } finally {
      await pg.end();
    }
  };
  const hooks = () => sinks.of('webhook').map((r) => `${r.body.alert.kind}@${r.body.alert.at}`);

  beforeAll(async () => {
    sinks = await new ProviderSinks().start();
    t = await createTestApp(sinks.env());
    t.app.get(NotifyClock).now = () => now;
    // The test runs these jobs itself, at the pinned times it chooses.
    for (const job of ['notify-maintenance', 'notify-reminders'])
      t.app.get(SchedulerRegistry).deleteInterval(job);
    owner = await quietOwner(t, 'maint@example.com', 'Patched');
    await t.http
      .post('/api/notifications/channels')
      .set(auth())
      .send({ name: 'hook', type: 'WEBHOOK', settings: channelSettings(sinks, 'maint').WEBHOOK })
      .expect(201);
  });

  afterAll(async () => {
    await t?.close();
    await sinks?.stop();
  });

  it('shows the window’s occurrences in local time across the change', async () => {
    const res = await t.http
      .post('/api/maintenance-windows')
      .set(auth())
      .send({
        title: 'daily deploy',
        siteId: owner.siteId,
        cron: '0 9 * * *',
        durationMinutes: 60,
        timeZone: 'Europe/Berlin',
      })
      .expect(201);
    expect(res.body.activeNow).toBeNull();
    expect(res.body.upcoming.slice(0, 3)).toEqual([
      { start: '2026-03-28T08:00:00.000Z', end: '2026-03-28T09:00:00.000Z' },
      { start: '2026-03-29T07:00:00.000Z', end: '2026-03-29T08:00:00.000Z' },
      { start: '2026-03-30T07:00:00.000Z', end: '2026-03-30T08:00:00.000Z' },
    ]);
    const bad = await t.http
      .post('/api/maintenance-windows')
      .set(auth())
      .send({
        title: 'x',
        siteId: owner.siteId,
        cron: '0 9 * *',
        durationMinutes: 5,
        timeZone: 'Mars/Olympus',
      })
      .expect(400);
    expect(bad.body.details).toEqual([
      { path: 'timeZone', message: expect.stringContaining('unknown time zone Mars/Olympus') },
    ]);
  });

  it('raises nothing for a site down and back inside the window', async () => {
    await held((await publish('DOWN', '2026-03-28T08:10:00Z')).alertId);
    await held((await publish('RECOVERED', '2026-03-28T08:30:00Z')).alertId);
    expect(await releaseAt('2026-03-28T08:50:00Z')).toBe(0);
    expect(await releaseAt('2026-03-28T09:00:30Z')).toBe(0);
    await sleep(500);
    expect(hooks()).toEqual([]);
  });

  it('alerts once when the site is still DOWN at the end (summer time: 07:00-08:00Z)', async () => {
    const down = await publish('DOWN', '2026-03-30T07:10:00Z');
    await held(down.alertId);
    expect(await releaseAt('2026-03-30T07:59:00Z')).toBe(0);
    expect(hooks()).toEqual([]);
    expect(await releaseAt('2026-03-30T08:00:30Z')).toBe(1);
    await waitFor('the released DOWN', () => hooks().length === 1);
    // Again, and the alert redelivered: nothing more.
    expect(await releaseAt('2026-03-30T08:01:00Z')).toBe(0);
    await t.app.get(EventBus).publish('healthAlerts', [{ key: down.siteId, value: down }]);
    await sleep(1_000);
    expect(hooks()).toEqual(['DOWN@2026-03-30T07:10:00.000Z']);
    const log = await t.http
      .get(`/api/notifications/deliveries?alertId=${down.alertId}`)
      .set(auth())
      .expect(200);
    expect(log.body.items).toEqual([expect.objectContaining({ status: 'SENT', attempts: 1 })]);
  });

  it('delivers at once outside the window, by local time (10:30 CEST is 08:30Z)', async () => {
    await publish('RECOVERED', '2026-03-30T08:20:00Z');
    await waitFor('the RECOVERED', () => hooks().length === 2);
    await publish('DOWN', '2026-03-30T08:30:00Z');
    await waitFor('the DOWN', () => hooks().length === 3);
    expect(hooks()).toEqual([
      'DOWN@2026-03-30T07:10:00.000Z',
      'RECOVERED@2026-03-30T08:20:00.000Z',
      'DOWN@2026-03-30T08:30:00.000Z',
    ]);
  });
});
