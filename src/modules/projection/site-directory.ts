/**
 * Owner and URL of a site, for the rooms a committed decision is broadcast to and
 * for the URL that alerts carry. Cached briefly; a missing site is cached as null.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';

export interface SiteInfo {
  readonly ownerId: string;
  readonly url: string;
}

const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

@Injectable()
export class SiteDirectory {
  private readonly cache = new Map<string, { at: number; info: SiteInfo | null }>();

  constructor(private readonly prisma: PrismaService) {}

  async get(siteId: string): Promise<SiteInfo | null> {
    const hit = this.cache.get(siteId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.info;
    if (!isUuid(siteId)) return null;
    const row = await this.prisma.website.findUnique({
      where: { id: siteId },
      select: { ownerId: true, url: true },
    });
    const info = row ? { ownerId: row.ownerId, url: row.url } : null;
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(siteId, { at: Date.now(), info });
    return info;
  }
}
