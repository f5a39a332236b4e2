/**
 * SVG badges of sites that are on a public status page (anyone may fetch them); any other
 * site is "not found", whoever asks. Whether a site is public is asked on every request (one
 * indexed lookup), so removing it from its pages takes effect at once; the rendered badge is
 * cached for BADGE_CACHE_MS, since badges are embedded in READMEs and fetched often.
 */
import { Injectable } from '@nestjs/common';
import { makeBadge } from 'badge-maker';
import { LRUCache } from 'lru-cache';
import { DomainError } from '@/common/domain-error';
import { uptimeOfBars } from '@/modules/dashboard/site-reads';
import { SiteReadsService } from '@/modules/dashboard/site-reads.service';
import { StatusPageRepository } from '@/modules/status-pages/status-page.repository';
import { BadgeFace, statusFace, uptimeFace, UptimeWindow } from './badge-text';

export const BADGE_CACHE_MS = 10_000;
/** what clients and proxies may cache */
export const BADGE_MAX_AGE_S = 30;

const WINDOW_DAYS: Record<Exclude<UptimeWindow, '24h'>, number> = { '7d': 7, '30d': 30, '90d': 90 };

@Injectable()
export class BadgesService {
  private readonly cache = new LRUCache<string, Promise<string>>({
    max: 10_000,
    ttl: BADGE_CACHE_MS,
  });

  constructor(
    private readonly pages: StatusPageRepository,
    private readonly reads: SiteReadsService,
  ) {}

  async status(siteId: string): Promise<string> {
    const owner = await this.ownerOf(siteId);
    return this.cached(`status:${siteId}`, async () => {
      const site = await this.reads.site(owner, siteId);
      return statusFace({
        paused: site.paused,
        verdict: site.status?.verdict ?? null,
        regions: site.status?.regions ?? {},
      });
    });
  }

  async uptime(siteId: string, window: UptimeWindow): Promise<string> {
    const owner = await this.ownerOf(siteId);
    return this.cached(`uptime:${window}:${siteId}`, async () => {
      if (window === '24h') {
        const site = await this.reads.site(owner, siteId);
        return uptimeFace(window, site.uptime24h);
      }
      const days = WINDOW_DAYS[window];
      const bars = (await this.reads.daysOf(owner, [siteId], days)).get(siteId) ?? [];
      return uptimeFace(window, uptimeOfBars(bars, days));
    });
  }

  private cached(key: string, face: () => Promise<BadgeFace>): Promise<string> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const svg = face().then((f) => makeBadge({ ...f, style: 'flat' }));
    this.cache.set(key, svg);
    svg.catch(() => this.cache.delete(key));
    return svg;
  }

  private async ownerOf(siteId: string): Promise<string> {
    const owner = await this.pages.publicOwnerOf(siteId);
    if (!owner) throw new DomainError('NOT_FOUND', 'no public site with this id');
    return owner;
  }
}
