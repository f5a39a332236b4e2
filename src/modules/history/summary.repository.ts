/**
 * The one read behind a site summary, in a single statement: the site (for its owner
 * only), its committed status, rollup sums per region for bands of days and for the
 * hourly leading edge of each window, and incident counts and downtime per window. No raw
 * ping_logs row is read. One round trip and one JSON value keep a summary cheap for both
 * the database and the app (each extra query costs the app about half a millisecond).
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { LATENCY_BUCKET_COUNT } from '@/modules/ping-logs/latency-histogram';

/**
 * One window as the SQL sees it: hourly rows with bucket_start in [from, dayFrom), daily
 * rows with bucket_start >= dayFrom; incidents clipped at `from`. Null `from`: no hourly
 * rows, all daily rows, no clipping (the "all" window).
 */
export interface WindowBounds {
  name: string;
  from: Date | null;
  dayFrom: Date | null;
}

/** Rollup sums of one region over one part of the time line. */
export interface RollupPart {
  /**
   * 'day': daily rows of band `part` (band k = days at or after window k's dayFrom and
   * before window k-1's; the last band holds everything older). 'hour': hourly rows of
   * window `part`'s leading edge, [from, dayFrom).
   */
  grain: 'day' | 'hour';
  part: number;
  /** '*' = all regions together */
  region: string;
  checks: number;
  upChecks: number;
  latencySumMs: number;
  latencyCount: number;
  latencyMaxMs: number;
  hist: number[];
}

export interface IncidentTotals {
  name: string;
  /** null = a global (all-regions) incident */
  region: string | null;
  count: number;
  downtimeMs: number;
}

export interface StatusRecord {
  verdict: 'UP' | 'DOWN' | 'UNKNOWN';
  since: Date;
  regionStatus: unknown;
}

export interface SummaryRecord {
  paused: boolean;
  /** null until consensus has projected a status for the site */
  status: StatusRecord | null;
  parts: RollupPart[];
  incidents: IncidentTotals[];
}

/** Positional parameters of a statement built piece by piece. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/** Sums of a group of rollup rows; the histogram summed bucket by bucket (no unnest). */
const SUMS = `sum(checks) AS checks, sum(up_checks) AS "upChecks",
  sum(latency_sum_ms) AS "latencySumMs", sum(latency_count) AS "latencyCount",
  max(latency_max_ms) AS "latencyMaxMs",
  ARRAY[${Array.from(
    { length: LATENCY_BUCKET_COUNT },
    (_, i) => `coalesce(sum(latency_hist[${i + 1}]), 0)`,
  ).join(', ')}] AS hist`;

/**
 * Each daily row is read once and summed into the band of the narrowest window holding
 * it; a window is its bands plus its own hourly edge (combined by the caller). Hourly
 * rows: one index range probe per (window, region) on the (website_id, region,
 * bucket_start) key. The VALUES list has an exact row estimate, so the planner keeps to
 * these probes and the cost stays far below the point where PostgreSQL would JIT-compile.
 */
function partsSql(p: Params, site: string, bounded: { from: Date; dayFrom: Date }[]): string {
  const daily = (part: string) => `
    SELECT 'day' AS grain, ${part} AS part, region, ${SUMS}
    FROM ping_rollup_daily WHERE website_id = ${site}
    GROUP BY 2, 3`;
  if (bounded.length === 0) return `(${daily('0')})`;
  const edges = bounded.map((w) => ({
    from: p.add(w.from, 'timestamptz'),
    dayFrom: p.add(w.dayFrom, 'timestamptz'),
  }));
  const band = edges.map((e, i) => `WHEN bucket_start >= ${e.dayFrom} THEN ${i}`).join(' ');
  return `(
    ${daily(`CASE ${band} ELSE ${edges.length} END`)}
    UNION ALL
    SELECT 'hour', w.i, h.region, ${SUMS}
    FROM (VALUES ${edges.map((e, i) => `(${i}, ${e.from}, ${e.dayFrom})`).join(', ')})
      AS w(i, "from", "dayFrom")
    CROSS JOIN (SELECT DISTINCT region FROM ping_rollup_daily WHERE website_id = ${site}) r
    CROSS JOIN LATERAL (
      SELECT * FROM ping_rollup_hourly h
      WHERE h.website_id = ${site} AND h.region = r.region
        AND h.bucket_start >= w."from" AND h.bucket_start < w."dayFrom"
      OFFSET 0 -- a parameterised index probe, not a join over all the site's rows
    ) h
    GROUP BY 2, 3
  )`;
}

