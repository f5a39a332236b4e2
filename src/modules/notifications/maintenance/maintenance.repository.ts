/**
 * maintenance_windows, always filtered by owner for the API; forSite() is what the alert
 * service asks when an alert arrives or a hold may end.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import type { WindowSpec } from './maintenance-schedule';

export interface MaintenanceWindowRecord extends WindowSpec {
  ownerId: string;
  websiteId: string | null;
  statusPageId: string | null;
  title: string;
  createdAt: Date;
  updatedAt: Date;
}

export type MaintenanceWindowInput = Omit<
  MaintenanceWindowRecord,
  'id' | 'ownerId' | 'createdAt' | 'updatedAt'
>;

@Injectable()
export class MaintenanceRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(ownerId: string, input: MaintenanceWindowInput): Promise<MaintenanceWindowRecord> {
    return this.prisma.maintenanceWindow.create({ data: { ...input, ownerId } });
  }

  findOwned(id: string, ownerId: string): Promise<MaintenanceWindowRecord | null> {
    return this.prisma.maintenanceWindow.findFirst({ where: { id, ownerId } });
  }

  listOwned(
    ownerId: string,
    filter: { siteId?: string; statusPageId?: string },
    limit: number,
  ): Promise<MaintenanceWindowRecord[]> {
    return this.prisma.maintenanceWindow.findMany({
      where: {
        ownerId,
        ...(filter.siteId ? { websiteId: filter.siteId } : {}),
        ...(filter.statusPageId ? { statusPageId: filter.statusPageId } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  async statusPageOwned(pageId: string, ownerId: string): Promise<boolean> {
    return (await this.prisma.statusPage.count({ where: { id: pageId, ownerId } })) === 1;
  }

  /**
   * What a public status page announces: the owner's windows linked to the page or to one of
   * its sites (at most `limit`, so a page costs one bounded query).
   */
  shownOn(
    ownerId: string,
    pageId: string,
    siteIds: readonly string[],
    limit: number,
  ): Promise<MaintenanceWindowRecord[]> {
    return this.prisma.maintenanceWindow.findMany({
      where: {
        ownerId,
        OR: [{ statusPageId: pageId }, { websiteId: { in: [...siteIds] } }],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  countOwned(ownerId: string): Promise<number> {
    return this.prisma.maintenanceWindow.count({ where: { ownerId } });
  }

  async updateOwned(
    id: string,
    ownerId: string,
    input: MaintenanceWindowInput,
  ): Promise<MaintenanceWindowRecord | null> {
    const r = await this.prisma.maintenanceWindow.updateMany({
      where: { id, ownerId },
      data: input,
    });
    return r.count === 1 ? this.findOwned(id, ownerId) : null;
  }

  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const r = await this.prisma.maintenanceWindow.deleteMany({ where: { id, ownerId } });
    return r.count === 1;
  }

  /** Windows that cover a site (status-page windows join in once status pages exist). */
  forSite(siteId: string): Promise<WindowSpec[]> {
    return this.prisma.maintenanceWindow.findMany({
      where: { websiteId: siteId },
      select: {
        id: true,
        startsAt: true,
        endsAt: true,
        cron: true,
        durationMinutes: true,
        timeZone: true,
        activeFrom: true,
        activeUntil: true,
      },
    });
  }
}
