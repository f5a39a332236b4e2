/**
 * Views of one owner's sites for the dashboard, status pages and badges. Every method takes
 * the owner whose sites it may read; a site of anyone else is "not found".
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import type { Incident, SiteOverview } from './dashboard.dto';
import {
  dayBars,
  DayBar,
  daysBack,
  DecisionView,
  decisionView,
  hoursBack,
  SPARK_HOURS,
  sparkSlots,
  stateOf,
  uptimePct,
} from './site-reads';
import { IncidentRow, OverviewRow, SiteReadsRepository } from './site-reads.repository';

export interface OverviewPage {
  items: SiteOverview[];
  nextCursor: string | null;
  total: number | null;
}

@Injectable()
export class SiteReadsService {
  constructor(private readonly reads: SiteReadsRepository) {}

  /** Cursors are the websites API's: base64url of "createdAt ISO|id". */
  async overviewPage(
    ownerId: string,
    limit: number,
    cursor: string | undefined,
    stats = true,
    now = Date.now(),
  ): Promise<OverviewPage> {
    const after = cursor === undefined ? undefined : decodeSiteCursor(cursor);
    const from = hoursBack(now, SPARK_HOURS);
    const [rows, total] = await Promise.all([
      this.reads.overview(ownerId, { limit: limit + 1, after, from, stats }),
      after ? Promise.resolve(null) : this.reads.countOwned(ownerId),
    ]);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map((r) => overviewOf(r, stats)),
      nextCursor: rows.length > limit && last ? encodeSiteCursor(last) : null,
      total,
    };
  }

  /** The owner's sites among `ids`, in the order of `ids` (unknown ids are left out). */
  async overviewOf(ownerId: string, ids: readonly string[], stats = true, now = Date.now()) {
    if (ids.length === 0) return [];
    const from = hoursBack(now, SPARK_HOURS);
    const rows = await this.reads.overview(ownerId, { limit: ids.length, ids, from, stats });
    const byId = new Map(rows.map((r) => [r.id, overviewOf(r, stats)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async site(ownerId: string, id: string, now = Date.now()): Promise<SiteOverview> {
    const [site] = await this.overviewOf(ownerId, [id], true, now);
    if (!site) throw notFound();
    return site;
  }

  async days(ownerId: string, id: string, days: number, now = Date.now()): Promise<DayBar[]> {
    await this.site(ownerId, id, now);
    return (await this.daysOf(ownerId, [id], days, now)).get(id) ?? [];
  }

  /** `days` daily bars for each of the owner's `ids`. */
  async daysOf(
    ownerId: string,
    ids: readonly string[],
    days: number,
    now = Date.now(),
  ): Promise<Map<string, DayBar[]>> {
    const from = daysBack(now, days);
    const rows = await this.reads.days(ownerId, ids, from);
    return new Map(
      ids.map((id) => [
        id,
        dayBars(
          rows.filter((r) => r.siteId === id),
          from,
          days,
        ),
      ]),
    );
  }

  async incidents(ownerId: string, id: string, limit: number, now = Date.now()) {
    await this.site(ownerId, id, now);
    return (await this.reads.incidents(ownerId, [id], null, limit)).map((i) => incidentOf(i, now));
  }

  /** Open incidents and those that ended after `since`, newest first, per site. */
  async incidentsOf(
    ownerId: string,
    ids: readonly string[],
    since: Date,
    perSite: number,
    now = Date.now(),
  ): Promise<Map<string, Incident[]>> {
    const rows = await this.reads.incidents(ownerId, ids, since, perSite);
    const out = new Map<string, Incident[]>(ids.map((id) => [id, []]));
    for (const r of rows) out.get(r.siteId)?.push(incidentOf(r, now));
    return out;
  }

  async decisions(
    ownerId: string,
    id: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: DecisionView[]; nextCursor: string | null }> {
    await this.site(ownerId, id);
    const before = cursor === undefined ? undefined : decodeDecisionCursor(cursor);
    const rows = await this.reads.decisions(ownerId, id, limit + 1, before);
    const items = rows.slice(0, limit).map((r) => decisionView(r.row, r.checks));
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? Buffer.from(`${last.decidedAt}|${last.logIndex}`).toString('base64url')
          : null,
    };
  }
}

/** Without stats the sparkline is empty (not 24 nulls): long lists stay small. */
function overviewOf(r: OverviewRow, stats: boolean): SiteOverview {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    paused: r.paused,
    intervalMs: r.intervalMs,
    createdAt: r.createdAt.toISOString(),
    status: stateOf(r),
    uptime24h: uptimePct(r.checks, r.upChecks),
    checks24h: r.checks,
    // the slot of `from` lies partly before the last 24 h: the sparkline shows the 24 after it
    spark: stats ? sparkSlots(r.spark).slice(1) : [],
  };
}

function incidentOf(i: IncidentRow, now: number): Incident {
  const end = i.endedAt?.getTime() ?? now;
  return {
    id: i.id,
    region: i.region,
    startedAt: i.startedAt.toISOString(),
    endedAt: i.endedAt?.toISOString() ?? null,
    durationMs: Math.max(0, end - i.startedAt.getTime()),
    startRound: i.startRound,
    endRound: i.endRound,
  };
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'website not found');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function badCursor(): DomainError {
  return new DomainError('VALIDATION_FAILED', 'request validation failed', [
    { path: 'cursor', message: 'invalid cursor' },
  ]);
}

function encodeSiteCursor(r: OverviewRow): string {
  return Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeSiteCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) throw badCursor();
  return { createdAt, id };
}

function decodeDecisionCursor(cursor: string): { decidedAt: Date; logIndex: number } {
  const [iso, index] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const decidedAt = new Date(iso ?? '');
  const logIndex = Number(index);
  if (Number.isNaN(decidedAt.getTime()) || !Number.isSafeInteger(logIndex) || logIndex < 0)
    throw badCursor();
  return { decidedAt, logIndex };
}
