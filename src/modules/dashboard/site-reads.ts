/**
 * Pure mapping from stored rows to what the dashboard, status pages and badges show. No IO:
 * the repository reads, these functions shape, and each shape tolerates the older and the
 * newer form of a column (site_status.region_status, decisions.voters), so the views keep
 * working while other parts of the schema evolve.
 */
import type { CheckOfRound, DayRow, OverviewRow, VerdictValue } from './site-reads.repository';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const SPARK_HOURS = 24;

const VERDICTS = new Set<string>(['UP', 'DOWN', 'UNKNOWN']);

export interface RegionState {
  verdict: VerdictValue;
  since: string | null;
}

export interface SiteState {
  verdict: VerdictValue;
  since: string | null;
  regions: Record<string, RegionState>;
  lastRound: number | null;
  lastCheckedAt: string | null;
  lastLatencyMs: number | null;
}

/** The hour boundary at or before `now - hours`: where a rolling window of hourly rollups starts. */
export function hoursBack(now: number, hours: number): Date {
  return new Date(Math.floor((now - hours * HOUR_MS) / HOUR_MS) * HOUR_MS);
}

/** Midnight (UTC) of the day `days - 1` days before today: the first of `days` daily bars. */
export function daysBack(now: number, days: number): Date {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS);
}

/** region_status holds either `{region: verdict}` or `{region: {verdict, since?}}`. */
export function regionStates(raw: unknown): Record<string, RegionState> {
  const out: Record<string, RegionState> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [region, v] of Object.entries(raw as Record<string, unknown>)) {
    const obj = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
    const verdict = typeof v === 'string' ? v : obj?.verdict;
    if (typeof verdict !== 'string' || !VERDICTS.has(verdict)) continue;
    out[region] = { verdict: verdict as VerdictValue, since: isoOrNull(obj?.since) };
  }
  return out;
}

export function stateOf(r: OverviewRow): SiteState | null {
  if (r.verdict === null && r.lastCheckedAt === null) return null;
  return {
    verdict: r.verdict ?? 'UNKNOWN',
    since: r.since?.toISOString() ?? null,
    regions: regionStates(r.regionStatus),
    lastRound: r.lastRound,
    lastCheckedAt: r.lastCheckedAt?.toISOString() ?? null,
    lastLatencyMs: r.lastLatencyMs,
  };
}

export function uptimePct(checks: number, upChecks: number): number | null {
  return checks > 0 ? Math.round((100_000 * upChecks) / checks) / 1000 : null;
}

/**
 * `hours + 1` slots, one per hour from `from` on (the last is the current, partial hour): the
 * mean latency of that hour, or null. `spark` holds [hours after `from`, mean] pairs.
 */
export function sparkSlots(
  spark: readonly [number, number | null][],
  hours = SPARK_HOURS,
): (number | null)[] {
  const slots: (number | null)[] = new Array<number | null>(hours + 1).fill(null);
  for (const [i, v] of spark) if (i >= 0 && i < slots.length) slots[i] = v;
  return slots;
}

export interface DayBar {
  /** YYYY-MM-DD (UTC) */
  day: string;
  checks: number;
  upChecks: number;
  uptimePct: number | null;
}

/** `count` consecutive days from `from`, empty days included (a gap is shown as "no data"). */
export function dayBars(rows: readonly DayRow[], from: Date, count: number): DayBar[] {
  const byDay = new Map(rows.map((r) => [Math.floor(r.day / DAY_MS), r]));
  const first = Math.floor(from.getTime() / DAY_MS);
  return Array.from({ length: count }, (_, i) => {
    const r = byDay.get(first + i);
    const checks = r?.checks ?? 0;
    const upChecks = r?.upChecks ?? 0;
    return {
      day: new Date((first + i) * DAY_MS).toISOString().slice(0, 10),
      checks,
      upChecks,
      uptimePct: uptimePct(checks, upChecks),
    };
  });
}

/** Uptime over the last `days` bars (whole days, today included). */
export function uptimeOfBars(bars: readonly DayBar[], days: number): number | null {
  const tail = bars.slice(-days);
  const checks = tail.reduce((s, b) => s + b.checks, 0);
  return uptimePct(
    checks,
    tail.reduce((s, b) => s + b.upChecks, 0),
  );
}

