/**
 * Ends holds: once a held alert's site is out of maintenance, the alert is released (delivered
 * now, once) if it is still the latest word for its site and region and says something the last
 * notified alert did not (DOWN after an UP or nothing, RECOVERED after a DOWN); otherwise it is
 * settled as superseded. So a site still DOWN when the window ends alerts then, once, and one
 * that went down and came back inside the window raises nothing.
 */
import { Injectable, Logger } from '@nestjs/common';
import { isRegionKind } from '@/modules/alerts/alert-events';
import { NotifyClock } from '../notify-clock';
import { AlertHoldRepository } from './alert-hold.repository';
import { activeAt } from './maintenance-schedule';
import { MaintenanceRepository } from './maintenance.repository';

/** What delivers a released alert (the alert consumer): every channel, as if it had just arrived. */
export abstract class ReleasedAlertSink {
  abstract deliverReleased(alertId: string): Promise<void>;
}

const BATCH = 500;

@Injectable()
export class MaintenanceReleaser {
  private readonly log = new Logger('MaintenanceReleaser');

  constructor(
    private readonly holds: AlertHoldRepository,
    private readonly windows: MaintenanceRepository,
    private readonly sink: ReleasedAlertSink,
    private readonly clock: NotifyClock,
  ) {}

  /** One pass; returns how many alerts were released. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    let released = 0;
    for (const h of await this.holds.open(BATCH)) {
      const windows = await this.windows.forSite(h.siteId);
      if (activeAt(windows, now)) continue;
      const { latest, lastNotifiedKind } = await this.holds.standing(h.payload);
      const problem = h.payload.kind === 'DOWN' || h.payload.kind === 'REGION_DOWN';
      const lastWasProblem = lastNotifiedKind === 'DOWN' || lastNotifiedKind === 'REGION_DOWN';
      const news = latest && (problem ? !lastWasProblem : lastWasProblem);
      if (!news) {
        await this.holds.settle(h.alertId, 'SUPERSEDED', now);
        continue;
      }
      await this.sink.deliverReleased(h.alertId);
      await this.holds.settle(h.alertId, 'RELEASED', now);
      released++;
      this.log.log(
        `maintenance over: released ${h.payload.kind}${isRegionKind(h.payload.kind) ? ` (${h.payload.region})` : ''} ` +
          `alert ${h.alertId} of site ${h.siteId}`,
      );
    }
    return released;
  }
}
