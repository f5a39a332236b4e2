/**
 * notification_deliveries: one row per alert, channel and sequence number (0 the alert, n its
 * n-th reminder), the record that makes each notification go out once, with the guarantees of
 * alert_deliveries: a PENDING row is claimed by a conditional update that leases it; SENT,
 * FAILED and CANCELLED are final; per site and channel rows go out in (round, seq) order, so a
 * RECOVERED never overtakes its DOWN on one channel, while other channels and sites have their
 * own queues. Times come from the caller's clock (NotifyClock). Each attempt updates the
 * channel's health: a success clears its failure streak; a streak older than the failing limit
 * marks it FAILING.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertKind } from '@/modules/alerts/alert-events';
import type { ChannelType } from '../channel-config';

export interface NotifyClaim {
  id: string;
  alertId: string;
  channelId: string;
  seq: number;
  attempt: number;
  leaseUntil: Date;
  incidentKey: string;
  channel: {
    id: string;
    name: string;
    type: ChannelType;
    config: Record<string, unknown>;
    secrets: Record<string, unknown>;
    state: 'OK' | 'FAILING';
    enabled: boolean;
  };
  alertPayload: unknown;
  site: { id: string; name: string; url: string };
}

export type NotifyClaimResult =
  | { state: 'claimed'; claim: NotifyClaim }
  | { state: 'sent' | 'failed' | 'cancelled' | 'busy' | 'missing' };

export interface PendingNotify {
  id: string;
  channelId: string;
  /** the channel had no failure streak when the row was read: worth waiting for inline */
  healthy: boolean;
}

export interface AttemptRecord {
  statusCode: number | null;
  error: string | null;
  ms: number;
}

const ts = (ms: number) => Prisma.sql`${new Date(ms).toISOString()}::timestamptz`;
const interval = (ms: number) => Prisma.sql`(${Math.round(ms)} * interval '1 millisecond')`;

/** d may go now: nothing earlier of its site is still pending on its channel. */
const noEarlierPending = Prisma.sql`NOT EXISTS (
  SELECT 1 FROM notification_deliveries e
   WHERE e.website_id = d.website_id AND e.channel_id = d.channel_id
     AND e.status = 'PENDING' AND (e.round, e.seq) < (d.round, d.seq))`;

/** Channels of the site's owner routed for `kind`: the site's route, else the default set. */
const routedChannels = (siteId: string, kind: AlertKind, extra = Prisma.empty) => Prisma.sql`
  SELECT c.id FROM notification_channels c
    JOIN websites w ON w.id = ${siteId}::uuid AND w.owner_id = c.owner_id
    LEFT JOIN site_notification_routes r ON r.channel_id = c.id AND r.website_id = w.id
   WHERE c.enabled AND ${kind}::"AlertKind" = ANY(COALESCE(r.kinds, c.default_kinds)) ${extra}`;

function logEntry(now: number, a: AttemptRecord) {
  return Prisma.sql`jsonb_path_query_array(jsonb_build_array(jsonb_build_object(
      'at', ${new Date(now).toISOString()}::text, 'statusCode', ${a.statusCode}::int,
      'error', ${a.error}::text, 'ms', ${a.ms}::int)) || attempt_log, '$[0 to 9]')`;
}

