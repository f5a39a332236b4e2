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
    return (await this.getMany([siteId])).get(siteId) ?? null;
  }

  /** Every id's info (null when gone); cache misses are read in one query. */
  async getMany(siteIds: readonly string[]): Promise<Map<string, SiteInfo | null>> {
    const now = Date.now();
    const out = new Map<string, SiteInfo | null>();
    const missing: string[] = [];
    for (const id of new Set(siteIds)) {
      const hit = this.cache.get(id);
      if (hit && now - hit.at < TTL_MS) out.set(id, hit.info);
      else if (!isUuid(id)) out.set(id, null);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    // One primary-key probe per id: with `id IN (…)` PostgreSQL scans every site instead
    // (it prices the scan of a few thousand rows below fifty probes, and is wrong).
    const rows = await this.prisma.$queryRaw<{ id: string; ownerId: string; url: string }[]>`
      SELECT w.id::text AS id, w.owner_id AS "ownerId", w.url
        FROM unnest(${missing}::uuid[]) AS u(id)
        CROSS JOIN LATERAL (SELECT id, owner_id, url FROM websites WHERE id = u.id LIMIT 1) AS w`;
    const found = new Map(rows.map((r) => [r.id, { ownerId: r.ownerId, url: r.url }]));
    if (this.cache.size + missing.length > MAX_ENTRIES) this.cache.clear();
    for (const id of missing) {
      const info = found.get(id) ?? null;
      this.cache.set(id, { at: now, info });
      out.set(id, info);
    }
    return out;
  }
}