/** Incidents overlapping each window; downtime clipped to [from, now]. */
function incidentsSql(p: Params, site: string, now: string, windows: readonly WindowBounds[]) {
  const rows = windows.map((w) => `(${p.add(w.name, 'text')}, ${p.add(w.from, 'timestamptz')})`);
  return `(
    SELECT w.name, i.region, count(*) AS count,
           coalesce(sum(extract(epoch FROM greatest(interval '0',
             least(coalesce(i.ended_at, ${now}), ${now})
             - greatest(i.started_at, coalesce(w."from", i.started_at))))), 0) * 1000 AS "downtimeMs"
    FROM (VALUES ${rows.join(', ')}) AS w(name, "from")
    JOIN incidents i
      ON i.website_id = ${site}
     AND i.started_at <= ${now}
     AND coalesce(i.ended_at, 'infinity'::timestamptz) > coalesce(w."from", '-infinity'::timestamptz)
    GROUP BY w.name, i.region
  )`;
}

/** Windows with a start come first, narrowest first (they nest); then at most one without. */
function boundedWindows(windows: readonly WindowBounds[]): { from: Date; dayFrom: Date }[] {
  const bounded: { from: Date; dayFrom: Date }[] = [];
  for (const [i, w] of windows.entries()) {
    if (w.from === null || w.dayFrom === null) {
      if (i !== windows.length - 1) throw new Error('only the last window may be unbounded');
      break;
    }
    const prev = bounded[bounded.length - 1];
    if (prev && (w.from > prev.from || w.dayFrom > prev.dayFrom)) {
      throw new Error('summary windows must be ordered from the narrowest to the widest');
    }
    bounded.push({ from: w.from, dayFrom: w.dayFrom });
  }
  return bounded;
}

interface Row {
  paused: boolean;
  status: { verdict: StatusRecord['verdict']; since: string; regionStatus: unknown } | null;
  parts: (Omit<RollupPart, 'hist'> & { hist: number[] })[];
  incidents: IncidentTotals[];
}

@Injectable()
export class SummaryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Null when `ownerId` has no site `websiteId`. Windows: narrowest first (see above). */
  async read(
    websiteId: string,
    ownerId: string,
    windows: readonly WindowBounds[],
    now: Date,
  ): Promise<SummaryRecord | null> {
    const p = new Params();
    const site = p.add(websiteId, 'uuid');
    const owner = p.add(ownerId, 'uuid');
    const at = p.add(now, 'timestamptz');
    const sql = `
      SELECT s.paused,
             (SELECT json_build_object('verdict', st.verdict, 'since', st.since,
                                       'regionStatus', st.region_status)
              FROM site_status st WHERE st.website_id = s.id) AS status,
             (SELECT coalesce(json_agg(x), '[]'::json)
              FROM ${partsSql(p, site, boundedWindows(windows))} x) AS parts,
             (SELECT coalesce(json_agg(x), '[]'::json)
              FROM ${incidentsSql(p, site, at, windows)} x) AS incidents
      FROM websites s
      WHERE s.id = ${site} AND s.owner_id = ${owner}`;
    const [row] = await this.prisma.$queryRawUnsafe<Row[]>(sql, ...p.values);
    if (!row) return null;
    return {
      paused: row.paused,
      status: row.status && { ...row.status, since: new Date(row.status.since) },
      parts: row.parts,
      incidents: row.incidents,
    };
  }
}
