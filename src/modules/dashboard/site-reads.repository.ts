/**
 * The read side behind the dashboard, public status pages and badges: one statement per
 * view, each scoped to one owner (`w.owner_id = $owner` in every query), so a caller can
 * only ever read sites of the owner it names. Public views name the owner of the page,
 * never a caller-chosen one.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';

export type VerdictValue = 'UP' | 'DOWN' | 'UNKNOWN';

export interface OverviewRow {
  id: string;
  name: string;
  url: string;
  paused: boolean;
  intervalMs: number;
  createdAt: Date;
  verdict: VerdictValue | null;
  since: Date | null;
  regionStatus: unknown;
  lastRound: number | null;
  lastCheckedAt: Date | null;
  lastLatencyMs: number | null;
  lastUp: boolean | null;
  /** checks and successful checks of the hourly rollups since `from` (all regions) */
  checks: number;
  upChecks: number;
  /** [hours after `from`, mean latency ms | null] of each hourly rollup since `from` */
  spark: [number, number | null][];
}

export interface DayRow {
  siteId: string;
  /** epoch ms of the day's start (UTC) */
  day: number;
  checks: number;
  upChecks: number;
}

export interface IncidentRow {
  id: string;
  siteId: string;
  region: string | null;
  startedAt: Date;
  endedAt: Date | null;
  startRound: number;
  endRound: number | null;
}

export interface CheckOfRound {
  validatorId: string;
  region: string;
  up: boolean;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
  checkedAt: string;
}

export interface DecisionRow {
  /** the whole `decisions` row as JSON (snake_case keys), so added columns reach the mapper */
  row: Record<string, unknown>;
  /** the ping logs of the same (site, round): the checks the votes came from */
  checks: CheckOfRound[];
}

export interface OverviewQuery {
  limit: number;
  after?: { createdAt: Date; id: string };
  ids?: readonly string[];
  /** start of the hourly window for uptime and sparkline */
  from: Date;
  /** false: name and committed status only (no last check, uptime or sparkline) */
  stats?: boolean;
}

/** Positional parameters of a statement built piece by piece. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

interface RawOverview extends Omit<OverviewRow, 'checks' | 'upChecks' | 'spark'> {
  checks: number | null;
  upChecks: number | null;
  /** epoch seconds of each hourly bucket */
  starts: number[] | null;
  means: (number | null)[] | null;
}

@Injectable()
export class SiteReadsRepository {
  constructor(private readonly prisma: PrismaService) {}

  countOwned(ownerId: string): Promise<number> {
    return this.prisma.website.count({ where: { ownerId } });
  }

  /**
   * A page of the owner's sites, newest first (keyset on created_at, id), each with its
   * committed status, its latest check (one index probe) and its hourly rollups since
   * `from` (primary-key range probe). `ids` narrows to those sites, still the owner's only.
   */
  async overview(ownerId: string, q: OverviewQuery): Promise<OverviewRow[]> {
    const p = new Params();
    const owner = p.add(ownerId, 'uuid');
    const where = [`w.owner_id = ${owner}`];
    if (q.after) {
      const at = p.add(q.after.createdAt, 'timestamptz');
      const id = p.add(q.after.id, 'uuid');
      where.push(`(w.created_at < ${at} OR (w.created_at = ${at} AND w.id < ${id}))`);
    }
    if (q.ids) where.push(`w.id = ANY(${p.add(q.ids, 'uuid[]')})`);
    if (q.stats === false) return this.brief(p, where, q.limit);
    const from = p.add(q.from, 'timestamptz');
    // The page is chosen first (owner index, keyset, limit), so the per-site lookups run for
    // the rows returned only. The hourly rollups come as plain arrays, slotted by hour in the
    // caller: building JSON or numerics per row in SQL cost ~0.1 ms a site.
    const sql = `
      WITH page AS MATERIALIZED (
        SELECT w.id, w.name, w.url, w.paused, w.interval_ms, w.created_at
        FROM websites w
        WHERE ${where.join(' AND ')}
        ORDER BY w.created_at DESC, w.id DESC
        LIMIT ${p.add(q.limit, 'int')}
      )
      SELECT w.id, w.name, w.url, w.paused, w.interval_ms AS "intervalMs", w.created_at AS "createdAt",
             st.verdict::text AS verdict, st.since, st.region_status AS "regionStatus",
             st.last_round::float8 AS "lastRound",
             lc.checked_at AS "lastCheckedAt", lc.latency_ms AS "lastLatencyMs", lc.up AS "lastUp",
             hr.checks, hr.up_checks AS "upChecks", hr.starts, hr.means
      FROM page w
      LEFT JOIN site_status st ON st.website_id = w.id
      LEFT JOIN LATERAL (
        SELECT pl.checked_at, pl.latency_ms, pl.up FROM ping_logs pl
        WHERE pl.website_id = w.id ORDER BY pl.checked_at DESC, pl.id DESC LIMIT 1
      ) lc ON true
      LEFT JOIN LATERAL (
        SELECT sum(h.checks)::int AS checks, sum(h.up_checks)::int AS up_checks,
               array_agg(date_part('epoch', h.bucket_start)::int) AS starts,
               array_agg((h.latency_sum_ms / nullif(h.latency_count, 0))::int) AS means
        FROM ping_rollup_hourly h
        WHERE h.website_id = w.id AND h.region = '*' AND h.bucket_start >= ${from}
      ) hr ON true
      ORDER BY w.created_at DESC, w.id DESC`;
    const rows = await this.prisma.$queryRawUnsafe<RawOverview[]>(sql, ...p.values);
    const fromS = q.from.getTime() / 1000;
    return rows.map(({ starts, means, ...r }) => ({
      ...r,
      checks: r.checks ?? 0,
      upChecks: r.upChecks ?? 0,
      spark: (starts ?? []).map(
        (t, i) => [Math.round((t - fromS) / 3600), means?.[i] ?? null] as [number, number | null],
      ),
    }));
  }