@Injectable()
export class NotifyDeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the alert's rows (seq 0) for every routed channel; returns all its seq-0 rows still pending. */
  async ensureForAlert(
    a: { alertId: string; siteId: string; kind: AlertKind; round: number; incidentKey: string },
    now: number,
  ): Promise<PendingNotify[]> {
    // One round trip: the rows inserted now, plus those an earlier delivery of this alert left pending.
    return this.prisma.$queryRaw<PendingNotify[]>`
      WITH ins AS (
        INSERT INTO notification_deliveries
          (id, alert_id, channel_id, website_id, seq, kind, round, incident_key, status, attempts,
           next_attempt_at, created_at, updated_at)
        SELECT gen_random_uuid(), ${a.alertId}::uuid, rc.id, ${a.siteId}::uuid, 0, ${a.kind}::"AlertKind",
               ${a.round}::bigint, ${a.incidentKey}, 'PENDING', 0, ${ts(now)}, ${ts(now)}, ${ts(now)}
          FROM (${routedChannels(a.siteId, a.kind)}) rc
        ON CONFLICT (alert_id, channel_id, seq) DO NOTHING
        RETURNING id, channel_id
      ), rows AS (
        SELECT id, channel_id FROM ins
        UNION ALL
        SELECT d.id, d.channel_id FROM notification_deliveries d
         WHERE d.alert_id = ${a.alertId}::uuid AND d.seq = 0 AND d.status = 'PENDING'
      )
      SELECT DISTINCT r.id, r.channel_id AS "channelId", (c.failing_since IS NULL AND c.state = 'OK') AS healthy
        FROM rows r JOIN notification_channels c ON c.id = r.channel_id`;
  }

  /** Reminder `seq` of a DOWN alert, for the channels routed for DOWN (PagerDuty escalates by itself). */
  async ensureReminder(
    a: { alertId: string; siteId: string; round: number; incidentKey: string },
    seq: number,
    now: number,
  ): Promise<PendingNotify[]> {
    const notPagerDuty = Prisma.sql`AND c.type <> 'PAGERDUTY'`;
    await this.prisma.$executeRaw`
      INSERT INTO notification_deliveries
        (id, alert_id, channel_id, website_id, seq, kind, round, incident_key, status, attempts,
         next_attempt_at, created_at, updated_at)
      SELECT gen_random_uuid(), ${a.alertId}::uuid, rc.id, ${a.siteId}::uuid, ${seq}, 'DOWN',
             ${a.round}::bigint, ${a.incidentKey}, 'PENDING', 0, ${ts(now)}, ${ts(now)}, ${ts(now)}
        FROM (${routedChannels(a.siteId, 'DOWN', notPagerDuty)}) rc
       WHERE NOT EXISTS (SELECT 1 FROM notification_deliveries x
                          WHERE x.alert_id = ${a.alertId}::uuid AND x.channel_id = rc.id AND x.seq >= ${seq})
      ON CONFLICT (alert_id, channel_id, seq) DO NOTHING`;
    return this.pendingOf(a.alertId, seq);
  }

  private pendingOf(alertId: string, seq: number): Promise<PendingNotify[]> {
    return this.prisma.$queryRaw<PendingNotify[]>`
      SELECT d.id, d.channel_id AS "channelId", (c.failing_since IS NULL AND c.state = 'OK') AS healthy
        FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
       WHERE d.alert_id = ${alertId}::uuid AND d.seq = ${seq} AND d.status = 'PENDING'`;
  }

  /** Round of the latest `kind` alert of the site and region before `beforeRound`. */
  async openingRound(
    siteId: string,
    kind: AlertKind,
    region: string | null,
    beforeRound: number,
  ): Promise<number | null> {
    const [r] = await this.prisma.$queryRaw<{ round: bigint | null }[]>`
      SELECT max(round) AS round FROM alerts
       WHERE website_id = ${siteId}::uuid AND kind = ${kind}::"AlertKind"
         AND region IS NOT DISTINCT FROM ${region} AND round < ${beforeRound}::bigint`;
    return r?.round === null || r?.round === undefined ? null : Number(r.round);
  }

  /** Takes the lease of a due PENDING row whose turn it is; otherwise says why not. */
  async claim(id: string, leaseMs: number, now: number): Promise<NotifyClaimResult> {
    const rows = await this.prisma.$queryRaw<
      {
        id: string;
        alert_id: string;
        channel_id: string;
        seq: number;
        attempts: number;
        lease_until: Date;
        incident_key: string;
        type: ChannelType;
        name: string;
        config: Record<string, unknown>;
        secrets: Record<string, unknown>;
        state: 'OK' | 'FAILING';
        enabled: boolean;
        payload: unknown;
        site_id: string;
        site_name: string;
        site_url: string;
      }[]
    >`
      WITH c AS (
        UPDATE notification_deliveries d
           SET attempts = d.attempts + 1, next_attempt_at = ${ts(now)} + ${interval(leaseMs)},
               updated_at = ${ts(now)}
         WHERE d.id = ${id}::uuid AND d.status = 'PENDING' AND d.next_attempt_at <= ${ts(now)}
           AND ${noEarlierPending}
        RETURNING d.id, d.alert_id, d.channel_id, d.website_id, d.seq, d.attempts, d.next_attempt_at, d.incident_key
      )
      SELECT c.id, c.alert_id, c.channel_id, c.seq, c.attempts, c.next_attempt_at AS lease_until,
             c.incident_key, ch.type::text AS type, ch.name, ch.config, ch.secrets, ch.state::text AS state,
             ch.enabled, a.payload, w.id AS site_id, w.name AS site_name, w.url AS site_url
        FROM c JOIN notification_channels ch ON ch.id = c.channel_id
               JOIN alerts a ON a.id = c.alert_id JOIN websites w ON w.id = c.website_id`;
    if (rows.length === 1) {
      const r = rows[0];
      return {
        state: 'claimed',
        claim: {
          id: r.id,
          alertId: r.alert_id,
          channelId: r.channel_id,
          seq: r.seq,
          attempt: r.attempts,
          leaseUntil: r.lease_until,
          incidentKey: r.incident_key,
          channel: {
            id: r.channel_id,
            name: r.name,
            type: r.type,
            config: r.config,
            secrets: r.secrets,
            state: r.state,
            enabled: r.enabled,
          },
          alertPayload: r.payload,
          site: { id: r.site_id, name: r.site_name, url: r.site_url },
        },
      };
    }
    const current = await this.prisma.notificationDelivery.findUnique({
      where: { id },
      select: { status: true },
    });
    switch (current?.status) {
      case undefined:
        return { state: 'missing' };
      case 'SENT':
        return { state: 'sent' };
      case 'FAILED':
        return { state: 'failed' };
      case 'CANCELLED':
        return { state: 'cancelled' };
      case 'PENDING':
        return { state: 'busy' };
    }
  }

  /**
   * Final: delivered. Clears the channel's failure streak (the channel row is written only when
   * that changes something or its last success is a minute old, so a busy channel's row is not
   * rewritten per notification). False if the row was no longer PENDING.
   */
  async markSent(claim: NotifyClaim, attempt: AttemptRecord, now: number): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ n: bigint }[]>`
      WITH d AS (
        UPDATE notification_deliveries
           SET status = 'SENT', sent_at = ${ts(now)}, updated_at = ${ts(now)},
               last_status_code = ${attempt.statusCode}::int, last_error = NULL,
               attempt_log = ${logEntry(now, attempt)}
         WHERE id = ${claim.id}::uuid AND status = 'PENDING'
        RETURNING channel_id
      ), ch AS (
        UPDATE notification_channels
           SET state = 'OK', failing_since = NULL, last_success_at = ${ts(now)}, updated_at = ${ts(now)}
         WHERE id IN (SELECT channel_id FROM d)
           AND (state <> 'OK' OR failing_since IS NOT NULL OR last_success_at IS NULL
                OR last_success_at < ${ts(now)} - interval '1 minute')
        RETURNING id
      )
      SELECT count(*) AS n FROM d`;
    return Number(rows[0]?.n ?? 0) === 1;
  }

  /**
   * A failed attempt: back to PENDING until `retryAt` (fenced: ignored if a later attempt holds
   * the row), or final FAILED when `final`. Either way the channel's streak grows, and a streak
   * older than `failingAfterMs` marks it FAILING. Returns the channel's state afterwards.
   */
  async recordFailure(
    claim: NotifyClaim,
    attempt: AttemptRecord,
    now: number,
    next: { retryAt: number } | { final: string },
    failingAfterMs: number,
  ): Promise<'OK' | 'FAILING' | null> {
    const error = (attempt.error ?? '').slice(0, 1024);
    const set =
      'retryAt' in next
        ? Prisma.sql`next_attempt_at = ${ts(next.retryAt)}, last_error = ${error}`
        : Prisma.sql`status = 'FAILED', last_error = ${`${next.final}: ${error}`.slice(0, 1024)}`;
    const rows = await this.prisma.$queryRaw<{ state: 'OK' | 'FAILING' }[]>`
      WITH d AS (
        UPDATE notification_deliveries
           SET ${set}, updated_at = ${ts(now)}, last_status_code = ${attempt.statusCode}::int,
               attempt_log = ${logEntry(now, attempt)}
         WHERE id = ${claim.id}::uuid AND status = 'PENDING' AND attempts = ${claim.attempt}
        RETURNING channel_id
      )
      UPDATE notification_channels c
         SET failing_since = COALESCE(c.failing_since, ${ts(now)}), last_failure_at = ${ts(now)},
             last_error = ${error}, updated_at = ${ts(now)},
             state = CASE WHEN COALESCE(c.failing_since, ${ts(now)}) <= ${ts(now)} - ${interval(failingAfterMs)}
                          THEN 'FAILING'::"NotifyChannelState" ELSE c.state END
       WHERE c.id IN (SELECT channel_id FROM d)
      RETURNING c.state::text AS state`;
    return rows[0]?.state ?? null;
  }

  /** Final without an attempt (channel disabled, incident over). */
  async cancel(id: string, reason: string, now: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE notification_deliveries SET status = 'CANCELLED', last_error = ${reason}, updated_at = ${ts(now)}
       WHERE id = ${id}::uuid AND status = 'PENDING'`;
  }

  /** A site is UP again: its pending reminders say something no longer true. */
  async cancelReminders(siteId: string, beforeRound: number, now: number): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE notification_deliveries
         SET status = 'CANCELLED', last_error = 'the site recovered before this reminder went out',
             updated_at = ${ts(now)}
       WHERE website_id = ${siteId}::uuid AND seq > 0 AND status = 'PENDING' AND round < ${beforeRound}::bigint`;
  }

  /** PENDING rows whose attempt is due and whose turn it is, earliest due first. */
  findDue(limit: number, now: number): Promise<{ id: string; channelId: string }[]> {
    return this.prisma.$queryRaw`
      SELECT d.id, d.channel_id AS "channelId" FROM notification_deliveries d
       WHERE d.status = 'PENDING' AND d.next_attempt_at <= ${ts(now)} AND ${noEarlierPending}
       ORDER BY d.next_attempt_at, d.id
       LIMIT ${limit}`;
  }

  /** Gives up on rows PENDING for longer than maxAgeMs; their channels' streaks say whether they fail. */
  async expireOlderThan(maxAgeMs: number, failingAfterMs: number, now: number): Promise<number> {
    const rows = await this.prisma.$queryRaw<{ n: bigint }[]>`
      WITH d AS (
        UPDATE notification_deliveries
           SET status = 'FAILED', updated_at = ${ts(now)},
               last_error = LEFT('gave up after ' || ${Math.round(maxAgeMs / 1000)} || ' s: ' ||
                                 COALESCE(last_error, 'no attempt succeeded'), 1024)
         WHERE status = 'PENDING' AND created_at < ${ts(now)} - ${interval(maxAgeMs)}
        RETURNING channel_id
      ), ch AS (
        UPDATE notification_channels c SET state = 'FAILING', updated_at = ${ts(now)}
         WHERE c.id IN (SELECT channel_id FROM d) AND c.failing_since IS NOT NULL
           AND c.failing_since <= ${ts(now)} - ${interval(failingAfterMs)}
        RETURNING c.id
      )
      SELECT count(*) AS n FROM d`;
    return Number(rows[0]?.n ?? 0);
  }
}
