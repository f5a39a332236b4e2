// The notifications API against the real app and PostgreSQL, with real local servers speaking
// each provider's API shape: channels of every type are created with their secrets masked (never
// returned, never in the delivery log), the SSRF guard refuses private destinations with a 422,
// another user's channel is a 404, the quota holds, a test notification reaches each provider,
// routing per site overrides the default set, and an alert reaches every routed channel once.
import { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { NotifySweeper } from '@/modules/notifications/delivery/notify-sweeper';
import { createTestApp, TestApp } from '../support/app';
import { sleep, waitFor } from './alerts-support/clients';
import type { Owner } from './alerts-support/fixtures';
import { channelSettings, ProviderSinks, quietOwner } from './notify-support/provider-sinks';

jest.setTimeout(120_000);

const TYPES = ['WEBHOOK', 'SLACK', 'DISCORD', 'TELEGRAM', 'PAGERDUTY', 'MATTERMOST'] as const;

describe('notifications API', () => {
  let sinks: ProviderSinks;
  let t: TestApp;
  let owner: Owner;
  let other: Owner;
  const auth = (o: Owner) => ({ authorization: `Bearer ${o.token}` });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sinks = await new ProviderSinks().start();
    t = await createTestApp({ ...sinks.env(), NOTIFY_MAX_CHANNELS_PER_USER: '7' });
    owner = await quietOwner(t, 'notify-owner@example.com', 'Shop <main>');
    other = await quietOwner(t, 'notify-other@example.com', 'Blog');
  });

  afterAll(async () => {
    await t?.close();
    await sinks?.stop();
  });

  it('documents every notifications endpoint in OpenAPI, with request and response schemas', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const paths = {
      '/api/notifications/channels': ['get', 'post'],
      '/api/notifications/channels/{id}': ['get', 'put', 'delete'],
      '/api/notifications/channels/{id}/test': ['post'],
      '/api/notifications/deliveries': ['get'],
      '/api/websites/{id}/notifications': ['get', 'put'],
      '/api/maintenance-windows': ['get', 'post'],
      '/api/maintenance-windows/{id}': ['get', 'put', 'delete'],
    };
    for (const [path, methods] of Object.entries(paths)) {
      expect({ path, methods: Object.keys(doc.paths[path] ?? {}).sort() }).toEqual({
        path,
        methods: [...methods].sort(),
      });
    }
    const create = doc.paths['/api/notifications/channels'].post;
    expect(create.requestBody.content['application/json'].schema).toBeDefined();
    expect(create.responses['201'].content['application/json'].schema).toBeDefined();
    expect(create.responses['422']).toBeDefined();
  });

  it('creates a channel of every type and never shows its secrets', async () => {
    const settings = channelSettings(sinks, 'api');
    for (const type of TYPES) {
      const res = await t.http
        .post('/api/notifications/channels')
        .set(auth(owner))
        .send({ name: `ops ${type}`, type, settings: settings[type] })
        .expect(201);
      ids[type] = res.body.id;
      expect(res.body).toMatchObject({
        type,
        enabled: true,
        state: 'OK',
        defaultKinds: ['DOWN', 'RECOVERED'],
      });
    }
    const list = await t.http.get('/api/notifications/channels').set(auth(owner)).expect(200);
    const text = JSON.stringify(list.body);
    for (const secret of [
      settings.WEBHOOK.signingSecret,
      'tok-api',
      settings.SLACK.webhookUrl,
      'apiXXXXXXXX',
      'api-token',
      settings.TELEGRAM.botToken,
      settings.PAGERDUTY.routingKey,
      'apikey',
    ]) {
      expect(text).not.toContain(secret);
    }
    const byType = Object.fromEntries(list.body.items.map((c: any) => [c.type, c.settings]));
    expect(byType.WEBHOOK).toEqual({
      url: settings.WEBHOOK.url,
      signingSecret: '********',
      headers: { authorization: '********' },
    });
    expect(byType.SLACK).toEqual({ webhookUrl: `${sinks.base}/********` });
    expect(byType.TELEGRAM).toEqual({ chatId: '-1001234567', botToken: '********' });
    expect(byType.PAGERDUTY).toEqual({ routingKey: '********' });
  });

  it('refuses bad settings (400), private destinations (422), others’ channels (404) and the quota (409)', async () => {
    const bad = await t.http
      .post('/api/notifications/channels')
      .set(auth(owner))
      .send({ name: 'x', type: 'TELEGRAM', settings: { botToken: 'nope', chatId: 'x', extra: 1 } })
      .expect(400);
    expect(bad.body.error).toBe('VALIDATION_FAILED');
    expect(bad.body.details.map((d: any) => d.path)).toEqual(['settings.extra']);
    const slack = await t.http
      .post('/api/notifications/channels')
      .set(auth(owner))
      .send({ name: 'x', type: 'SLACK', settings: { webhookUrl: 'https://example.com/hook' } })
      .expect(400);
    expect(slack.body.details[0].message).toContain(`starting with ${sinks.base}/slack/`);
    // Cloud metadata stays closed even with ALLOW_PRIVATE_TARGETS (as for checks).
    const ssrf = await t.http
      .post('/api/notifications/channels')
      .set(auth(owner))
      .send({
        name: 'x',
        type: 'WEBHOOK',
        settings: {
          url: 'http://169.254.169.254/latest/meta-data',
          signingSecret: '0123456789abcdef',
        },
      })
      .expect(422);
    expect(ssrf.body).toMatchObject({ error: 'TARGET_NOT_ALLOWED' });
    expect(ssrf.body.message).toContain('cloud-metadata');

    await t.http.get(`/api/notifications/channels/${ids.SLACK}`).set(auth(other)).expect(404);
    await t.http.post(`/api/notifications/channels/${ids.SLACK}/test`).set(auth(other)).expect(404);
    await t.http.delete(`/api/notifications/channels/${ids.SLACK}`).set(auth(other)).expect(404);
    await t.http
      .put(`/api/websites/${owner.siteId}/notifications`)
      .set(auth(other))
      .send({ reminderEveryMinutes: 5 })
      .expect(404);
    const foreign = await t.http
      .put(`/api/websites/${other.siteId}/notifications`)
      .set(auth(other))
      .send({ routes: [{ channelId: ids.SLACK, kinds: ['DOWN'] }] })
      .expect(404);
    expect(foreign.body.details[0].path).toBe('routes.0.channelId');

    const settings = channelSettings(sinks, 'q');
    await t.http
      .post('/api/notifications/channels')
      .set(auth(owner))
      .send({
        name: 'seventh',
        type: 'MATTERMOST',
        settings: settings.MATTERMOST,
        defaultKinds: [],
      })
      .expect(201);
    const quota = await t.http
      .post('/api/notifications/channels')
      .set(auth(owner))
      .send({ name: 'eighth', type: 'MATTERMOST', settings: settings.MATTERMOST })
      .expect(409);
    expect(quota.body.message).toContain('at most 7');
  });

  it('sends a test notification to each provider', async () => {
    for (const type of TYPES) {
      const res = await t.http
        .post(`/api/notifications/channels/${ids[type]}/test`)
        .set(auth(owner))
        .expect(200);
      expect({ type, ...res.body }).toMatchObject({ type, delivered: true, error: null });
    }
    expect(sinks.received.map((r) => r.provider).sort()).toEqual(
      ['discord', 'mattermost', 'pagerduty', 'slack', 'telegram', 'webhook'].sort(),
    );
    const pd = sinks.of('pagerduty')[0].body;
    expect(pd).toMatchObject({ event_action: 'trigger', payload: { severity: 'info' } });
    const hook = sinks.of('webhook')[0];
    expect(hook.headers.authorization).toBe('Bearer tok-api');
    expect(hook.body).toMatchObject({ v: 1, event: 'test' });
  });

  it('routes per site over the default set and delivers an alert once to each routed channel', async () => {
    sinks.received.length = 0;
    // This site: Slack only for REGION_DOWN, PagerDuty muted; the rest keep DOWN and RECOVERED.
    const put = await t.http
      .put(`/api/websites/${owner.siteId}/notifications`)
      .set(auth(owner))
      .send({
        reminderEveryMinutes: 10,
        routes: [
          { channelId: ids.SLACK, kinds: ['REGION_DOWN'] },
          { channelId: ids.PAGERDUTY, kinds: [] },
        ],
      })
      .expect(200);
    expect(put.body.reminderEveryMinutes).toBe(10);
    expect(
      put.body.effective.map((e: any) => `${e.type}:${e.kinds.join('+')}:${e.source}`).sort(),
    ).toEqual([
      'DISCORD:DOWN+RECOVERED:default',
      'MATTERMOST:DOWN+RECOVERED:default',
      'SLACK:REGION_DOWN:site',
      'TELEGRAM:DOWN+RECOVERED:default',
      'WEBHOOK:DOWN+RECOVERED:default',
    ]);

    const alert = await t.app.get(AlertPublisher).publish({
      siteId: owner.siteId,
      url: owner.siteUrl,
      kind: 'DOWN',
      region: null,
      round: 77,
      decisionLogIndex: 770,
      tally: { up: 0, down: 3, total: 3, quorum: 2 },
      at: Date.now(),
    });
    await waitFor('four providers', () => sinks.received.length >= 4);
    await t.app.get(NotifySweeper).sweep();
    await sleep(500);
    expect(sinks.received.map((r) => r.provider).sort()).toEqual([
      'discord',
      'mattermost',
      'telegram',
      'webhook',
    ]);
    expect(sinks.of('telegram')[0].body.text).toContain('Shop &#60;main&#62;');
    expect(sinks.of('discord')[0].body.allowed_mentions).toEqual({ parse: [] });
    expect(sinks.of('webhook')[0].body.alert).toMatchObject({
      alertId: alert.alertId,
      kind: 'DOWN',
      round: 77,
    });

    const log = await t.http
      .get(`/api/notifications/deliveries?alertId=${alert.alertId}`)
      .set(auth(owner))
      .expect(200);
    expect(log.body.items.map((d: any) => [d.channel.type, d.status, d.attempts]).sort()).toEqual([
      ['DISCORD', 'SENT', 1],
      ['MATTERMOST', 'SENT', 1],
      ['TELEGRAM', 'SENT', 1],
      ['WEBHOOK', 'SENT', 1],
    ]);
    expect(log.body.items[0].recentAttempts[0]).toMatchObject({ error: null });
    const otherLog = await t.http
      .get(`/api/notifications/deliveries?alertId=${alert.alertId}`)
      .set(auth(other))
      .expect(200);
    expect(otherLog.body.items).toEqual([]);
  });
});
