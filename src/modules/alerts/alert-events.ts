/**
 * The versioned payloads of the health-alerts and validator-status topics, in one place: the
 * publishers build them here and every consumer validates them here, so the two cannot drift.
 * v1 only grows by optional fields; anything else is a v2 on the same topic.
 */
import { z } from 'zod';
import type { RaftRole } from '@/modules/raft/cluster-status';

export const ALERT_KINDS = ['DOWN', 'RECOVERED', 'REGION_DOWN', 'REGION_RECOVERED'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Kinds that concern one region; they carry `region` and go to the owner's WebSocket room. */
export function isRegionKind(kind: AlertKind): kind is 'REGION_DOWN' | 'REGION_RECOVERED' {
  return kind === 'REGION_DOWN' || kind === 'REGION_RECOVERED';
}

const count = z.number().int().min(0);
const votes = z.object({ up: count, down: count, total: count });

/** The votes behind a verdict: all regions, and per region when known. */
export const alertTallySchema = votes.extend({
  /** votes a verdict needed (ceil(QUORUM_THRESHOLD * total)) */
  quorum: count.optional(),
  byRegion: z.record(z.string().max(64), votes).optional(),
});
export type AlertTally = z.infer<typeof alertTallySchema>;

const regionName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a region id');

export const healthAlertV1Schema = z
  .object({
    v: z.literal(1),
    /** the alerts row id; the e-mail's Message-ID is derived from it */
    alertId: z.uuid(),
    /** siteId:round:kind:region; at most one alert per key, ever */
    dedupKey: z.string().min(1).max(200),
    siteId: z.uuid(),
    /** the site's URL when the verdict was reached */
    url: z.string().min(1).max(2048),
    kind: z.enum(ALERT_KINDS),
    /** the region for REGION_* kinds, null for global ones */
    region: regionName.nullable(),
    round: z.number().int().min(0),
    /** Raft log index of the decision that raised it */
    decisionLogIndex: z.number().int().min(0),
    tally: alertTallySchema,
    /** ISO 8601: when the verdict was reached */
    at: z.iso.datetime({ offset: true }),
  })
  .refine((a) => isRegionKind(a.kind) === (a.region !== null), {
    message: 'region is required for REGION_* kinds and must be null otherwise',
    path: ['region'],
  })
  .refine((a) => a.dedupKey === alertDedupKey(a), {
    message: 'dedupKey must be siteId:round:kind:region',
    path: ['dedupKey'],
  });
export type HealthAlertV1 = z.infer<typeof healthAlertV1Schema>;

/** The one key an alert is deduplicated by, across publishers, replays and redeliveries. */
export function alertDedupKey(a: {
  siteId: string;
  round: number;
  kind: AlertKind;
  region: string | null;
}): string {
  return `${a.siteId}:${a.round}:${a.kind}:${a.region ?? '*'}`;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validates a health-alerts message; the error names every bad field. */
export function parseHealthAlert(value: unknown): ParseResult<HealthAlertV1> {
  const r = healthAlertV1Schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: describeIssues(r.error) };
}

export const validatorStatusV1Schema = z.object({
  v: z.literal(1),
  validatorId: z.string().min(1).max(64),
  region: regionName,
  raftRole: z.enum(['leader', 'follower', 'candidate', 'pre-candidate']),
  term: count,
  leaderId: z.string().max(64).nullable(),
  commitIndex: count,
  /** highest check round this validator has run; null before its first check */
  lastRound: count.nullable(),
  /** how late its checks start against their round (schedule lag); null when unknown */
  lagMs: z.number().min(0).nullable(),
  /** ISO 8601 */
  at: z.iso.datetime({ offset: true }),
});
export type ValidatorStatusV1 = z.infer<typeof validatorStatusV1Schema> & { raftRole: RaftRole };

export function parseValidatorStatus(value: unknown): ParseResult<ValidatorStatusV1> {
  const r = validatorStatusV1Schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: describeIssues(r.error) };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
    .join('; ');
}
