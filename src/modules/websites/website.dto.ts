import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { MAX_CONFIRM_ROUNDS, VERDICTS } from '@/core/consensus/decision';
import { checkSpecSchema, targetProblem, type CheckKind } from '@/modules/ping/check-spec';

export const MIN_INTERVAL_MS = 10_000;
/** push sites' rounds (fixed by the server, 2 s): an exported push site imports as it is */
const MIN_PUSH_INTERVAL_MS = 1_000;
export const MAX_INTERVAL_MS = 86_400_000;
export const MAX_RETRIES = 5;
export const MAX_RETRY_DELAY_MS = 30_000;

const fields = {
  url: z
    .string()
    .trim()
    .min(1)
    .max(2048, 'at most 2048 characters')
    .describe(
      'the target: an http(s) URL; tcp://host:port, tls://host[:port] or dns://name for those ' +
        'kinds; push sites: omit it (the server sets push://<site id>)',
    ),
  check: checkSpecSchema,
  name: z.string().trim().min(1).max(200),
  intervalMs: z
    .number()
    .int()
    .min(MIN_PUSH_INTERVAL_MS)
    .max(MAX_INTERVAL_MS)
    .describe('check interval, 10 s to 24 h'),
  timeoutMs: z.number().int().min(500).max(60_000).describe('hard timeout of one check'),
  expectedStatus: z
    .array(z.number().int().min(100).max(599))
    .max(32)
    .describe('accepted HTTP status codes; empty means any 2xx'),
  keyword: z.string().min(1).max(1024).nullable().describe('text that must appear in the body'),
  paused: z.boolean(),
  downAfterRounds: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONFIRM_ROUNDS)
    .describe('consecutive DOWN rounds before the site is DOWN (1: the quorum already confirms)'),
  upAfterRounds: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONFIRM_ROUNDS)
    .describe('consecutive UP rounds before a DOWN site recovers'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(MAX_RETRIES)
    .describe('retries of a failed check within its round before a validator votes DOWN'),
  retryDelayMs: z.number().int().min(0).max(MAX_RETRY_DELAY_MS).describe('pause before each retry'),
};

const timeoutBelowInterval = (v: { intervalMs?: number; timeoutMs?: number }) =>
  v.intervalMs === undefined || v.timeoutMs === undefined || v.timeoutMs < v.intervalMs;

/** Problems of a target and the http-only fields under a kind, as [path, message]. */
export function kindProblems(v: {
  kind: CheckKind;
  url?: string;
  keyword?: string | null;
  expectedStatus?: number[];
  /** a create: every kind but push needs a url */
  requireUrl?: boolean;
  intervalMs?: number;
}): [string, string][] {
  const out: [string, string][] = [];
  if (v.kind !== 'push' && v.intervalMs !== undefined && v.intervalMs < MIN_INTERVAL_MS)
    out.push(['intervalMs', `at least ${MIN_INTERVAL_MS} ms`]);
  if (v.url === undefined && v.kind !== 'push' && v.requireUrl) out.push(['url', 'required']);
  const target = v.url === undefined ? null : targetProblem(v.kind, v.url);
  if (target) out.push(['url', target]);
  if (v.kind !== 'http' && v.keyword) out.push(['keyword', 'keyword applies to http checks only']);
  if (v.kind !== 'http' && v.expectedStatus && v.expectedStatus.length > 0) {
    out.push(['expectedStatus', 'expectedStatus applies to http checks only']);
  }
  return out;
}

const kindFits = (
  v: {
    check?: { kind: CheckKind };
    url?: string;
    keyword?: string | null;
    expectedStatus?: number[];
    intervalMs?: number;
  },
  ctx: z.RefinementCtx,
  requireUrl = false,
) => {
  // Without `check`, a create is an http check; an update keeps the stored kind (the service checks).
  if (v.check === undefined && v.url === undefined && !requireUrl) return;
  const kind = v.check?.kind ?? 'http';
  for (const [path, message] of kindProblems({ ...v, kind, requireUrl })) {
    ctx.addIssue({ code: 'custom', path: [path], message });
  }
};

/** Retries must end within the round: retries x (timeout + delay) below the interval. */
export function retriesProblem(v: {
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
}): string | null {
  const needed = (v.retries + 1) * v.timeoutMs + v.retries * v.retryDelayMs;
  if (v.retries === 0 || needed < v.intervalMs) return null;
  return `retries: ${v.retries} retries of ${v.timeoutMs} ms with ${v.retryDelayMs} ms between need ${needed} ms, not below intervalMs ${v.intervalMs}`;
}

