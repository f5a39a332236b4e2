/**
 * Each provider's API shape, pure: the HTTP request one notification becomes, and what the
 * provider's answer means (delivered, or retry, when, and why). No IO here; the sender dials.
 * Shapes: Slack incoming webhooks, Discord webhooks (execute), Telegram Bot API sendMessage,
 * PagerDuty Events API v2 (trigger/resolve by dedup_key), Mattermost incoming webhooks, and our
 * own signed JSON webhook.
 */
import { createHmac } from 'node:crypto';
import type { ChannelConfig, ChannelSecrets, ChannelType } from './channel-config';
import {
  detailLines,
  escapeHtml,
  headline,
  isProblemKind,
  NotifyMessage,
  oneLine,
  webhookBody,
} from './notify-message';

export interface ProviderEndpoints {
  telegramApiUrl: string;
  pagerDutyEventsUrl: string;
}

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** per-channel timeout; undefined: the default */
  timeoutMs?: number;
}

export interface ChannelTarget {
  id: string;
  type: ChannelType;
  config: ChannelConfig;
  secrets: ChannelSecrets;
}

export const SIGNATURE_HEADER = 'x-uptime-signature';
export const TIMESTAMP_HEADER = 'x-uptime-timestamp';

/** `sha256=<hex>` over `<timestamp>.<body>`: binds the body to the time it was signed. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const json = { 'content-type': 'application/json; charset=utf-8' };

export function buildRequest(
  ch: ChannelTarget,
  m: NotifyMessage,
  endpoints: ProviderEndpoints,
  nowMs: number,
): OutboundRequest {
  const s = ch.secrets as Record<string, string>;
  switch (ch.type) {
    case 'WEBHOOK': {
      const timestamp = String(Math.floor(nowMs / 1000));
      const body = JSON.stringify(webhookBody(m, new Date(nowMs).toISOString()));
      const extra = (ch.secrets.headers ?? {}) as Record<string, string>;
      return {
        url: String(ch.config.url),
        headers: {
          ...extra,
          ...json,
          'x-uptime-event': m.event === 'alert' ? m.kind : m.event,
          'x-uptime-delivery': m.deliveryId,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(s.signingSecret, timestamp, body),
        },
        body,
        timeoutMs: typeof ch.config.timeoutMs === 'number' ? ch.config.timeoutMs : undefined,
      };
    }
    case 'SLACK': {
      const text = slackEscape(headline(m));
      const details = detailLines(m)
        .map(([k, v]) => `*${k}:* ${slackEscape(v)}`)
        .join('\n');
      return {
        url: s.webhookUrl,
        headers: json,
        body: JSON.stringify({
          text,
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
            { type: 'section', text: { type: 'mrkdwn', text: details } },
          ],
        }),
      };
    }
    case 'DISCORD': {
      const title = headline(m);
      return {
        url: s.webhookUrl,
        headers: json,
        body: JSON.stringify({
          content: title.slice(0, 2000),
          embeds: [
            {
              title: title.slice(0, 256),
              url: m.link,
              color: isProblemKind(m.kind) && m.event !== 'test' ? 0xd83c3e : 0x2ea043,
              timestamp: m.at,
              fields: detailLines(m)
                .filter(([k]) => k !== 'Details')
                .map(([name, value]) => ({ name, value: value.slice(0, 1024), inline: true })),
            },
          ],
          // A site name can never ping @everyone.
          allowed_mentions: { parse: [] },
        }),
      };
    }
    case 'TELEGRAM': {
      const lines = detailLines(m).map(([k, v]) => `<b>${k}:</b> ${escapeHtml(v)}`);
      return {
        url: `${endpoints.telegramApiUrl.replace(/\/+$/, '')}/bot${s.botToken}/sendMessage`,
        headers: json,
        body: JSON.stringify({
          chat_id: ch.config.chatId,
          text: `<b>${escapeHtml(headline(m))}</b>\n${lines.join('\n')}`.slice(0, 4096),
          parse_mode: 'HTML',
          disable_web_page_preview: true,
        }),
      };
    }
    case 'PAGERDUTY':
      return {
        url: endpoints.pagerDutyEventsUrl,
        headers: json,
        body: JSON.stringify(pagerDutyEvent(ch, m)),
      };
    case 'MATTERMOST': {
      const details = detailLines(m)
        .map(([k, v]) => `**${k}:** ${oneLine(v)}`)
        .join('\n');
      return {
        url: s.webhookUrl,
        headers: json,
        body: JSON.stringify({
          text: `**${headline(m)}**\n${details}`,
          ...(ch.config.channel ? { channel: ch.config.channel } : {}),
          ...(ch.config.username ? { username: ch.config.username } : {}),
        }),
      };
    }
  }
}

/** DOWN-like kinds trigger, RECOVERED-like resolve, both on the incident's dedup key. */
export function pagerDutyEvent(ch: ChannelTarget, m: NotifyMessage) {
  const routing_key = String(ch.secrets.routingKey);
  const dedup_key = m.event === 'test' ? `uptime-test:${ch.id}` : m.incidentKey;
  if (m.event !== 'test' && !isProblemKind(m.kind)) {
    return { routing_key, event_action: 'resolve', dedup_key };
  }
  const severity =
    m.event === 'test'
      ? 'info'
      : m.kind === 'REGION_DOWN'
        ? 'warning'
        : typeof ch.config.severity === 'string'
          ? ch.config.severity
          : 'critical';
  return {
    routing_key,
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: headline(m).slice(0, 1024),
      source: m.site.url,
      severity,
      timestamp: m.at,
      component: m.site.name,
      group: m.region ?? 'global',
      class: m.kind,
      custom_details: Object.fromEntries(detailLines(m)),
    },
    links: [{ href: m.link, text: 'Site details' }],
    client: 'Uptime Monitor',
    client_url: m.link,
  };
}

