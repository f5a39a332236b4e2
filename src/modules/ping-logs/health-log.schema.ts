/**
 * What the ping-log writer accepts from the health-logs topic: HealthLogV1, checked
 * field by field against the ping_logs columns, so a payload that passes can always be
 * stored (a bad one is dropped and counted, it never blocks the partition).
 */
import { z } from 'zod';
import type { HealthLogV1 } from '@/modules/ping/health-log.sink';

const FAILURES = ['DNS', 'TIMEOUT', 'CONNECT', 'TLS', 'HTTP_STATUS', 'KEYWORD', 'BLOCKED'] as const;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const INT4_MAX = 2_147_483_647;

// PostgreSQL text cannot hold NUL; everything else is kept.
const withoutNul = (s: string) => s.replaceAll('\u0000', '');

const phaseMs = z.number().finite().min(0).max(INT4_MAX);

export const healthLogSchema = z.object({
  v: z.literal(1),
  siteId: z.uuid(),
  round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  validatorId: z.string().regex(NODE_ID),
  region: z.string().regex(NODE_ID),
  up: z.boolean(),
  latencyMs: z.number().int().min(0).max(INT4_MAX),
  httpStatus: z.number().int().min(0).max(999).nullable(),
  failure: z.enum(FAILURES).nullable(),
  error: z
    .string()
    .nullable()
    .transform((s) => (s === null ? null : withoutNul(s).slice(0, 1024))),
  phases: z.object({
    dns: phaseMs.optional(),
    connect: phaseMs.optional(),
    tls: phaseMs.optional(),
    firstByte: phaseMs.optional(),
    total: phaseMs,
  }),
  checkedAt: z.iso.datetime({ offset: true }),
});

export type ValidHealthLog = z.infer<typeof healthLogSchema>;

/** Compile-time check: the schema keeps accepting what the sink produces. */
export function sinkPayloadFitsSchema(log: HealthLogV1): z.input<typeof healthLogSchema> {
  return log;
}
