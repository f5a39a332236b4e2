/**
 * notification_channels, site_notification_routes and site_notification_settings. Every query
 * takes the owner and filters by it: one user never sees or routes to another's channel.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertKind } from '@/modules/alerts/alert-events';
import type { ChannelConfig, ChannelSecrets, ChannelType } from './channel-config';

export interface ChannelRecord {
  id: string;
  ownerId: string;
  name: string;
  type: ChannelType;
  config: ChannelConfig;
  secrets: ChannelSecrets;
  defaultKinds: AlertKind[];
  enabled: boolean;
  state: 'OK' | 'FAILING';
  failingSince: Date | null;
  lastFailureAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ChannelWrite {
  name: string;
  type: ChannelType;
  config: ChannelConfig;
  secrets: ChannelSecrets;
  defaultKinds: AlertKind[];
  enabled: boolean;
}

const asRecord = (r: unknown) => r as ChannelRecord;

@Injectable()
export class ChannelRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(ownerId: string, input: ChannelWrite): Promise<ChannelRecord> {
    return asRecord(
      await this.prisma.notificationChannel.create({
        data: {
          ...input,
          ownerId,
          config: input.config as Prisma.InputJsonObject,
          secrets: input.secrets as Prisma.InputJsonObject,
        },
      }),
    );
  }

  countOwned(ownerId: string): Promise<number> {
    return this.prisma.notificationChannel.count({ where: { ownerId } });
  }

  async findOwned(id: string, ownerId: string): Promise<ChannelRecord | null> {
    return asRecord(await this.prisma.notificationChannel.findFirst({ where: { id, ownerId } }));
  }

  async listOwned(ownerId: string): Promise<ChannelRecord[]> {
    const rows = await this.prisma.notificationChannel.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(asRecord);
  }

  async updateOwned(
    id: string,
    ownerId: string,
    patch: Partial<Omit<ChannelWrite, 'type'>>,
  ): Promise<ChannelRecord | null> {
    const { config: _c, secrets: _s, ...rest } = patch;
    const data: Prisma.NotificationChannelUpdateManyMutationInput = {
      ...rest,
      ...(patch.config ? { config: patch.config as Prisma.InputJsonObject } : {}),
      ...(patch.secrets ? { secrets: patch.secrets as Prisma.InputJsonObject } : {}),
      // New settings deserve a fresh start: the old failure streak was about the old ones.
      ...(patch.config || patch.secrets ? { state: 'OK' as const, failingSince: null } : {}),
    };
    const r = await this.prisma.notificationChannel.updateMany({ where: { id, ownerId }, data });
    return r.count === 1 ? this.findOwned(id, ownerId) : null;
  }

  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    return (
      (await this.prisma.notificationChannel.deleteMany({ where: { id, ownerId } })).count === 1
    );
  }

  /** A test notification went through: the channel works again. */
  async markWorking(id: string, at: Date): Promise<void> {
    await this.prisma.notificationChannel.updateMany({
      where: { id },
      data: { state: 'OK', failingSince: null, lastSuccessAt: at },
    });
  }

  async siteOwned(siteId: string, ownerId: string): Promise<boolean> {
    return (await this.prisma.website.count({ where: { id: siteId, ownerId } })) === 1;
  }

  async routesOf(siteId: string): Promise<{ channelId: string; kinds: AlertKind[] }[]> {
    return this.prisma.siteNotificationRoute.findMany({
      where: { websiteId: siteId },
      select: { channelId: true, kinds: true },
      orderBy: { channelId: 'asc' },
    });
  }

  async reminderOf(siteId: string): Promise<number | null> {
    const s = await this.prisma.siteNotificationSettings.findUnique({
      where: { websiteId: siteId },
    });
    return s?.reminderEveryMinutes ?? null;
  }

  /** Replaces the site's routes and/or its reminder interval in one transaction. */
  async saveSiteSettings(
    siteId: string,
    change: {
      reminderEveryMinutes?: number | null;
      routes?: { channelId: string; kinds: AlertKind[] }[];
    },
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (change.reminderEveryMinutes !== undefined) {
        await tx.siteNotificationSettings.upsert({
          where: { websiteId: siteId },
          create: { websiteId: siteId, reminderEveryMinutes: change.reminderEveryMinutes },
          update: { reminderEveryMinutes: change.reminderEveryMinutes },
        });
      }
      if (change.routes) {
        await tx.siteNotificationRoute.deleteMany({ where: { websiteId: siteId } });
        if (change.routes.length > 0) {
          await tx.siteNotificationRoute.createMany({
            data: change.routes.map((r) => ({
              websiteId: siteId,
              channelId: r.channelId,
              kinds: r.kinds,
            })),
          });
        }
      }
    });
  }
}
