/**
 * Real HTTP servers on 127.0.0.1 that speak each provider's API shape, for notification tests:
 * Slack incoming webhooks (200 "ok"), Discord webhooks (204), Telegram Bot API sendMessage
 * ({ok:true,result}), PagerDuty Events API v2 (202 {status:"success",dedup_key}), Mattermost
 * incoming webhooks (200 "ok") and our signed webhook (verifies X-Uptime-Signature). Each
 * validates the request as the provider would (400 on a malformed one) and records what it
 * accepted. failWith() makes a path prefix answer an error for a while, as a broken provider.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { signupAndLogin, TestApp } from '../../support/app';
import type { Owner } from '../alerts-support/fixtures';

export type Provider = 'slack' | 'discord' | 'telegram' | 'pagerduty' | 'mattermost' | 'webhook';

export interface Received {
  provider: Provider;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  at: number;
}

interface Failure {
  prefix: string;
  status: number;
  until: number;
  body: string;
  hits: number;
}

export class ProviderSinks {
  readonly received: Received[] = [];
  readonly rejected: { path: string; status: number; at: number }[] = [];
  /** signing secrets the webhook endpoint accepts, by path */
  readonly webhookSecrets = new Map<string, string>();
  private failures: Failure[] = [];
  private server?: Server;
  port = 0;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The env a node needs to use these servers as the providers. */
  env(): Record<string, string> {
    return {
      NOTIFY_SLACK_BASE_URL: `${this.base}/slack/`,
      NOTIFY_DISCORD_BASE_URL: `${this.base}/discord/api/webhooks/`,
      NOTIFY_TELEGRAM_API_URL: `${this.base}/telegram/`,
      NOTIFY_PAGERDUTY_EVENTS_URL: `${this.base}/pagerduty/v2/enqueue`,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Requests under `prefix` get `status` until `forMs` from now (Infinity: until cleared). */
  failWith(prefix: string, status: number, forMs = Infinity, body = ''): void {
    this.failures.push({ prefix, status, until: Date.now() + forMs, body, hits: 0 });
  }

  clearFailures(): void {
    this.failures = [];
  }

  of(provider: Provider): Received[] {
    return this.received.filter((r) => r.provider === provider);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const failure = this.failures.find((f) => path.startsWith(f.prefix) && Date.now() < f.until);
    if (failure) {
      failure.hits++;
      this.rejected.push({ path, status: failure.status, at: Date.now() });
      res.writeHead(failure.status, { 'content-type': 'text/plain' }).end(failure.body);
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const accept = (provider: Provider, status: number, answer: string, type = 'text/plain') => {
      this.received.push({ provider, path, headers: req.headers, body, at: Date.now() });
      res.writeHead(status, answer ? { 'content-type': type } : {}).end(answer);
    };
    const refuse = (status: number, answer: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    };

    if (req.method !== 'POST') return refuse(405, { error: 'method' });
    if (path.startsWith('/slack/services/')) {
      if (typeof body.text !== 'string' || body.text === '') return refuse(400, 'no_text');
      return accept('slack', 200, 'ok');
    }
    if (/^\/discord\/api\/webhooks\/\d+\/[\w-]+$/.test(path)) {
      if (!body.content && !(Array.isArray(body.embeds) && body.embeds.length > 0)) {
        return refuse(400, { message: 'Cannot send an empty message', code: 50006 });
      }
      if (String(body.content ?? '').length > 2000)
        return refuse(400, { message: 'content too long' });
      return accept('discord', 204, '');
    }
    const tg = /^\/telegram\/bot(\d+:[\w-]+)\/sendMessage$/.exec(path);
    if (tg) {
      if (body.chat_id === undefined || typeof body.text !== 'string') {
        return refuse(400, {
          ok: false,
          error_code: 400,
          description: 'Bad Request: message text is empty',
        });
      }
      accept(
        'telegram',
        200,
        JSON.stringify({ ok: true, result: { message_id: this.received.length } }),
        'application/json',
      );
      return;
    }
    if (path === '/pagerduty/v2/enqueue') {
      const errors: string[] = [];
      if (!/^[A-Za-z0-9]{32}$/.test(String(body.routing_key))) errors.push('Invalid routing key');
      if (!['trigger', 'acknowledge', 'resolve'].includes(body.event_action))
        errors.push('Invalid event_action');
      if (body.event_action === 'trigger') {
        const p = body.payload ?? {};
        if (
          !p.summary ||
          !p.source ||
          !['critical', 'error', 'warning', 'info'].includes(p.severity)
        ) {
          errors.push('payload.summary, payload.source and payload.severity are required');
        }
      } else if (!body.dedup_key) errors.push('dedup_key is required');
      if (errors.length > 0)
        return refuse(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      return accept(
        'pagerduty',
        202,
        JSON.stringify({
          status: 'success',
          message: 'Event processed',
          dedup_key: body.dedup_key,
        }),
        'application/json',
      );
    }
    if (path.startsWith('/mattermost/hooks/')) {
      if (typeof body.text !== 'string' || body.text === '')
        return refuse(400, { message: 'text required' });
      return accept('mattermost', 200, 'ok');
    }
    if (path.startsWith('/webhook/')) {
      const secret = this.webhookSecrets.get(path);
      const ts = String(req.headers['x-uptime-timestamp'] ?? '');
      const sig = String(req.headers['x-uptime-signature'] ?? '');
      const want = `sha256=${createHmac('sha256', secret ?? '')
        .update(`${ts}.${raw}`)
        .digest('hex')}`;
      const ok =
        secret !== undefined &&
        sig.length === want.length &&
        timingSafeEqual(Buffer.from(sig), Buffer.from(want));
      if (!ok) return refuse(401, { error: 'bad signature' });
      return accept('webhook', 200, JSON.stringify({ received: true }), 'application/json');
    }
    refuse(404, { message: 'Unknown Webhook', code: 10015 });
  }
}

/** Channel settings for each provider, pointing at the sinks. */
export function channelSettings(sinks: ProviderSinks, tag: string) {
  const secret = `whsec-${tag}-0123456789abcdef`;
  sinks.webhookSecrets.set(`/webhook/${tag}`, secret);
  return {
    WEBHOOK: {
      url: `${sinks.base}/webhook/${tag}`,
      signingSecret: secret,
      headers: { authorization: `Bearer tok-${tag}` },
    },
    SLACK: { webhookUrl: `${sinks.base}/slack/services/T000/B000/${tag}XXXXXXXX` },
    DISCORD: { webhookUrl: `${sinks.base}/discord/api/webhooks/123456789/${tag}-token` },
    TELEGRAM: { botToken: `123456:${tag}AAAAAAAAAAAAAAAAAAAAAAAA`, chatId: '-1001234567' },
    PAGERDUTY: {
      routingKey: `R${tag}`
        .padEnd(32, '0')
        .slice(0, 32)
        .replace(/[^A-Za-z0-9]/g, '0'),
    },
    MATTERMOST: { webhookUrl: `${sinks.base}/mattermost/hooks/${tag}key` },
  } as const;
}

/**
 * A user with one site created paused: the node's own scheduler never checks it, so the only
 * alerts of the site are the ones a test publishes.
 */
export async function quietOwner(t: TestApp, email: string, siteName: string): Promise<Owner> {
  const token = await signupAndLogin(t, email);
  const siteUrl = `http://127.0.0.1:9/${encodeURIComponent(siteName)}`;
  const res = await t.http
    .post('/api/websites')
    .set('authorization', `Bearer ${token}`)
    .send({ name: siteName, url: siteUrl, intervalMs: 60_000, paused: true })
    .expect(201);
  const me = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
    sub: string;
  };
  return { userId: me.sub, email, token, siteId: res.body.id, siteName, siteUrl };
}
