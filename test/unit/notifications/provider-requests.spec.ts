// Each provider's request shape and the meaning of its answers, pure; settings are split into
// shown and secret parts, masked for display and scrubbed out of error texts.
import {
  maskSecret,
  presentSettings,
  scrub,
  secretStrings,
  splitSettings,
} from '@/modules/notifications/channel-config';
import type { NotifyMessage } from '@/modules/notifications/notify-message';
import {
  buildRequest,
  ChannelTarget,
  interpretResponse,
  webhookSignature,
} from '@/modules/notifications/provider-requests';

const endpoints = {
  telegramApiUrl: 'https://tg.test/',
  pagerDutyEventsUrl: 'https://pd.test/v2/enqueue',
};
const message = (over: Partial<NotifyMessage> = {}): NotifyMessage => ({
  event: 'alert',
  deliveryId: 'd-1',
  alertId: 'a-1',
  kind: 'DOWN',
  region: null,
  round: 7,
  at: '2026-05-01T10:00:00.000Z',
  tally: { up: 0, down: 3, total: 3, quorum: 2 },
  reminder: 0,
  incidentKey: 's-1:*:7',
  site: { id: 's-1', name: 'Shop <b>', url: 'https://shop.test' },
  link: 'https://uptime.test/api/websites/s-1',
  ...over,
});
const target = (type: ChannelTarget['type'], settings: Record<string, unknown>): ChannelTarget => {
  const s = splitSettings(type, settings);
  if (!s.ok) throw new Error(JSON.stringify(s.issues));
  return { id: 'c-1', type, config: s.config, secrets: s.secrets };
};

describe('provider requests', () => {
  it('signs the webhook body with the timestamp', () => {
    const ch = target('WEBHOOK', {
      url: 'https://hook.test/x',
      signingSecret: 'sixteen-chars-secret',
      headers: { 'x-team': 'ops' },
    });
    const req = buildRequest(ch, message(), endpoints, Date.parse('2026-05-01T10:00:05Z'));
    expect(req.url).toBe('https://hook.test/x');
    expect(req.headers['x-uptime-timestamp']).toBe('1777629605');
    expect(req.headers['x-uptime-signature']).toBe(
      webhookSignature('sixteen-chars-secret', '1777629605', req.body),
    );
    expect(req.headers['x-team']).toBe('ops');
    expect(JSON.parse(req.body)).toMatchObject({
      v: 1,
      event: 'alert',
      deliveryId: 'd-1',
      alert: { kind: 'DOWN', incidentKey: 's-1:*:7' },
    });
  });

  it('builds PagerDuty trigger and resolve on the incident key', () => {
    const ch = target('PAGERDUTY', { routingKey: 'A'.repeat(32) });
    const trigger = JSON.parse(buildRequest(ch, message(), endpoints, 0).body);
    expect(trigger).toMatchObject({
      routing_key: 'A'.repeat(32),
      event_action: 'trigger',
      dedup_key: 's-1:*:7',
      payload: {
        severity: 'critical',
        source: 'https://shop.test',
        summary: '[DOWN] Shop <b> is DOWN',
      },
    });
    const resolve = JSON.parse(
      buildRequest(ch, message({ kind: 'RECOVERED', round: 9 }), endpoints, 0).body,
    );
    expect(resolve).toEqual({
      routing_key: 'A'.repeat(32),
      event_action: 'resolve',
      dedup_key: 's-1:*:7',
    });
  });

  it('escapes site names for Telegram HTML and Slack mrkdwn, and never pings from Discord', () => {
    const tg = buildRequest(
      target('TELEGRAM', { botToken: `123:${'x'.repeat(30)}`, chatId: -100 }),
      message(),
      endpoints,
      0,
    );
    expect(tg.url).toBe(`https://tg.test/bot123:${'x'.repeat(30)}/sendMessage`);
    expect(JSON.parse(tg.body)).toMatchObject({ chat_id: '-100', parse_mode: 'HTML' });
    expect(JSON.parse(tg.body).text).toContain('Shop &#60;b&#62;');
    const slack = JSON.parse(
      buildRequest(
        target('SLACK', { webhookUrl: 'https://hooks.slack.com/services/x' }),
        message(),
        endpoints,
        0,
      ).body,
    );
    expect(slack.text).toBe('[DOWN] Shop &lt;b&gt; is DOWN');
    const discord = JSON.parse(
      buildRequest(
        target('DISCORD', { webhookUrl: 'https://discord.com/api/webhooks/1/x' }),
        message({ site: { id: 's', name: '@everyone', url: 'u' } }),
        endpoints,
        0,
      ).body,
    );
    expect(discord.allowed_mentions).toEqual({ parse: [] });
  });

  it('reads answers: success, Telegram ok=false, retry hints, client errors', () => {
    expect(interpretResponse('DISCORD', 204, {}, '')).toEqual({ ok: true });
    expect(
      interpretResponse('TELEGRAM', 200, {}, '{"ok":false,"description":"chat not found"}'),
    ).toMatchObject({ ok: false, kind: 'client' });
    expect(interpretResponse('SLACK', 429, { 'retry-after': '7' }, 'rate_limited')).toEqual({
      ok: false,
      kind: 'transient',
      error: 'HTTP 429: rate_limited',
      retryAfterMs: 7000,
    });
    expect(
      interpretResponse(
        'DISCORD',
        429,
        {},
        '{"message":"You are being rate limited.","retry_after":1.5}',
      ),
    ).toMatchObject({ retryAfterMs: 1500 });
    expect(
      interpretResponse(
        'TELEGRAM',
        429,
        {},
        '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}',
      ),
    ).toMatchObject({ retryAfterMs: 5000, error: 'HTTP 429: Too Many Requests: retry after 5' });
    expect(
      interpretResponse('DISCORD', 404, {}, '{"message": "Unknown Webhook", "code": 10015}'),
    ).toEqual({
      ok: false,
      kind: 'client',
      error: 'HTTP 404: Unknown Webhook',
      retryAfterMs: undefined,
    });
    expect(
      interpretResponse(
        'PAGERDUTY',
        400,
        {},
        '{"status":"invalid event","message":"Event object is invalid","errors":["Length of routing_key is incorrect"]}',
      ),
    ).toMatchObject({
      error: 'HTTP 400: Event object is invalid; Length of routing_key is incorrect',
    });
    expect(interpretResponse('MATTERMOST', 503, {}, 'down')).toMatchObject({ kind: 'transient' });
  });
});

