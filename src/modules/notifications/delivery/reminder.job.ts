/**
 * Reminders while a site stays DOWN: for each site with reminders on whose latest global alert
 * is a DOWN that was notified, the n-th reminder is due every N minutes after it (after its
 * release, for a DOWN held by maintenance). Only the latest due reminder is created (a node that
 * was away does not send a burst), each once per channel: (alert, channel, n) is unique. None
 * while the site is in a maintenance window; a RECOVERED cancels pending ones.
 */
import { Injectable } from '@nestjs/common';
import { PrismaService } from '@/infra/database/prisma.service';
import { activeAt } from '../maintenance/maintenance-schedule';
import { MaintenanceRepository } from '../maintenance/maintenance.repository';
import { NotifyClock } from '../notify-clock';
import { NotifyDeliveryRepository } from './notify-delivery.repository';
import { NotifyFanout } from './notify-fanout';

const BATCH = 1_000;

interface OpenIncident {
  alert_id: string;
  website_id: string;
  round: bigint;
  at: string;
  every_minutes: number;
  released_at: Date | null;
}

@Injectable()
export class ReminderJob {
  constructor(
    private readonly prisma: PrismaService,
    private readonly deliveries: NotifyDeliveryRepository,
    private readonly fanout: NotifyFanout,
    private readonly windows: MaintenanceRepository,
    private readonly clock: NotifyClock,
  ) {}

  /** One pass; resolves when the reminders it created had their first attempt. Returns how many rows. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const open = await this.prisma.$queryRaw<OpenIncident[]>`
      SELECT a.id AS alert_id, a.website_id, a.round, a.payload->>'at' AS at,
             s.reminder_every_minutes AS every_minutes, h.released_at
        FROM site_notification_settings s
        JOIN LATERAL (SELECT x.id, x.kind, x.round, x.payload, x.website_id FROM alerts x
                       WHERE x.website_id = s.website_id AND x.region IS NULL
                       ORDER BY x.round DESC LIMIT 1) a ON true
        LEFT JOIN alert_holds h ON h.alert_id = a.id
       WHERE s.reminder_every_minutes IS NOT NULL AND a.kind = 'DOWN'
         AND (h.alert_id IS NULL OR h.outcome = 'RELEASED')
       LIMIT ${BATCH}`;
    let created = 0;
    const attempts: Promise<void>[] = [];
    for (const inc of open) {
      const base = inc.released_at?.getTime() ?? Date.parse(inc.at);
      const n = Math.floor((now - base) / (inc.every_minutes * 60_000));
      if (n < 1) continue;
      const windows = await this.windows.forSite(inc.website_id);
      if (windows.length > 0 && activeAt(windows, now)) continue;
      const round = Number(inc.round);
      const pending = await this.deliveries.ensureReminder(
        {
          alertId: inc.alert_id,
          siteId: inc.website_id,
          round,
          incidentKey: `${inc.website_id}:*:${round}`,
        },
        n,
        now,
      );
      created += pending.length;
      attempts.push(this.fanout.dispatch(pending, Infinity));
    }
    await Promise.all(attempts);
    return created;
  }
}
