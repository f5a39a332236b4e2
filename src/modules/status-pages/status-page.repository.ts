/**
 * Status pages and their sites. A page lists only sites of its own owner: writes check it
 * (ownedSiteIds), and every read of a page's sites joins on the page owner again, so a
 * row that somehow named another owner's site would still show nothing.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';

export interface StatusPageRecord {
  id: string;
  ownerId: string;
  slug: string;
  title: string;
  description: string | null;
  showUrls: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** in display order; only sites of ownerId */
  siteIds: string[];
}

export interface StatusPageInput {
  slug: string;
  title: string;
  description: string | null;
  showUrls: boolean;
}

const withSites = {
  sites: {
    orderBy: { position: 'asc' },
    select: { websiteId: true, website: { select: { ownerId: true } } },
  },
} as const;

type Loaded = Prisma.StatusPageGetPayload<{ include: typeof withSites }>;

function toRecord(p: Loaded): StatusPageRecord {
  const { sites, ...page } = p;
  return {
    ...page,
    siteIds: sites.filter((s) => s.website.ownerId === p.ownerId).map((s) => s.websiteId),
  };
}

@Injectable()
export class StatusPageRepository {
  constructor(private readonly prisma: PrismaService) {}

  countByOwner(ownerId: string): Promise<number> {
    return this.prisma.statusPage.count({ where: { ownerId } });
  }

  async listByOwner(ownerId: string): Promise<StatusPageRecord[]> {
    const rows = await this.prisma.statusPage.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      include: withSites,
    });
    return rows.map(toRecord);
  }

  async findOwned(id: string, ownerId: string): Promise<StatusPageRecord | null> {
    const row = await this.prisma.statusPage.findFirst({
      where: { id, ownerId },
      include: withSites,
    });
    return row && toRecord(row);
  }

  async findBySlug(slug: string): Promise<StatusPageRecord | null> {
    const row = await this.prisma.statusPage.findUnique({ where: { slug }, include: withSites });
    return row && toRecord(row);
  }

  /** Which of `ids` are sites of `ownerId`. */
  async ownedSiteIds(ownerId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.prisma.website.findMany({
      where: { ownerId, id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  async create(
    ownerId: string,
    input: StatusPageInput,
    siteIds: readonly string[],
  ): Promise<StatusPageRecord> {
    const row = await writeErrors(() =>
      this.prisma.statusPage.create({
        data: {
          ...input,
          ownerId,
          sites: { create: siteIds.map((websiteId, position) => ({ websiteId, position })) },
        },
        include: withSites,
      }),
    );
    return toRecord(row);
  }

  /** Null when the owner has no such page. `siteIds`, when given, replaces the list. */
  async update(
    id: string,
    ownerId: string,
    patch: Partial<StatusPageInput>,
    siteIds: readonly string[] | undefined,
  ): Promise<StatusPageRecord | null> {
    return writeErrors(() =>
      this.prisma.$transaction(async (tx) => {
        const { count } = await tx.statusPage.updateMany({ where: { id, ownerId }, data: patch });
        if (count === 0) return null;
        if (siteIds) {
          await tx.statusPageSite.deleteMany({ where: { pageId: id } });
          await tx.statusPageSite.createMany({
            data: siteIds.map((websiteId, position) => ({ pageId: id, websiteId, position })),
          });
        }
        const row = await tx.statusPage.findFirst({ where: { id, ownerId }, include: withSites });
        return row && toRecord(row);
      }),
    );
  }

  async deleteOwned(id: string, ownerId: string): Promise<StatusPageRecord | null> {
    const page = await this.findOwned(id, ownerId);
    if (!page) return null;
    const { count } = await this.prisma.statusPage.deleteMany({ where: { id, ownerId } });
    return count > 0 ? page : null;
  }

  /** The owner of `siteId` when that site is on one of its owner's status pages, else null. */
  async publicOwnerOf(siteId: string): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ ownerId: string }[]>`
      SELECT w.owner_id AS "ownerId" FROM websites w
      WHERE w.id = ${siteId}::uuid AND EXISTS (
        SELECT 1 FROM status_page_sites s JOIN status_pages p ON p.id = s.page_id
        WHERE s.website_id = w.id AND p.owner_id = w.owner_id)`;
    return rows[0]?.ownerId ?? null;
  }
}

/** Unique slug → CONFLICT; a site deleted meanwhile → VALIDATION_FAILED. */
async function writeErrors<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError) {
      if (e.code === 'P2002')
        throw new DomainError('CONFLICT', 'this slug is taken', [
          { path: 'slug', message: 'already used by another status page' },
        ]);
      if (e.code === 'P2003')
        throw new DomainError('VALIDATION_FAILED', 'request validation failed', [
          { path: 'siteIds', message: 'a site was deleted meanwhile' },
        ]);
    }
    throw e;
  }
}
