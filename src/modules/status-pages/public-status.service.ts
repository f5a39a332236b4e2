/**
 * The public, read-only view of a status page. It reads through SiteReadsService with the
 * page owner's id, so it can only ever show that owner's sites, and it copies only public
 * fields (no URL unless the owner opted in, no owner, no check details). Views are cached per
 * slug for PUBLIC_VIEW_CACHE_MS: anyone may ask, and one view costs a few queries.
 */
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DomainError } from '@/common/domain-error';
import { DAY_MS, uptimeOfBars } from '@/modules/dashboard/site-reads';
import { SiteReadsService } from '@/modules/dashboard/site-reads.service';
import { occurrencesBetween } from '@/modules/notifications/maintenance/maintenance-schedule';
import {
  MaintenanceRepository,
  MaintenanceWindowRecord,
} from '@/modules/notifications/maintenance/maintenance.repository';
import { PublicMaintenance, PublicSite, PublicStatusPage, SLUG_PATTERN } from './status-page.dto';
import { StatusPageRepository } from './status-page.repository';

export const PUBLIC_VIEW_CACHE_MS = 5_000;
const BAR_DAYS = 90;
const INCIDENTS_PER_SITE = 10;
/** maintenance announced: in progress or starting within this long */
const MAINTENANCE_AHEAD_MS = 7 * DAY_MS;
const MAINTENANCE_WINDOWS_READ = 50;
const MAINTENANCE_SHOWN = 10;

@Injectable()
export class PublicStatusService {
  private readonly cache = new LRUCache<string, Promise<PublicStatusPage>>({
    max: 1_000,
    ttl: PUBLIC_VIEW_CACHE_MS,
  });

  constructor(
    private readonly pages: StatusPageRepository,
    private readonly reads: SiteReadsService,
    private readonly maintenance: MaintenanceRepository,
  ) {}

  view(slug: string): Promise<PublicStatusPage> {
    if (!SLUG_PATTERN.test(slug)) return Promise.reject(notFound());
    const hit = this.cache.get(slug);
    if (hit) return hit;
    const computed = this.compute(slug);
    this.cache.set(slug, computed);
    computed.catch(() => this.cache.delete(slug));
    return computed;
  }

  /** The owner changed or deleted the page: the next view is fresh. */
  forget(slug: string): void {
    this.cache.delete(slug);
  }

  private async compute(slug: string, now = Date.now()): Promise<PublicStatusPage> {
    const page = await this.pages.findBySlug(slug);
    if (!page) throw notFound();
    const ids = page.siteIds;
    const [sites, days, incidents, windows] = await Promise.all([
      this.reads.overviewOf(page.ownerId, ids, true, now),
      this.reads.daysOf(page.ownerId, ids, BAR_DAYS, now),
      this.reads.incidentsOf(
        page.ownerId,
        ids,
        new Date(now - BAR_DAYS * DAY_MS),
        INCIDENTS_PER_SITE,
        now,
      ),
      this.maintenance.shownOn(page.ownerId, page.id, ids, MAINTENANCE_WINDOWS_READ),
    ]);
    const maintenance = announced(windows, new Set(ids), page.id, now);
    const out: PublicSite[] = sites.map((s) => {
      const bars = days.get(s.id) ?? [];
      return {
        id: s.id,
        name: s.name,
        ...(page.showUrls ? { url: s.url } : {}),
        paused: s.paused,
        status: s.status && {
          verdict: s.status.verdict,
          since: s.status.since,
          regions: s.status.regions,
        },
        uptime: {
          '24h': s.uptime24h,
          '7d': uptimeOfBars(bars, 7),
          '30d': uptimeOfBars(bars, 30),
          '90d': uptimeOfBars(bars, 90),
        },
        days: bars,
        incidents: incidents.get(s.id) ?? [],
      };
    });
    return {
      slug: page.slug,
      title: page.title,
      description: page.description,
      state: overallState(out, maintenance),
      generatedAt: new Date(now).toISOString(),
      sites: out,
      maintenance,
    };
  }
}

/**
 * The windows' occurrences in progress at `now` or starting within MAINTENANCE_AHEAD_MS,
 * in progress first, then by start; a window linked to the page covers the page as a whole.
 */
export function announced(
  windows: readonly MaintenanceWindowRecord[],
  pageSites: ReadonlySet<string>,
  pageId: string,
  now: number,
): PublicMaintenance[] {
  const out: (PublicMaintenance & { at: number })[] = [];
  for (const w of windows) {
    const siteIds =
      w.statusPageId === pageId || !w.websiteId || !pageSites.has(w.websiteId) ? [] : [w.websiteId];
    for (const o of occurrencesBetween(w, now, now + MAINTENANCE_AHEAD_MS, MAINTENANCE_SHOWN)) {
      const activeNow = o.start <= now && now < o.end;
      out.push({
        title: w.title,
        start: new Date(o.start).toISOString(),
        end: new Date(o.end).toISOString(),
        activeNow,
        siteIds,
        at: activeNow ? -Infinity : o.start,
      });
    }
  }
  out.sort((a, b) => a.at - b.at || a.start.localeCompare(b.start));
  return out.slice(0, MAINTENANCE_SHOWN).map(({ at: _at, ...m }) => m);
}

/** Whether site `id` is covered by a maintenance window in progress. */
function inMaintenance(id: string, maintenance: readonly PublicMaintenance[]): boolean {
  return maintenance.some((m) => m.activeNow && (m.siteIds.length === 0 || m.siteIds.includes(id)));
}

/**
 * outage: a monitored site is DOWN outside maintenance; maintenance: every DOWN site is in a
 * window in progress; degraded: a region of a site is DOWN; operational: all UP.
 */
export function overallState(
  sites: readonly PublicSite[],
  maintenance: readonly PublicMaintenance[] = [],
): PublicStatusPage['state'] {
  const live = sites.filter((s) => !s.paused);
  const down = live.filter((s) => s.status?.verdict === 'DOWN');
  if (down.some((s) => !inMaintenance(s.id, maintenance))) return 'outage';
  if (down.length > 0) return 'maintenance';
  if (live.some((s) => Object.values(s.status?.regions ?? {}).some((r) => r.verdict === 'DOWN')))
    return 'degraded';
  if (live.length > 0 && live.every((s) => s.status?.verdict === 'UP')) return 'operational';
  return 'unknown';
}

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'status page not found');
}
