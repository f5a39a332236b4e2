/**
 * alert_deliveries: one row per alert and channel, the record that makes delivery happen once.
 * A PENDING row is claimed by a conditional update that leases it (no one else may claim it until
 * the lease ends); SENT is final, and so is FAILED. Per site and channel, rows are claimed in
 * round order. For a PENDING row `updated_at` is the lease
 * end or the earliest next attempt, always on the database's clock, so instances that disagree
 * about the time still agree about who holds a row.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { Prisma } from '@/generated/prisma/client';

export type DeliveryChannel = 'EMAIL' | 'WEBSOCKET';

export interface DeliveryClaim {
  id: string;
  alertId: string;
  channel: DeliveryChannel;
  /** attempts including this one; fences release() against a later holder */
  attempt: number;
  /** database time the lease ends */
  leaseUntil: Date;
}

export type ClaimResult =
  { state: 'claimed'; claim: DeliveryClaim } | { state: 'sent' | 'failed' | 'busy' | 'missing' };

export interface DueDelivery {
  id: string;
  alertId: string;
  channel: DeliveryChannel;
}

/** A NOTIFY sent in the transaction that marks a delivery SENT. */
export interface Notification {
  channel: string;
  payload: string;
}

/**
 * Per site and channel, alerts go out in round order: a delivery waits while one for an earlier
 * round of the same site is still PENDING (so DOWN never arrives after the RECOVERED that ended
 * it, even across retries). `d` is the delivery, `a` its alert.
 */
const noEarlierPending = Prisma.sql`NOT EXISTS (
  SELECT 1 FROM alert_deliveries e JOIN alerts ea ON ea.id = e.alert_id
   WHERE ea.website_id = a.website_id AND e.channel = d.channel
     AND e.status = 'PENDING' AND ea.round < a.round)`;

const ms = (n: number) => Prisma.sql`(${Math.round(n)} * interval '1 millisecond')`;

@Injectable()
export class AlertDeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the PENDING rows that do not exist yet, claimable at once. */
  async ensure(alertId: string, channels: readonly DeliveryChannel[]): Promise<void> {
    if (channels.length === 0) return;
    const rows = channels.map(
      (c) =>
        Prisma.sql`(gen_random_uuid(), ${alertId}::uuid, ${c}::"DeliveryChannel", 'PENDING', 0, now(), now())`,
    );
    await this.prisma.$executeRaw`
      INSERT INTO alert_deliveries (id, alert_id, channel, status, attempts, created_at, updated_at)
      VALUES ${Prisma.join(rows)}
      ON CONFLICT (alert_id, channel) DO NOTHING`;
  }

  /**
   * Takes the lease of a PENDING row whose time has come and that no earlier alert of its site
   * waits before; otherwise says why not ("busy": leased, backing off, or waiting its turn).
   */
  async claim(alertId: string, channel: DeliveryChannel, leaseMs: number): Promise<ClaimResult> {
    const rows = await this.prisma.$queryRaw<{ id: string; attempts: number; lease_until: Date }[]>`
      UPDATE alert_deliveries d
         SET attempts = d.attempts + 1, updated_at = now() + ${ms(leaseMs)}
        FROM alerts a
       WHERE a.id = d.alert_id AND d.alert_id = ${alertId}::uuid
         AND d.channel = ${channel}::"DeliveryChannel"
         AND d.status = 'PENDING' AND d.updated_at <= now() AND ${noEarlierPending}
      RETURNING d.id, d.attempts, d.updated_at AS lease_until`;
    if (rows.length === 1) {
      const r = rows[0];
      return {
        state: 'claimed',
        claim: { id: r.id, alertId, channel, attempt: r.attempts, leaseUntil: r.lease_until },
      };
    }
    const current = await this.prisma.alertDelivery.findUnique({
      where: { alertId_channel: { alertId, channel } },
      select: { status: true },
    });
    switch (current?.status) {
      case undefined:
        return { state: 'missing' };
      case 'SENT':
        return { state: 'sent' };
      case 'FAILED':
        return { state: 'failed' };
      case 'PENDING':
        return { state: 'busy' };
    }
  }

  /**
   * Final: the channel delivered. Runs `notify` in the same transaction, so listeners hear of it
   * exactly when the record commits. False if the row was no longer PENDING.
   */
  async markSent(
    claim: DeliveryClaim,
    messageId: string | null,
    notify?: Notification,
  ): Promise<boolean> {
    const mark = (tx: Prisma.TransactionClient) => tx.$executeRaw`
      UPDATE alert_deliveries
         SET status = 'SENT', message_id = ${messageId}, sent_at = now(), updated_at = now(),
             last_error = NULL
       WHERE id = ${claim.id}::uuid AND status = 'PENDING'`;
    if (!notify) return (await mark(this.prisma)) === 1;
    return this.prisma.$transaction(async (tx) => {
      const updated = await mark(tx);
      if (updated === 1)
        await tx.$executeRaw`SELECT pg_notify(${notify.channel}, ${notify.payload})`;
      return updated === 1;
    });
  }

  /**
   * Gives the row back after a failed attempt: claimable again after `retryInMs`, never earlier
   * than the lease it held when the outcome is unknown (`keepLease`). Ignored if a later attempt
   * holds it.
   */
  async release(
    claim: DeliveryClaim,
    error: string,
    retryInMs: number,
    keepLease = false,
  ): Promise<void> {
    const next = keepLease
      ? Prisma.sql`GREATEST(now() + ${ms(retryInMs)}, ${claim.leaseUntil}::timestamptz)`
      : Prisma.sql`now() + ${ms(retryInMs)}`;
    await this.prisma.$executeRaw`
      UPDATE alert_deliveries
         SET updated_at = ${next}, last_error = ${error.slice(0, 1024)}
       WHERE id = ${claim.id}::uuid AND status = 'PENDING' AND attempts = ${claim.attempt}`;
  }

  /** Final: the channel cannot deliver this alert (refused for good). */
  async markFailed(claim: DeliveryClaim, error: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE alert_deliveries
         SET status = 'FAILED', updated_at = now(), last_error = ${error.slice(0, 1024)}
       WHERE id = ${claim.id}::uuid AND status = 'PENDING'`;
  }

  /** PENDING rows whose next attempt is due, oldest alert first. */
  findDue(limit: number): Promise<DueDelivery[]> {
    return this.prisma.$queryRaw<DueDelivery[]>`
      SELECT d.id, d.alert_id AS "alertId", d.channel::text AS channel
        FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
       WHERE d.status = 'PENDING' AND d.updated_at <= now() AND ${noEarlierPending}
       ORDER BY d.created_at, d.id
       LIMIT ${limit}`;
  }

  /** Gives up on PENDING rows older than their channel's age limit; returns how many. */
  expireOlderThan(channel: DeliveryChannel, maxAgeMs: number): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE alert_deliveries
         SET status = 'FAILED', updated_at = now(),
             last_error = LEFT('gave up after ' || ${Math.round(maxAgeMs / 1000)} || ' s: ' || COALESCE(last_error, 'no attempt succeeded'), 1024)
       WHERE status = 'PENDING' AND channel = ${channel}::"DeliveryChannel"
         AND created_at < now() - ${ms(maxAgeMs)}`;
  }
}
