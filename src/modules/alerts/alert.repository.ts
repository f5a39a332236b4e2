/**
 * Alert rows: one per dedup key, ever. The first writer's row (and id) wins, so every publisher,
 * replay and redelivery of one transition ends up on the same alert id.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { Prisma } from '@/generated/prisma/client';
import { HealthAlertV1, parseHealthAlert } from './alert-events';

export interface StoredAlert {
  id: string;
  /** the payload as first recorded, with alertId = id */
  payload: HealthAlertV1;
}

/** Who an alert goes to, read at delivery time. */
export interface AlertRecipient {
  siteId: string;
  siteName: string;
  siteUrl: string;
  ownerId: string;
  ownerEmail: string;
}

@Injectable()
export class AlertRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Records the alert unless its dedup key exists; returns the stored alert, or null when the
   * site no longer exists (nothing to alert about).
   */
  async insertIfAbsent(alert: HealthAlertV1): Promise<StoredAlert | null> {
    try {
      await this.prisma.alert.createMany({
        data: [
          {
            id: alert.alertId,
            dedupKey: alert.dedupKey,
            websiteId: alert.siteId,
            kind: alert.kind,
            region: alert.region,
            round: BigInt(alert.round),
            decisionLogIndex: BigInt(alert.decisionLogIndex),
            payload: alert,
          },
        ],
        skipDuplicates: true,
      });
    } catch (e) {
      // The site (or its alert id, reused for another key) is gone or taken: see below.
      if (!isForeignKeyViolation(e)) throw e;
      return null;
    }
    return this.findByDedupKey(alert.dedupKey);
  }

  /**
   * The consumer's one round trip: records the alert unless its dedup key exists and returns the
   * stored alert with its recipient; null when the site (or its owner) no longer exists.
   */
  async record(alert: HealthAlertV1): Promise<{ stored: StoredAlert; to: AlertRecipient } | null> {
    const rows = await this.prisma.$queryRaw<
      {
        id: string;
        payload: unknown;
        site_id: string;
        site_name: string;
        site_url: string;
        owner_id: string;
        owner_email: string;
      }[]
    >`
      WITH ins AS (
        INSERT INTO alerts (id, dedup_key, website_id, kind, region, round, decision_log_index, payload)
        SELECT ${alert.alertId}::uuid, ${alert.dedupKey}, ${alert.siteId}::uuid,
               ${alert.kind}::"AlertKind", ${alert.region}, ${alert.round}::bigint,
               ${alert.decisionLogIndex}::bigint, ${JSON.stringify(alert)}::jsonb
         WHERE EXISTS (SELECT 1 FROM websites WHERE id = ${alert.siteId}::uuid)
        ON CONFLICT DO NOTHING
        RETURNING id, payload, website_id
      ), a AS (
        SELECT id, payload, website_id FROM ins
        UNION ALL
        SELECT id, payload, website_id FROM alerts WHERE dedup_key = ${alert.dedupKey}
        LIMIT 1
      )
      SELECT a.id, a.payload, w.id AS site_id, w.name AS site_name, w.url AS site_url,
             u.id AS owner_id, u.email AS owner_email
        FROM a JOIN websites w ON w.id = a.website_id JOIN users u ON u.id = w.owner_id`;
    if (rows.length === 0) {
      // A concurrent insert of the same key commits after this statement's snapshot, so the
      // statement sees neither row; a fresh look settles it (and a missing site stays missing).
      const stored = await this.findByDedupKey(alert.dedupKey);
      const to = stored && (await this.findRecipient(stored.payload.siteId));
      return stored && to ? { stored, to } : null;
    }
    const r = rows[0];
    return {
      stored: toStored(r),
      to: {
        siteId: r.site_id,
        siteName: r.site_name,
        siteUrl: r.site_url,
        ownerId: r.owner_id,
        ownerEmail: r.owner_email,
      },
    };
  }

  async findByDedupKey(dedupKey: string): Promise<StoredAlert | null> {
    const row = await this.prisma.alert.findUnique({
      where: { dedupKey },
      select: { id: true, payload: true },
    });
    return row ? toStored(row) : null;
  }

  async findById(id: string): Promise<StoredAlert | null> {
    const row = await this.prisma.alert.findUnique({
      where: { id },
      select: { id: true, payload: true },
    });
    return row ? toStored(row) : null;
  }

  async findRecipient(siteId: string): Promise<AlertRecipient | null> {
    const site = await this.prisma.website.findUnique({
      where: { id: siteId },
      select: { id: true, name: true, url: true, owner: { select: { id: true, email: true } } },
    });
    if (!site) return null;
    return {
      siteId: site.id,
      siteName: site.name,
      siteUrl: site.url,
      ownerId: site.owner.id,
      ownerEmail: site.owner.email,
    };
  }
}

function toStored(row: { id: string; payload: unknown }): StoredAlert {
  const parsed = parseHealthAlert(row.payload);
  // Rows are written from validated payloads only; a row that no longer parses was edited by hand.
  if (!parsed.ok) throw new Error(`alert ${row.id} has an unreadable payload: ${parsed.error}`);
  return { id: row.id, payload: { ...parsed.value, alertId: row.id } };
}

function isForeignKeyViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2003';
}