  /** The overview without the per-site lookups: what a long list needs to show and filter. */
  private async brief(p: Params, where: string[], limit: number): Promise<OverviewRow[]> {
    const rows = await this.prisma.$queryRawUnsafe<
      Omit<
        OverviewRow,
        'spark' | 'checks' | 'upChecks' | 'lastCheckedAt' | 'lastLatencyMs' | 'lastUp'
      >[]
    >(
      `SELECT w.id, w.name, w.url, w.paused, w.interval_ms AS "intervalMs", w.created_at AS "createdAt",
              st.verdict::text AS verdict, st.since, st.region_status AS "regionStatus",
              st.last_round::float8 AS "lastRound"
       FROM websites w
       LEFT JOIN site_status st ON st.website_id = w.id
       WHERE ${where.join(' AND ')}
       ORDER BY w.created_at DESC, w.id DESC
       LIMIT ${p.add(limit, 'int')}`,
      ...p.values,
    );
    return rows.map((r) => ({
      ...r,
      lastCheckedAt: null,
      lastLatencyMs: null,
      lastUp: null,
      checks: 0,
      upChecks: 0,
      spark: [],
    }));
  }

  /** Daily rollups (all regions) of the owner's `ids` from `from` on. */
  async days(ownerId: string, ids: readonly string[], from: Date): Promise<DayRow[]> {
    if (ids.length === 0) return [];
    return this.prisma.$queryRawUnsafe<DayRow[]>(
      `SELECT d.website_id AS "siteId", (extract(epoch FROM d.bucket_start) * 1000)::float8 AS day,
              d.checks, d.up_checks AS "upChecks"
       FROM websites w
       JOIN ping_rollup_daily d ON d.website_id = w.id AND d.region = '*' AND d.bucket_start >= $3
       WHERE w.owner_id = $1::uuid AND w.id = ANY($2::uuid[])
       ORDER BY d.website_id, d.bucket_start`,
      ownerId,
      ids,
      from,
    );
  }

  /** The newest `perSite` incidents of each of the owner's `ids` still open or ended after `since`. */
  async incidents(
    ownerId: string,
    ids: readonly string[],
    since: Date | null,
    perSite: number,
  ): Promise<IncidentRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRawUnsafe<
      (Omit<IncidentRow, 'id'> & { id: bigint | string })[]
    >(
      `SELECT i.id::text AS id, w.id AS "siteId", i.region, i.started_at AS "startedAt",
              i.ended_at AS "endedAt", i.start_round::float8 AS "startRound",
              i.end_round::float8 AS "endRound"
       FROM websites w
       CROSS JOIN LATERAL (
         SELECT * FROM incidents i
         WHERE i.website_id = w.id AND ($3::timestamptz IS NULL OR i.ended_at IS NULL OR i.ended_at >= $3)
         ORDER BY i.started_at DESC LIMIT $4::int
       ) i
       WHERE w.owner_id = $1::uuid AND w.id = ANY($2::uuid[])
       ORDER BY i.started_at DESC`,
      ownerId,
      ids,
      since,
      perSite,
    );
    return rows.map((r) => ({ ...r, id: String(r.id) }));
  }

  /**
   * The owner's site's decisions, newest first on the (website_id, decided_at) index (ties
   * by log index), each with the ping logs of its round (the (website_id, round,
   * validator_id) key serves that lookup).
   */
  async decisions(
    ownerId: string,
    siteId: string,
    limit: number,
    before?: { decidedAt: Date; logIndex: number },
  ): Promise<DecisionRow[]> {
    return this.prisma.$queryRawUnsafe<DecisionRow[]>(
      `SELECT to_jsonb(d) AS row,
              (SELECT coalesce(json_agg(json_build_object(
                        'validatorId', pl.validator_id, 'region', pl.region, 'up', pl.up,
                        'latencyMs', pl.latency_ms, 'httpStatus', pl.http_status,
                        'failure', pl.failure, 'error', pl.error, 'checkedAt', pl.checked_at)
                      ORDER BY pl.region, pl.validator_id), '[]'::json)
               FROM ping_logs pl WHERE pl.website_id = d.website_id AND pl.round = d.round) AS checks
       FROM websites w
       JOIN decisions d ON d.website_id = w.id
       WHERE w.id = $1::uuid AND w.owner_id = $2::uuid
         AND ($3::timestamptz IS NULL OR d.decided_at < $3
              OR (d.decided_at = $3 AND d.log_index < $4::bigint))
       ORDER BY d.decided_at DESC, d.log_index DESC
       LIMIT $5::int`,
      siteId,
      ownerId,
      before?.decidedAt ?? null,
      before?.logIndex ?? 0,
      limit,
    );
  }
}