describe('channel settings', () => {
  it('splits, keeps secrets on update, masks and scrubs them', () => {
    const first = splitSettings('TELEGRAM', {
      botToken: `42:${'t'.repeat(30)}`,
      chatId: '@ops_channel',
    });
    expect(first).toMatchObject({ ok: true, config: { chatId: '@ops_channel' } });
    if (!first.ok) throw new Error('unreachable');
    const updated = splitSettings('TELEGRAM', { chatId: '-5' }, first);
    expect(updated).toMatchObject({
      ok: true,
      config: { chatId: '-5' },
      secrets: { botToken: `42:${'t'.repeat(30)}` },
    });
    expect(presentSettings('TELEGRAM', first.config, first.secrets)).toEqual({
      chatId: '@ops_channel',
      botToken: '********',
    });
    expect(maskSecret('https://hooks.slack.com/services/T/B/X')).toBe(
      'https://hooks.slack.com/********',
    );
    const secrets = secretStrings({ webhookUrl: 'https://hooks.slack.com/services/T1/B2/SECRET' });
    expect(scrub('POST https://hooks.slack.com/services/T1/B2/SECRET failed', secrets)).toBe(
      'POST ******** failed',
    );
    expect(scrub('path /services/T1/B2/SECRET refused', secrets)).toBe('path ******** refused');
  });

  it('names bad and unknown fields under settings', () => {
    const r = splitSettings('WEBHOOK', {
      url: 'ftp://x',
      signingSecret: 'short',
      headers: { Host: 'evil' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path).sort()).toEqual([
      'settings.headers.Host',
      'settings.signingSecret',
      'settings.url',
    ]);
    const u = splitSettings('SLACK', { webhookUrl: 'https://hooks.slack.com/x', channel: '#ops' });
    expect(u).toMatchObject({ ok: false, issues: [{ path: 'settings.channel' }] });
  });
});
