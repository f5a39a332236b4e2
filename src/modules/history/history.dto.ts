import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const VERDICTS = ['UP', 'DOWN', 'UNKNOWN'] as const;
const FAILURES = ['DNS', 'TIMEOUT', 'CONNECT', 'TLS', 'HTTP_STATUS', 'KEYWORD', 'BLOCKED'] as const;

export const HISTORY_MAX_LIMIT = 500;

const instant = z.iso
  .datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' })
  .max(40);

export const historyQuerySchema = z
  .strictObject({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(HISTORY_MAX_LIMIT)
      .default(50)
      .describe(`page size, 1 to ${HISTORY_MAX_LIMIT}`),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
    from: instant.optional().describe('only checks at or after this instant (inclusive)'),
    to: instant.optional().describe('only checks before this instant (exclusive)'),
    validator: z.string().regex(NODE_ID, 'expected a validator id').optional(),
    region: z.string().regex(NODE_ID, 'expected a region id').optional(),
    up: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true'))
      .describe('true: only successful checks; false: only failed ones'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export class HistoryQueryDto extends createZodDto(historyQuerySchema) {}

export const pingLogSchema = z.object({
  id: z.string().describe('row id (a 64-bit integer as a string)'),
  validatorId: z.string(),
  region: z.string(),
  round: z.number().int(),
  up: z.boolean(),
  latencyMs: z.number().int().nullable(),
  httpStatus: z.number().int().nullable(),
  failure: z.enum(FAILURES).nullable(),
  error: z.string().nullable(),
  phases: z
    .record(z.string(), z.number())
    .nullable()
    .describe('ms per phase: dns, connect, tls, firstByte, total'),
  checkedAt: z.iso.datetime(),
});

export const historyPageSchema = z.object({
  items: z.array(pingLogSchema),
  nextCursor: z.string().nullable().describe('pass as ?cursor= for the next (older) page'),
});
export class HistoryPageDto extends createZodDto(historyPageSchema) {}

const figuresSchema = z.object({
  checks: z.number().int(),
  upChecks: z.number().int(),
  uptimePct: z
    .number()
    .nullable()
    .describe('100 · upChecks / checks, rounded to 3 decimals; null without checks'),
  avgLatencyMs: z
    .number()
    .nullable()
    .describe('mean latency of successful checks, rounded to 0.1 ms'),
  p95LatencyMs: z
    .number()
    .nullable()
    .describe('95th percentile of successful checks, estimated from the rollup histogram'),
  maxLatencyMs: z.number().int().nullable(),
  incidents: z.number().int().describe('incidents overlapping the window'),
  downtimeMs: z.number().int().describe('incident time inside the window'),
});

export const WINDOW_NAMES = ['24h', '7d', '30d', '90d', 'all'] as const;
export type WindowName = (typeof WINDOW_NAMES)[number];

const windowSchema = figuresSchema.extend({
  window: z.enum(WINDOW_NAMES),
  from: z.iso
    .datetime()
    .nullable()
    .describe('first instant counted (an hour boundary); null for "all"'),
  to: z.iso.datetime(),
  regions: z.array(figuresSchema.extend({ region: z.string() })),
});

export const summarySchema = z.object({
  websiteId: z.uuid(),
  generatedAt: z.iso.datetime(),
  status: z.object({
    verdict: z.enum(VERDICTS),
    since: z.iso.datetime().nullable().describe('when the current verdict began, if known'),
    source: z
      .enum(['consensus', 'latest-checks', 'none'])
      .describe(
        'consensus: the committed status; latest-checks: majority of the last round checked; none: no data yet',
      ),
    paused: z.boolean(),
    regions: z.record(z.string(), z.enum(VERDICTS)),
  }),
  windows: z.array(windowSchema),
});
export class SummaryDto extends createZodDto(summarySchema) {}

export type Summary = z.infer<typeof summarySchema>;
export type SummaryWindow = z.infer<typeof windowSchema>;
export type Figures = z.infer<typeof figuresSchema>;
export type PingLogItem = z.infer<typeof pingLogSchema>;
export type Verdict = (typeof VERDICTS)[number];
