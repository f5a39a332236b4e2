/**
 * What each channel type is configured with, split into what may be shown (`config`) and what
 * never leaves the server (`secrets`: URLs that carry tokens, keys, header values). The one
 * schema per type validates create and update input; present() is the only way a channel's
 * settings are shown, and it masks every secret.
 */
import { z } from 'zod';
import type { FieldIssue } from '@/common/domain-error';
import { httpUrlSchema } from '@/common/http-url.schema';
import { fieldIssues } from '@/common/parse-input';

export const CHANNEL_TYPES = [
  'WEBHOOK',
  'SLACK',
  'DISCORD',
  'TELEGRAM',
  'PAGERDUTY',
  'MATTERMOST',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;

/** Header names a webhook may not set: framing, routing and our own signature headers. */
const RESERVED_HEADER =
  /^(host|content-length|content-type|transfer-encoding|connection|te|upgrade|x-uptime-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

const headerMap = z
  .record(
    z
      .string()
      .regex(HEADER_NAME, 'expected an HTTP header name')
      .refine((h) => !RESERVED_HEADER.test(h), {
        message: 'this header is set by the server',
      }),
    // no CR/LF: a header value cannot start another header
    z
      .string()
      .max(2048)
      .regex(/^[^\r\n]*$/, 'no line breaks'),
  )
  .refine((h) => Object.keys(h).length <= 20, { message: 'at most 20 headers' });

/** Per type: which fields exist, which are secret, and their schema. */
export const channelFields = {
  WEBHOOK: {
    public: z.object({
      url: httpUrlSchema,
      timeoutMs: z.number().int().min(1_000).max(30_000).optional(),
    }),
    secret: z.object({
      /** HMAC-SHA256 key of the X-Uptime-Signature header */
      signingSecret: z.string().min(16, 'at least 16 characters').max(256),
      /** extra headers sent with every request (their values may be credentials) */
      headers: headerMap.optional(),
    }),
  },
  SLACK: {
    public: z.object({}),
    secret: z.object({ webhookUrl: httpUrlSchema }),
  },
  DISCORD: {
    public: z.object({}),
    secret: z.object({ webhookUrl: httpUrlSchema }),
  },
  TELEGRAM: {
    public: z.object({
      chatId: z
        .union([
          z.string().regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$/, 'expected a chat id or @channel'),
          z.number().int(),
        ])
        .transform(String),
    }),
    secret: z.object({
      botToken: z
        .string()
        .regex(/^\d{1,20}:[A-Za-z0-9_-]{20,100}$/, 'expected a bot token (123456:ABC…)'),
    }),
  },
  PAGERDUTY: {
    public: z.object({ severity: z.enum(PAGERDUTY_SEVERITIES).optional() }),
    secret: z.object({
      routingKey: z.string().regex(/^[A-Za-z0-9]{32}$/, 'expected a 32-character integration key'),
    }),
  },
  MATTERMOST: {
    public: z.object({
      channel: z.string().min(1).max(64).optional(),
      username: z.string().min(1).max(64).optional(),
    }),
    secret: z.object({ webhookUrl: httpUrlSchema }),
  },
} as const satisfies Record<ChannelType, { public: z.ZodObject; secret: z.ZodObject }>;

export type ChannelConfig = Record<string, unknown>;
export type ChannelSecrets = Record<string, unknown>;

/** Splits a channel's settings (one flat object as the API takes it) into config and secrets. */
export function splitSettings(
  type: ChannelType,
  settings: Record<string, unknown>,
  previous?: { config: ChannelConfig; secrets: ChannelSecrets },
):
  | { ok: true; config: ChannelConfig; secrets: ChannelSecrets }
  | { ok: false; issues: FieldIssue[] } {
  const f = channelFields[type];
  const known = new Set([...Object.keys(f.public.shape), ...Object.keys(f.secret.shape)]);
  const unknown = Object.keys(settings).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    return {
      ok: false,
      issues: unknown.map((k) => ({
        path: `settings.${k}`,
        message: `not a ${type} setting (known: ${[...known].join(', ')})`,
      })),
    };
  }
  // An update may leave secrets out: they keep their value. Public fields are replaced as given.
  const pick = (shape: Record<string, unknown>, base: Record<string, unknown> = {}) => {
    const out: Record<string, unknown> = { ...base };
    for (const k of Object.keys(shape)) if (k in settings) out[k] = settings[k];
    return out;
  };
  const pub = f.public.safeParse(pick(f.public.shape, previous?.config));
  const sec = f.secret.safeParse(pick(f.secret.shape, previous?.secrets));
  if (!pub.success || !sec.success) {
    const issues = [
      ...(pub.success ? [] : fieldIssues(pub.error, '')),
      ...(sec.success ? [] : fieldIssues(sec.error, '')),
    ].map((i) => ({ ...i, path: i.path ? `settings.${i.path}` : 'settings' }));
    return { ok: false, issues };
  }
  return { ok: true, config: pub.data, secrets: sec.data };
}

/** The settings as the API shows them: public fields as they are, secrets masked. */
export function presentSettings(
  type: ChannelType,
  config: ChannelConfig,
  secrets: ChannelSecrets,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const k of Object.keys(channelFields[type].secret.shape)) {
    const v = secrets[k];
    if (v === undefined) continue;
    out[k] = maskSecret(v);
  }
  return out;
}

const MASK = '********';

/** A URL keeps its origin (so the user recognises it); everything else is a fixed mask. */
export function maskSecret(value: unknown): unknown {
  if (typeof value === 'string' && /^https?:\/\//i.test(value)) {
    try {
      return `${new URL(value).origin}/${MASK}`;
    } catch {
      return MASK;
    }
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).map((k) => [k, MASK]));
  }
  return MASK;
}

/** Every secret string of a channel, so error texts can be scrubbed of them before storage. */
export function secretStrings(secrets: ChannelSecrets): string[] {
  const out: string[] = [];
  const visit = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 4) {
      out.push(v);
      // A URL's path and query are where webhook tokens live.
      try {
        const u = new URL(v);
        if (u.pathname.length > 1) out.push(u.pathname);
        if (u.search) out.push(u.search);
      } catch {
        /* not a URL */
      }
    } else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(secrets);
  return out.sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(MASK);
  return out;
}