export const createWebsiteSchema = z
  .strictObject({
    url: fields.url.optional(),
    check: fields.check.optional().describe('the kind of check and its options; default: http GET'),
    name: fields.name.optional(),
    intervalMs: fields.intervalMs
      .default(60_000)
      .describe('check interval, 10 s to 24 h; push sites: ignored (their rounds run every 2 s)'),
    timeoutMs: fields.timeoutMs
      .optional()
      .describe('hard timeout of one check; default min(10 s, intervalMs / 2)'),
    expectedStatus: fields.expectedStatus.default([]),
    keyword: fields.keyword.optional(),
    paused: fields.paused.default(false),
    downAfterRounds: fields.downAfterRounds.default(1),
    upAfterRounds: fields.upAfterRounds.default(1),
    retries: fields.retries.default(0),
    retryDelayMs: fields.retryDelayMs.default(0),
  })
  .refine(timeoutBelowInterval, {
    message: 'timeoutMs must be below intervalMs',
    path: ['timeoutMs'],
  })
  .superRefine((v, ctx) => kindFits(v, ctx, true));
export class CreateWebsiteDto extends createZodDto(createWebsiteSchema) {}

export const updateWebsiteSchema = z
  .strictObject({
    url: fields.url.optional(),
    check: fields.check.optional().describe('replaces the whole check (kind and options)'),
    name: fields.name.optional(),
    intervalMs: fields.intervalMs.optional(),
    timeoutMs: fields.timeoutMs.optional(),
    expectedStatus: fields.expectedStatus.optional(),
    keyword: fields.keyword.optional(),
    paused: fields.paused.optional(),
    downAfterRounds: fields.downAfterRounds.optional(),
    upAfterRounds: fields.upAfterRounds.optional(),
    retries: fields.retries.optional(),
    retryDelayMs: fields.retryDelayMs.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' })
  .refine(timeoutBelowInterval, {
    message: 'timeoutMs must be below intervalMs',
    path: ['timeoutMs'],
  })
  .superRefine((v, ctx) => {
    if (v.check !== undefined && v.url !== undefined) kindFits(v, ctx);
  });
export class UpdateWebsiteDto extends createZodDto(updateWebsiteSchema) {}

export const pushTokenSchema = z.object({
  token: z.string().describe('the new beat token for /api/push/{token}; the old one stops working'),
  beatUrl: z.string().describe('the path to call: /api/push/{token}'),
});
export class PushTokenDto extends createZodDto(pushTokenSchema) {}

export const pauseSchema = z.strictObject({ paused: z.boolean() });
export class PauseDto extends createZodDto(pauseSchema) {}

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export class ListQueryDto extends createZodDto(listQuerySchema) {}

const verdictSchema = z.enum(VERDICTS);

export const liveStatusSchema = z
  .object({
    verdict: verdictSchema.describe('committed verdict; UNKNOWN until the first UP or DOWN'),
    since: z.iso.datetime().nullable().describe('when the site entered this verdict'),
    regions: z
      .record(z.string(), z.object({ verdict: verdictSchema, since: z.iso.datetime().nullable() }))
      .describe('per-region verdicts'),
    lastRound: z.number().int().nullable().describe('the last decided round'),
    lastDecidedAt: z.iso.datetime().nullable(),
    pending: z
      .object({ verdict: z.enum(['UP', 'DOWN']), rounds: z.number().int() })
      .nullable()
      .describe('a different verdict seen in consecutive rounds, not confirmed yet'),
    lastCheck: z
      .object({
        checkedAt: z.iso.datetime(),
        latencyMs: z.number().int().nullable(),
        up: z.boolean(),
      })
      .nullable()
      .describe("the latest check of any validator that reached this node's database"),
    certificate: z
      .object({
        validTo: z.iso.datetime(),
        daysLeft: z.number().int(),
        warning: z.boolean().describe("a tls check's warnDays passed"),
        checkedAt: z.iso.datetime(),
      })
      .nullable()
      .describe("the TLS certificate this node's last check of an https, tls or tcp+tls site saw"),
    lastBeatAt: z.iso
      .datetime()
      .nullable()
      .optional()
      .describe('push sites: the last committed beat (or arm), from this node’s replicated state'),
  })
  .describe('live status, from this node’s replicated state and the latest check');

export const websiteSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  check: checkSpecSchema.nullable().describe('null: stored options this version cannot read'),
  intervalMs: z.number().int(),
  timeoutMs: z.number().int(),
  expectedStatus: z.array(z.number().int()),
  keyword: z.string().nullable(),
  paused: z.boolean(),
  downAfterRounds: z.number().int(),
  upAfterRounds: z.number().int(),
  retries: z.number().int(),
  retryDelayMs: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  status: liveStatusSchema,
  pushToken: z
    .string()
    .optional()
    .describe(
      'push sites, in the answer to their creation only: the beat token for ' +
        '/api/push/{token}. Stored hashed: it is never shown again (rotate it to get a new one)',
    ),
});
export class WebsiteDto extends createZodDto(websiteSchema) {}

export const websitePageSchema = z.object({
  items: z.array(websiteSchema),
  nextCursor: z.string().nullable(),
});
export class WebsitePageDto extends createZodDto(websitePageSchema) {}
