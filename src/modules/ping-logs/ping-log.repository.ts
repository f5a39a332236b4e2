/**
 * ping_logs rows and their hourly/daily rollups. One SQL statement inserts a batch and
 * folds only the rows it actually inserted into the rollups, so the raw table and the
 * rollups move together and a redelivered log changes neither.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKET_COUNT } from './latency-histogram';

export interface PingLogRow {
  websiteId: string;
  validatorId: string;
  region: string;
  round: number;
  up: boolean;
  latencyMs: number;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
  phases: Record<string, number | undefined>;
  /** ISO 8601 */
  checkedAt: string;
}

export interface InsertOutcome {
  /** rows written (and counted into the rollups) */
  inserted: number;
  /** rows whose site does not exist (deleted, or never was) */
  unknownSite: number;
}

const BOUNDS = `ARRAY[${LATENCY_BUCKET_BOUNDS_MS.join(',')}]::int[]`;
const HIST = `ARRAY[${Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, i) => `count(*) FILTER (WHERE b = ${i})`,
).join(', ')}]::int[]`;

/** INSERT ... SELECT ... GROUP BY ... ON CONFLICT for one rollup table and grain. */
function rollupUpsert(table: string, grain: 'hour' | 'day'): string {
  return `
  INSERT INTO ${table} AS t (website_id, region, bucket_start, checks, up_checks,
                             latency_sum_ms, latency_count, latency_max_ms, latency_hist)
  SELECT website_id, region, date_trunc('${grain}', checked_at, 'UTC'),
         count(*), count(*) FILTER (WHERE up), coalesce(sum(lat), 0), count(lat),
         coalesce(max(lat), 0), ${HIST}
  FROM fact
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (website_id, region, bucket_start) DO UPDATE SET
    checks = t.checks + excluded.checks,
    up_checks = t.up_checks + excluded.up_checks,
    latency_sum_ms = t.latency_sum_ms + excluded.latency_sum_ms,
    latency_count = t.latency_count + excluded.latency_count,
    latency_max_ms = greatest(t.latency_max_ms, excluded.latency_max_ms),
    latency_hist = (
      SELECT array_agg(coalesce(u.a, 0) + coalesce(u.b, 0) ORDER BY u.n)
      FROM unnest(t.latency_hist, excluded.latency_hist) WITH ORDINALITY AS u(a, b, n)
    )
  RETURNING 1`;
}

// Rows are sorted before each write so concurrent writers (other nodes) take row locks
// in the same order and cannot deadlock each other.
const INSERT_BATCH_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
    "websiteId" uuid, "validatorId" varchar, region varchar, round bigint, up boolean,
    "latencyMs" int, "httpStatus" int, failure text, error varchar, phases jsonb,
    "checkedAt" timestamptz)
),
-- One primary-key probe per row (LIMIT keeps the planner from turning this into a hash
-- join, which scanned every site once per batch: 32 full scans/s at 5,000 sites).
known AS (
  SELECT i.* FROM input i
  CROSS JOIN LATERAL (SELECT 1 FROM websites w WHERE w.id = i."websiteId" LIMIT 1) AS site
),
ins AS (
  INSERT INTO ping_logs (website_id, validator_id, region, round, up, latency_ms, http_status,
                         failure, error, phases, checked_at)
  SELECT "websiteId", "validatorId", region, round, up, "latencyMs", "httpStatus",
         failure::"FailureClass", error, phases, "checkedAt"
  FROM known
  ORDER BY "websiteId", round, "validatorId"
  ON CONFLICT (website_id, round, validator_id) DO NOTHING
  RETURNING website_id, region, up, latency_ms, checked_at
),
fact AS (
  SELECT ins.website_id, g.region, ins.up, ins.checked_at,
         CASE WHEN ins.up THEN ins.latency_ms END AS lat,
         CASE WHEN ins.up THEN width_bucket(ins.latency_ms, ${BOUNDS}) END AS b
  FROM ins CROSS JOIN LATERAL (VALUES (ins.region), ('*')) AS g(region)
),
hourly AS (${rollupUpsert('ping_rollup_hourly', 'hour')}),
daily AS (${rollupUpsert('ping_rollup_daily', 'day')})
SELECT (SELECT count(*) FROM ins)::int AS inserted,
       ((SELECT count(*) FROM input) - (SELECT count(*) FROM known))::int AS "unknownSite"`;

@Injectable()
export class PingLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts the batch (duplicates ignored) and updates both rollups, atomically. */
  async insertBatch(rows: readonly PingLogRow[]): Promise<InsertOutcome> {
    if (rows.length === 0) return { inserted: 0, unknownSite: 0 };
    const [result] = await this.prisma.$queryRawUnsafe<InsertOutcome[]>(
      INSERT_BATCH_SQL,
      JSON.stringify(rows),
    );
    return result;
  }

  /** Deletes at most `limit` raw rows checked before `cutoff`; returns how many went. */
  async deleteCheckedBefore(cutoff: Date, limit: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM ping_logs WHERE id IN (
        SELECT id FROM ping_logs WHERE checked_at < ${cutoff} ORDER BY checked_at LIMIT ${limit}
      )`;
  }
}
