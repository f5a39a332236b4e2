/**
 * The delivery log as the API reads it: notification deliveries of the owner's channels, newest
 * first, keyset-paginated on (created_at, id), with the last attempts of each. Errors were
 * scrubbed of secrets when written.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertKind } from '@/modules/alerts/alert-events';
import type { ChannelType } from './channel-config';

export interface DeliveryLogFilter {
  siteId?: string;
  alertId?: string;
  channelId?: string;
  status?: 'PENDING' | 'SENT' | 'FAILED' | 'CANCELLED';
}

export interface DeliveryLogRow {
  id: string;
  alert_id: string;
  website_id: string;
  kind: AlertKind;
  round: bigint;
  seq: number;
  channel_id: string;
  channel_name: string;
  channel_type: ChannelType;
  channel_state: 'OK' | 'FAILING';
  status: 'PENDING' | 'SENT' | 'FAILED' | 'CANCELLED';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  sent_at: Date | null;
  attempt_log: unknown;
}

@Injectable()
export class DeliveryLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  page(
    ownerId: string,
    f: DeliveryLogFilter,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<DeliveryLogRow[]> {
    const cond = [Prisma.sql`c.owner_id = ${ownerId}::uuid`];
    if (f.siteId) cond.push(Prisma.sql`d.website_id = ${f.siteId}::uuid`);
    if (f.alertId) cond.push(Prisma.sql`d.alert_id = ${f.alertId}::uuid`);
    if (f.channelId) cond.push(Prisma.sql`d.channel_id = ${f.channelId}::uuid`);
    if (f.status) cond.push(Prisma.sql`d.status = ${f.status}::"NotifyDeliveryStatus"`);
    if (after) {
      cond.push(
        Prisma.sql`(d.created_at, d.id) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)`,
      );
    }
    return this.prisma.$queryRaw<DeliveryLogRow[]>`
      SELECT d.id, d.alert_id, d.website_id, d.kind::text AS kind, d.round, d.seq, d.channel_id,
             c.name AS channel_name, c.type::text AS channel_type, c.state::text AS channel_state,
             d.status::text AS status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at,
             d.created_at, d.sent_at, d.attempt_log
        FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
       WHERE ${Prisma.join(cond, ' AND ')}
       ORDER BY d.created_at DESC, d.id DESC
       LIMIT ${limit}`;
  }
}
