/**
 * alert_holds: alerts raised inside a maintenance window, recorded and not delivered. One row
 * per alert; released_at and outcome say what became of it when its window ended.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import { PrismaService } from '@/infra/database/prisma.service';
import { HealthAlertV1, parseHealthAlert } from '@/modules/alerts/alert-events';

export interface OpenHold {
  alertId: string;
  siteId: string;
  payload: HealthAlertV1;
}

const ts = (ms: number) => Prisma.sql`${new Date(ms).toISOString()}::timestamptz`;

@Injectable()
export class AlertHoldRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** held: a hold row exists; delivering: delivery rows exist already (never hold those). */
  async stateOf(alertId: string): Promise<'held' | 'delivering' | 'new'> {
    const [r] = await this.prisma.$queryRaw<{ held: boolean; delivering: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM alert_holds WHERE alert_id = ${alertId}::uuid) AS held,
             (EXISTS (SELECT 1 FROM alert_deliveries WHERE alert_id = ${alertId}::uuid)
              OR EXISTS (SELECT 1 FROM notification_deliveries WHERE alert_id = ${alertId}::uuid)) AS delivering`;
    return r.held ? 'held' : r.delivering ? 'delivering' : 'new';
  }

  async hold(alertId: string, siteId: string, windowId: string, now: number): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO alert_holds (alert_id, website_id, window_id, held_at)
      VALUES (${alertId}::uuid, ${siteId}::uuid, ${windowId}::uuid, ${ts(now)})
      ON CONFLICT (alert_id) DO NOTHING`;
  }

  /** Holds not yet settled, oldest first. */
  async open(limit: number): Promise<OpenHold[]> {
    const rows = await this.prisma.$queryRaw<
      { alert_id: string; website_id: string; payload: unknown }[]
    >`
      SELECT h.alert_id, h.website_id, a.payload FROM alert_holds h JOIN alerts a ON a.id = h.alert_id
       WHERE h.released_at IS NULL ORDER BY a.round, h.held_at LIMIT ${limit}`;
    const out: OpenHold[] = [];
    for (const r of rows) {
      const p = parseHealthAlert(r.payload);
      if (p.ok)
        out.push({
          alertId: r.alert_id,
          siteId: r.website_id,
          payload: { ...p.value, alertId: r.alert_id },
        });
    }
    return out;
  }

  /**
   * For the alert's (site, region) key: is it the latest alert, and what was the kind of the last
   * one that was actually notified (not held, or held and released)?
   */
  async standing(a: HealthAlertV1): Promise<{ latest: boolean; lastNotifiedKind: string | null }> {
    const [r] = await this.prisma.$queryRaw<{ latest: boolean; last_kind: string | null }[]>`
      SELECT NOT EXISTS (
               SELECT 1 FROM alerts x WHERE x.website_id = ${a.siteId}::uuid
                  AND x.region IS NOT DISTINCT FROM ${a.region} AND x.round > ${a.round}::bigint) AS latest,
             (SELECT x.kind::text FROM alerts x LEFT JOIN alert_holds h ON h.alert_id = x.id
               WHERE x.website_id = ${a.siteId}::uuid AND x.region IS NOT DISTINCT FROM ${a.region}
                 AND x.round < ${a.round}::bigint AND (h.alert_id IS NULL OR h.outcome = 'RELEASED')
               ORDER BY x.round DESC LIMIT 1) AS last_kind`;
    return { latest: r.latest, lastNotifiedKind: r.last_kind };
  }

  async settle(alertId: string, outcome: 'RELEASED' | 'SUPERSEDED', now: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE alert_holds SET released_at = ${ts(now)}, outcome = ${outcome}
       WHERE alert_id = ${alertId}::uuid AND released_at IS NULL`;
  }

  /** When the hold of a released alert ended (reminders count from then), or null. */
  async releasedAt(alertId: string): Promise<Date | null> {
    const row = await this.prisma.alertHold.findUnique({
      where: { alertId },
      select: { releasedAt: true, outcome: true },
    });
    return row?.outcome === 'RELEASED' ? row.releasedAt : null;
  }
}
