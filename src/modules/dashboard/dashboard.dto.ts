import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const OVERVIEW_MAX_LIMIT = 1000;
/** without stats a row is one index probe: long lists load in a few large pages */
export const BRIEF_MAX_LIMIT = 5000;

const verdict = z.enum(['UP', 'DOWN', 'UNKNOWN']);

export const regionStateSchema = z.object({
  verdict,
  since: z.iso.datetime().nullable(),
});

export const siteStateSchema = z
  .object({
    verdict: verdict.describe('committed verdict; UNKNOWN until consensus decided one'),
    since: z.iso.datetime().nullable(),
    regions: z.record(z.string(), regionStateSchema),
    lastRound: z.number().int().nullable(),
    lastCheckedAt: z.iso.datetime().nullable(),
    lastLatencyMs: z.number().int().nullable(),
  })
  .nullable()
  .describe('null: never checked nor decided');

export const siteOverviewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  paused: z.boolean(),
  intervalMs: z.number().int(),
  createdAt: z.iso.datetime(),
  status: siteStateSchema,
  uptime24h: z.number().nullable().describe('percent of successful checks in the last 24 h'),
  checks24h: z.number().int(),
  spark: z
    .array(z.number().nullable())
    .describe('mean latency (ms) of each hour of the last 24 h, oldest first; null: no check'),
});

export const overviewPageSchema = z.object({
  items: z.array(siteOverviewSchema),
  nextCursor: z.string().nullable(),
  total: z.number().int().nullable().describe("the caller's site count (first page only)"),
  stats: z.boolean().describe('whether last check, uptime and sparkline are filled in'),
});
export class OverviewPageDto extends createZodDto(overviewPageSchema) {}
export class SiteOverviewDto extends createZodDto(siteOverviewSchema) {}

export const OVERVIEW_MAX_IDS = 100;

export const overviewQuerySchema = z
  .strictObject({
    stats: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .default('true')
      .transform((v) => v === 'true')
      .describe(
        'false: name and committed status only (last check, uptime and sparkline left empty): the fast way to load a long list; read the rows in view again with ?ids=',
      ),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(BRIEF_MAX_LIMIT)
      .default(500)
      .describe(`page size: up to ${OVERVIEW_MAX_LIMIT}, or ${BRIEF_MAX_LIMIT} with stats=false`),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
    ids: z
      .string()
      .max(OVERVIEW_MAX_IDS * 37)
      .transform((s) => s.split(',').filter((x) => x !== ''))
      .pipe(
        z
          .array(z.uuid({ error: 'expected comma-separated site ids' }))
          .min(1)
          .max(OVERVIEW_MAX_IDS),
      )
      .optional()
      .describe(
        `only these sites (comma-separated, at most ${OVERVIEW_MAX_IDS}; others' ids are left out), for refreshing rows in view; no paging`,
      ),
  })
  .refine((q) => !q.stats || q.limit <= OVERVIEW_MAX_LIMIT, {
    message: `at most ${OVERVIEW_MAX_LIMIT} with stats`,
    path: ['limit'],
  });
export class OverviewQueryDto extends createZodDto(overviewQuerySchema) {}

export const dayBarSchema = z.object({
  day: z.string().describe('YYYY-MM-DD (UTC)'),
  checks: z.number().int(),
  upChecks: z.number().int(),
  uptimePct: z.number().nullable(),
});

export const daysQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(90),
});
export class DaysQueryDto extends createZodDto(daysQuerySchema) {}

export const daysSchema = z.object({
  siteId: z.uuid(),
  days: z.array(dayBarSchema).describe('oldest first, today last'),
});
export class DaysDto extends createZodDto(daysSchema) {}

export const incidentSchema = z.object({
  id: z.string(),
  region: z.string().nullable().describe('null: a global incident'),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable().describe('null: still open'),
  durationMs: z.number().int().describe('until endedAt, or until now while open'),
  startRound: z.number().int(),
  endRound: z.number().int().nullable(),
});

export const incidentsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export class IncidentsQueryDto extends createZodDto(incidentsQuerySchema) {}

export const incidentsSchema = z.object({ items: z.array(incidentSchema) });
export class IncidentsDto extends createZodDto(incidentsSchema) {}

const voteSchema = z.object({
  validatorId: z.string(),
  region: z.string().nullable(),
  up: z.boolean().nullable(),
  latencyMs: z.number().int().nullable(),
  httpStatus: z.number().int().nullable(),
  failure: z.string().nullable().describe('DNS, TIMEOUT, CONNECT, TLS, HTTP_STATUS, KEYWORD, …'),
  error: z.string().nullable(),
  source: z
    .enum(['decision', 'check', 'missing'])
    .describe(
      'decision: recorded with the verdict; check: from the validator’s ping log of that round; missing: voter known, check not stored',
    ),
});

const count = z.object({ up: z.number().int(), down: z.number().int(), total: z.number().int() });

export const decisionViewSchema = z.object({
  logIndex: z.number().int().describe('the Raft log index that committed the verdict'),
  term: z.number().int(),
  round: z.number().int(),
  verdict,
  regionVerdicts: z.record(z.string(), verdict),
  tally: count.extend({ quorum: z.number().int().nullable() }),
  byRegion: z.record(z.string(), count),
  decidedAt: z.iso.datetime(),
  votes: z.array(voteSchema).describe('one per validator counted, by region'),
});

export const decisionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export class DecisionsQueryDto extends createZodDto(decisionsQuerySchema) {}

export const decisionsPageSchema = z.object({
  items: z.array(decisionViewSchema),
  nextCursor: z.string().nullable(),
});
export class DecisionsPageDto extends createZodDto(decisionsPageSchema) {}

export type SiteOverview = z.infer<typeof siteOverviewSchema>;
export type Incident = z.infer<typeof incidentSchema>;
