// Issue 14, acceptance 2. (a) A channel's server answers 500 for NOTIFY_OUTAGE_MS (default 30 s,
// real time, production retry timings): the DOWN arrives once after it recovers, then the
// RECOVERED, in order; the other channels and another site's alerts are not held up meanwhile.
// (b) A channel that is gone (404 "Unknown Webhook") for 24 hours, walked through with a pinned
// clock: it is marked FAILING and shows so in the delivery log (status codes, last error, no
// secrets), while the healthy channel gets every alert of the site at once, later ones included.
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { NotifySweeper } from '@/modules/notifications/delivery/notify-sweeper';
import { NotifyClock } from '@/modules/notifications/notify-clock';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import type { Owner } from './alerts-support/fixtures';
import {
  channelSettings,
  ProviderSinks,
  Received,
  quietOwner,
} from './notify-support/provider-sinks';

const OUTAGE_MS = Number(process.env.NOTIFY_OUTAGE_MS ?? 30_000);
jest.setTimeout(OUTAGE_MS + 150_000);

describe('failing notification channels', () => {
  let sinks: ProviderSinks;
  let t: TestApp;
  const auth = (o: Owner) => ({ authorization: `Bearer ${o.token}` });

  const channel = async (o: Owner, type: string, settings: object, defaultKinds?: string[]) => {
    const res = await t.http
      .post('/api/notifications/channels')
      .set(auth(o))
      .send({
        name: `${type} ${o.email}`,
        type,
        settings,
        ...(defaultKinds ? { defaultKinds } : {}),
      })
      .expect(201);
    return res.body.id as string;
  };
  const publish = (o: Owner, kind: 'DOWN' | 'RECOVERED', round: number, at: number) =>
    t.app.get(AlertPublisher).publish({
      siteId: o.siteId,
      url: o.siteUrl,
      kind,
      region: null,
      round,
      decisionLogIndex: round,
      tally: kind === 'DOWN' ? { up: 0, down: 3, total: 3 } : { up: 3, down: 0, total: 3 },
      at,
    });
  const kinds = (rs: Received[]) =>
    rs.map((r) => /\[(\w+)\]/.exec(r.body.text ?? r.body.content)![1]);

  beforeAll(async () => {
    sinks = await new ProviderSinks().start();
    t = await createTestApp(sinks.env());
  });

  afterAll(async () => {
    await t?.close();
    await sinks?.stop();
  });

  it(`delivers once after a ${OUTAGE_MS / 1000} s run of 500s, without holding up other channels or sites`, async () => {
    const owner = await quietOwner(t, 'outage@example.com', 'Flaky');
    const bystander = await quietOwner(t, 'bystander@example.com', 'Calm');
    const s1 = channelSettings(sinks, 'out1');
    const s2 = channelSettings(sinks, 'out2');
    await channel(owner, 'MATTERMOST', s1.MATTERMOST); // the one that fails
    await channel(owner, 'SLACK', s1.SLACK);
    await channel(bystander, 'SLACK', s2.SLACK);
    const mmPath = '/mattermost/hooks/out1key';

    const downAt = Date.now();
    sinks.failWith(mmPath, 500, OUTAGE_MS, 'Internal Server Error');
    const down = await publish(owner, 'DOWN', 10, downAt);
    const recovered = await publish(owner, 'RECOVERED', 11, Date.now());
    await waitFor(
      'DOWN and RECOVERED on the healthy Slack channel',
      () => kinds(sinks.of('slack')).length === 2,
    );
    const slackLatency = sinks.of('slack')[1].at - downAt;
    // Another site's alert on its own channel goes out at once as well.
    const calm = await publish(bystander, 'DOWN', 20, Date.now());
    await waitFor("the bystander's DOWN", () =>
      sinks.received.some((r) => r.path.includes('out2')),
    );
    expect(kinds(sinks.of('slack'))).toEqual(['DOWN', 'RECOVERED', 'DOWN']);
    expect(sinks.of('mattermost')).toEqual([]);

    await waitFor(
      'both on Mattermost after the outage',
      () => sinks.of('mattermost').length === 2,
      OUTAGE_MS + 90_000,
    );
    const upAt = downAt + OUTAGE_MS;
    const firstAt = sinks.of('mattermost')[0].at;
    await sleep(3_000);
    expect(kinds(sinks.of('mattermost'))).toEqual(['DOWN', 'RECOVERED']);
    expect(firstAt).toBeGreaterThanOrEqual(upAt);
    const refused = sinks.rejected.filter((r) => r.path === mmPath).length;
    process.stderr.write(
      `500 for ${OUTAGE_MS} ms: healthy channel got both in ${slackLatency} ms; the failing one got the DOWN ` +
        `${firstAt - upAt} ms after recovery, after ${refused} refused attempts\n`,
    );
    const log = await t.http
      .get(`/api/notifications/deliveries?alertId=${down.alertId}`)
      .set(auth(owner))
      .expect(200);
    const mm = log.body.items.find((d: any) => d.channel.type === 'MATTERMOST');
    expect(mm).toMatchObject({ status: 'SENT', lastStatusCode: 200, lastError: null });
    expect(mm.attempts).toBeGreaterThan(1);
    expect(mm.recentAttempts.slice(1).every((a: any) => a.statusCode === 500)).toBe(true);
    expect(recovered.alertId).not.toBe(calm.alertId);
  });

  it('marks a channel gone for 24 h FAILING without blocking the healthy channel or later alerts', async () => {
    const clock = t.app.get(NotifyClock);
    const sweeper = t.app.get(NotifySweeper);
    const t0 = Date.now();
    let now = t0;
    clock.now = () => now;
    try {
      const owner = await quietOwner(t, 'gone@example.com', 'Gone');
      const s = channelSettings(sinks, 'gone');
      const discord = await channel(owner, 'DISCORD', s.DISCORD);
      await channel(owner, 'TELEGRAM', s.TELEGRAM);
      sinks.failWith(
        '/discord/api/webhooks/123456789/gone-token',
        404,
        Infinity,
        '{"message": "Unknown Webhook", "code": 10015}',
      );
      const telegramKinds = () =>
        kinds(sinks.of('telegram').filter((r) => r.path.includes('gone')));
      const telegram = () => sinks.of('telegram').filter((r) => r.path.includes('gone'));

      const down = await publish(owner, 'DOWN', 100, now);
      await waitFor('the DOWN on Telegram', () => telegram().length === 1);
      // The clock moves only once Discord's first attempt (at t0) is over.
      await waitFor('the first 404', () =>
        sinks.rejected.some((r) => r.path.includes('gone-token')),
      );
      await sweeper.sweep();
      for (let hour = 1; hour <= 25; hour++) {
        now = t0 + hour * 3_600_000 + 1_000;
        if (hour === 1) {
          await publish(owner, 'RECOVERED', 101, now);
          await waitFor('the RECOVERED on Telegram', () => telegram().length === 2);
        }
        await sweeper.sweep();
      }
      // A later incident of the same site: the healthy channel at once; the failing one is tried once.
      const later = await publish(owner, 'DOWN', 150, now);
      await waitFor('the later DOWN on Telegram', () => telegram().length === 3);
      await sweeper.sweep();
      expect(telegramKinds()).toEqual(['DOWN', 'RECOVERED', 'DOWN']);
      const logOf = () =>
        t.http
          .get(`/api/notifications/deliveries?siteId=${owner.siteId}&channelId=${discord}`)
          .set(auth(owner))
          .expect(200);
      await waitFor('no Discord delivery pending', async () =>
        (await logOf()).body.items.every((d: any) => d.status !== 'PENDING'),
      );

      const ch = await t.http
        .get(`/api/notifications/channels/${discord}`)
        .set(auth(owner))
        .expect(200);
      expect(ch.body).toMatchObject({ state: 'FAILING', failingSince: new Date(t0).toISOString() });
      expect(ch.body.lastError).toContain('HTTP 404: Unknown Webhook');

      const log = await logOf();
      const rows = log.body.items.map((d: any) => ({
        kind: d.kind,
        status: d.status,
        code: d.lastStatusCode,
        state: d.channel.state,
      }));
      expect(rows).toEqual([
        { kind: 'DOWN', status: 'FAILED', code: 404, state: 'FAILING' },
        { kind: 'RECOVERED', status: 'FAILED', code: 404, state: 'FAILING' },
        { kind: 'DOWN', status: 'FAILED', code: 404, state: 'FAILING' },
      ]);
      const [laterRow, recRow, downRow] = log.body.items;
      expect(downRow.alertId).toBe(down.alertId);
      expect(downRow.lastError).toMatch(
        /gave up after 86400 s: HTTP 404: Unknown Webhook|channel is failing/,
      );
      expect(laterRow.alertId).toBe(later.alertId);
      expect(laterRow.attempts).toBe(1);
      expect(laterRow.lastError).toContain('channel is failing, not retried');
      expect(recRow.attempts).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(log.body)).not.toContain('gone-token');
      process.stderr.write(
        `404 for 24 h (pinned clock): DOWN ${downRow.attempts} attempts, ${downRow.lastError}; ` +
          `later DOWN ${laterRow.attempts} attempt; channel ${ch.body.state} since ${ch.body.failingSince}\n`,
      );
    } finally {
      clock.now = () => Date.now();
      sinks.clearFailures();
    }
  });
});