export interface VoteDetail {
  validatorId: string;
  region: string | null;
  up: boolean | null;
  latencyMs: number | null;
  httpStatus: number | null;
  failure: string | null;
  error: string | null;
  /** decision: recorded with the verdict; check: the validator's ping log of that round */
  source: 'decision' | 'check' | 'missing';
}

export interface DecisionView {
  logIndex: number;
  term: number;
  round: number;
  verdict: VerdictValue;
  regionVerdicts: Record<string, VerdictValue>;
  tally: { up: number; down: number; total: number; quorum: number | null };
  byRegion: Record<string, { up: number; down: number; total: number }>;
  decidedAt: string;
  votes: VoteDetail[];
}

/**
 * A `decisions` row (as JSON, snake_case) and the checks of its round. Per-voter details
 * are taken from the row when it records them (`voters` or `votes` as objects); otherwise
 * the voter ids are joined with the round's ping logs, which hold the same check results.
 */
export function decisionView(row: Record<string, unknown>, checks: CheckOfRound[]): DecisionView {
  const tally = asRecord(row.tally);
  const byRegionRaw = asRecord(tally.byRegion);
  const byRegion: DecisionView['byRegion'] = {};
  for (const [region, c] of Object.entries(byRegionRaw)) {
    const cc = asRecord(c);
    byRegion[region] = { up: num(cc.up), down: num(cc.down), total: num(cc.total) };
  }
  const regionVerdicts: Record<string, VerdictValue> = {};
  for (const [region, v] of Object.entries(regionStates(row.region_verdicts)))
    regionVerdicts[region] = v.verdict;
  const verdict = String(row.verdict);
  return {
    logIndex: num(row.log_index),
    term: num(row.term),
    round: num(row.round),
    verdict: VERDICTS.has(verdict) ? (verdict as VerdictValue) : 'UNKNOWN',
    regionVerdicts,
    tally: {
      up: num(tally.up),
      down: num(tally.down),
      total: num(tally.total),
      quorum: typeof tally.quorum === 'number' ? tally.quorum : null,
    },
    byRegion,
    decidedAt: isoOrNull(row.decided_at) ?? new Date(0).toISOString(),
    votes: votesOf(row, checks),
  };
}

function votesOf(row: Record<string, unknown>, checks: CheckOfRound[]): VoteDetail[] {
  const byValidator = new Map(checks.map((c) => [c.validatorId, c]));
  const listed = [row.votes, row.voters].find(Array.isArray) as unknown[] | undefined;
  const out: VoteDetail[] = [];
  for (const v of listed ?? []) {
    if (typeof v === 'string') {
      const c = byValidator.get(v);
      out.push(
        c
          ? { ...fromCheck(c), source: 'check' }
          : {
              validatorId: v,
              region: null,
              up: null,
              latencyMs: null,
              httpStatus: null,
              failure: null,
              error: null,
              source: 'missing',
            },
      );
      continue;
    }
    const o = asRecord(v);
    if (typeof o.validatorId !== 'string') continue;
    out.push({
      validatorId: o.validatorId,
      region: typeof o.region === 'string' ? o.region : null,
      up: typeof o.up === 'boolean' ? o.up : null,
      latencyMs: typeof o.latencyMs === 'number' ? o.latencyMs : null,
      httpStatus: typeof o.httpStatus === 'number' ? o.httpStatus : null,
      failure: typeof o.failure === 'string' ? o.failure : null,
      error: byValidator.get(o.validatorId)?.error ?? null,
      source: 'decision',
    });
  }
  return out.sort((a, b) =>
    (a.region ?? '') === (b.region ?? '')
      ? a.validatorId.localeCompare(b.validatorId)
      : (a.region ?? '').localeCompare(b.region ?? ''),
  );
}

function fromCheck(c: CheckOfRound): Omit<VoteDetail, 'source'> {
  return {
    validatorId: c.validatorId,
    region: c.region,
    up: c.up,
    latencyMs: c.latencyMs,
    httpStatus: c.httpStatus,
    failure: c.failure,
    error: c.error,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}

function isoOrNull(v: unknown): string | null {
  if (v instanceof Date) return v.toISOString();
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
