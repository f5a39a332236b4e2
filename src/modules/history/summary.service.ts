/**
 * A site's summary, computed from the hourly and daily rollups only. Window edges: a
 * window of length W ending now starts at the hour boundary at or before now − W; whole
 * hourly buckets are counted (never prorated), so it covers W to W + 1 h of checks. The
 * hours before the first midnight come from hourly rows, every day after from daily rows
 * (today's daily row is as current as the last written check).
 */
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DomainError } from '@/common/domain-error';
import { addHistograms, estimateQuantile } from '@/modules/ping-logs/latency-histogram';
import { Figures, Summary, SummaryWindow, Verdict, WINDOW_NAMES, WindowName } from './history.dto';
import { PingHistoryRepository } from './ping-history.repository';
import {
  IncidentTotals,
  RollupPart,
  StatusRecord,
  SummaryRepository,
  WindowBounds,
} from './summary.repository';

/** Rollup sums of one region over one window. */
export interface RollupTotals {
  checks: number;
  upChecks: number;
  latencySumMs: number;
  latencyCount: number;
  latencyMaxMs: number;
  hist: number[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const WINDOW_LENGTH: Record<WindowName, number | null> = {
  '24h': DAY,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
  '90d': 90 * DAY,
  all: null,
};

const ALL_REGIONS = '*';

/** The bounds of every window at `now` (see the file comment). */
export function windowBounds(now: number): (WindowBounds & { name: WindowName })[] {
  return WINDOW_NAMES.map((name) => {
    const length = WINDOW_LENGTH[name];
    if (length === null) return { name, from: null, dayFrom: null };
    const from = Math.floor((now - length) / HOUR) * HOUR;
    const dayFrom = Math.ceil(from / DAY) * DAY;
    return { name, from: new Date(from), dayFrom: new Date(dayFrom) };
  });
}

/**
 * Summaries are served from a short per-(owner, site) cache: rollups change once per
 * writer batch and round, while dashboards poll; one computation costs ~7 ms of CPU
 * (app + PostgreSQL), so a burst of polls would otherwise saturate the node. The
 * entry holds the promise, so concurrent misses share one computation; real-time
 * status changes reach clients through the WebSocket events, not this endpoint.
 */
export const SUMMARY_CACHE_MS = 5_000;

@Injectable()
export class SummaryService {
  private readonly cache = new LRUCache<string, Promise<Summary>>({
    max: 10_000,
    ttl: SUMMARY_CACHE_MS,
  });

  constructor(
    private readonly rollups: SummaryRepository,
    private readonly history: PingHistoryRepository,
  ) {}

  /** At most SUMMARY_CACHE_MS old; the owner check is part of the key and of the query. */
  cachedSummary(ownerId: string, websiteId: string): Promise<Summary> {
    const key = `${ownerId}:${websiteId}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const computed = this.summary(ownerId, websiteId);
    this.cache.set(key, computed);
    // A failure (404, database down) is not remembered.
    computed.catch(() => this.cache.delete(key));
    return computed;
  }

  async summary(ownerId: string, websiteId: string, now: number = Date.now()): Promise<Summary> {
    const bounds = windowBounds(now);
    const read = await this.rollups.read(websiteId, ownerId, bounds, new Date(now));
    if (!read) throw new DomainError('NOT_FOUND', 'website not found');
    const status = await this.currentStatus(websiteId, read.status);
    return {
      websiteId,
      generatedAt: new Date(now).toISOString(),
      status: { ...status, paused: read.paused },
      windows: bounds.map((b, i) => windowOf(b, now, totalsOf(read.parts, i), read.incidents)),
    };
  }

  /** The committed status if consensus has projected one, else the last round's majority. */
  private async currentStatus(
    websiteId: string,
    committed: StatusRecord | null,
  ): Promise<Omit<Summary['status'], 'paused'>> {
    if (committed) {
      return {
        verdict: committed.verdict,
        since: committed.since.toISOString(),
        source: 'consensus',
        regions: regionVerdicts(committed.regionStatus),
      };
    }
    const votes = await this.history.lastRound(websiteId);
    if (votes.length === 0) return { verdict: 'UNKNOWN', since: null, source: 'none', regions: {} };
    const up = votes.filter((v) => v.up).length;
    const down = votes.length - up;
    const verdict: Verdict =
      up * 2 > votes.length ? 'UP' : down * 2 > votes.length ? 'DOWN' : 'UNKNOWN';
    return { verdict, since: null, source: 'latest-checks', regions: {} };
  }
}

/**
 * Totals per region of window `index`: the bands of days 0..index (window k's days are
 * the bands of every narrower window plus its own) and the window's own hourly edge.
 */
export function totalsOf(parts: readonly RollupPart[], index: number): Map<string, RollupTotals> {
  const out = new Map<string, RollupTotals>();
  for (const p of parts) {
    const inWindow = p.grain === 'day' ? p.part <= index : p.part === index;
    if (!inWindow) continue;
    const t = out.get(p.region);
    out.set(
      p.region,
      t
        ? {
            checks: t.checks + p.checks,
            upChecks: t.upChecks + p.upChecks,
            latencySumMs: t.latencySumMs + p.latencySumMs,
            latencyCount: t.latencyCount + p.latencyCount,
            latencyMaxMs: Math.max(t.latencyMaxMs, p.latencyMaxMs),
            hist: addHistograms(t.hist, p.hist),
          }
        : { ...p, hist: [...p.hist] },
    );
  }
  return out;
}

function windowOf(
  b: WindowBounds & { name: WindowName },
  now: number,
  totals: Map<string, RollupTotals>,
  incidents: readonly IncidentTotals[],
): SummaryWindow {
  const myIncidents = incidents.filter((i) => i.name === b.name);
  const regions = new Set<string>([
    ...[...totals.keys()].filter((r) => r !== ALL_REGIONS),
    ...myIncidents.flatMap((i) => (i.region === null ? [] : [i.region])),
  ]);
  return {
    window: b.name,
    from: b.from?.toISOString() ?? null,
    to: new Date(now).toISOString(),
    ...figuresOf(
      totals.get(ALL_REGIONS),
      myIncidents.find((i) => i.region === null),
    ),
    regions: [...regions].sort().map((region) => ({
      region,
      ...figuresOf(
        totals.get(region),
        myIncidents.find((i) => i.region === region),
      ),
    })),
  };
}

export function figuresOf(t: RollupTotals | undefined, i: IncidentTotals | undefined): Figures {
  const checks = t?.checks ?? 0;
  const latencyCount = t?.latencyCount ?? 0;
  const p95 = t && latencyCount > 0 ? estimateQuantile(t.hist, 0.95, t.latencyMaxMs) : null;
  return {
    checks,
    upChecks: t?.upChecks ?? 0,
    uptimePct: t && checks > 0 ? round((100 * t.upChecks) / checks, 3) : null,
    avgLatencyMs: t && latencyCount > 0 ? round(t.latencySumMs / latencyCount, 1) : null,
    p95LatencyMs: p95 === null ? null : round(p95, 1),
    maxLatencyMs: t && latencyCount > 0 ? t.latencyMaxMs : null,
    incidents: i?.count ?? 0,
    downtimeMs: Math.round(i?.downtimeMs ?? 0),
  };
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

const VERDICT_SET = new Set<string>(['UP', 'DOWN', 'UNKNOWN']);

/** Region verdicts out of site_status.region_status, whichever of two shapes it holds. */
function regionVerdicts(raw: unknown): Record<string, Verdict> {
  const out: Record<string, Verdict> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [region, v] of Object.entries(raw as Record<string, unknown>)) {
    const verdict = typeof v === 'string' ? v : (v as { verdict?: unknown } | null)?.verdict;
    if (typeof verdict === 'string' && VERDICT_SET.has(verdict)) out[region] = verdict as Verdict;
  }
  return out;
}
