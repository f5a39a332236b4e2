/**
 * The scheduler's site list, read from PostgreSQL: every site of every owner that is
 * not paused. Deleted and paused sites drop out at the next read.
 */
import { Injectable } from '@nestjs/common';
import { SiteSource, SiteSpec } from '@/modules/ping/site-source';
import { SiteChanges } from './site-changes';
import { WebsiteRecord, WebsiteRepository } from './website.repository';

@Injectable()
export class WebsiteSiteSource extends SiteSource {
  constructor(
    private readonly sites: WebsiteRepository,
    private readonly changes: SiteChanges,
  ) {
    super();
  }

  override async listActive(): Promise<SiteSpec[]> {
    return (await this.sites.listActive()).map(toSiteSpec);
  }

  override onChange(listener: () => void): () => void {
    return this.changes.subscribe(listener);
  }
}

export function toSiteSpec(w: WebsiteRecord): SiteSpec {
  return {
    id: w.id,
    url: w.url,
    intervalMs: w.intervalMs,
    timeoutMs: Math.min(w.timeoutMs, w.intervalMs),
    expectedStatus: w.expectedStatus,
    keyword: w.keyword,
  };
}