export type ProviderVerdict =
  { ok: true } | { ok: false; error: string; retryAfterMs?: number; kind: 'transient' | 'client' };

/** What a provider's answer means. `body` is at most a few kB of the response. */
export function interpretResponse(
  type: ChannelType,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): ProviderVerdict {
  const parsed = tryJson(body);
  if (status >= 200 && status < 300) {
    // Telegram answers 200 with {"ok":false} for some refusals.
    if (type === 'TELEGRAM' && parsed && parsed.ok === false) {
      return {
        ok: false,
        kind: 'client',
        error: `Telegram refused: ${textOf(parsed.description) || 'ok=false'}`,
      };
    }
    return { ok: true };
  }
  const retryAfterMs = retryAfter(headers['retry-after'], parsed);
  const why = describeBody(type, parsed, body);
  const error = `HTTP ${status}${why ? `: ${why}` : ''}`;
  const transient = status === 408 || status === 425 || status === 429 || status >= 500;
  return { ok: false, kind: transient ? 'transient' : 'client', error, retryAfterMs };
}

function describeBody(
  type: ChannelType,
  parsed: Record<string, unknown> | undefined,
  raw: string,
): string {
  if (parsed) {
    const text =
      type === 'TELEGRAM'
        ? parsed.description
        : type === 'PAGERDUTY'
          ? [parsed.message, ...(Array.isArray(parsed.errors) ? parsed.errors : [])].join('; ')
          : (parsed.message ?? parsed.error ?? parsed.text);
    if (text !== undefined) return oneLine(textOf(text)).slice(0, 300);
  }
  return oneLine(raw).slice(0, 300);
}

/** Retry-After (seconds or an HTTP date), or the retry hints of Discord and Telegram bodies. */
function retryAfter(
  header: string | string[] | undefined,
  body: Record<string, unknown> | undefined,
): number | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined) {
    const secs = Number(h);
    if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
    const date = Date.parse(h);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  const fromBody =
    typeof body?.retry_after === 'number'
      ? body.retry_after
      : typeof (body?.parameters as { retry_after?: unknown } | undefined)?.retry_after === 'number'
        ? (body!.parameters as { retry_after: number }).retry_after
        : undefined;
  return fromBody === undefined ? undefined : Math.round(fromBody * 1000);
}

function tryJson(s: string): Record<string, unknown> | undefined {
  if (!s.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Slack's mrkdwn needs only these three escaped. */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
