/**
 * Finishes notification deliveries the consumer did not: each pass gives up rows past the age
 * limit, then submits every due row (backoff over, or a dead holder's lease run out) to its
 * channel's lane. Every instance sweeps; the lease decides who attempts a row.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { AlertsTimings } from '@/modules/alerts/alerts.timings';
import { NotifyClock } from '../notify-clock';
import { NotifyDeliveryRepository } from './notify-delivery.repository';
import { NotifyLanes } from './notify-lanes';

const BATCH = 500;

@Injectable()
export class NotifySweeper {
  private readonly log = new Logger('NotifySweeper');
  private lastErrorLogAt = 0;

  constructor(
    private readonly deliveries: NotifyDeliveryRepository,
    private readonly lanes: NotifyLanes,
    private readonly clock: NotifyClock,
    private readonly timings: AlertsTimings,
    private readonly config: AppConfig,
  ) {}

  /**
   * One pass. With `wait`, resolves when the submitted attempts have finished (tests, benches);
   * the periodic job does not wait, so a hanging channel never delays the next pass.
   */
  async sweep(wait = true): Promise<number> {
    try {
      const now = this.clock.now();
      const failingAfter = this.config.notify.channelFailingAfterMs;
      const expired = await this.deliveries.expireOlderThan(
        this.timings.notifyMaxAgeMs,
        failingAfter,
        now,
      );
      if (expired > 0)
        this.log.error(`gave up ${expired} notification deliveries older than the age limit`);
      const due = await this.deliveries.findDue(BATCH, now);
      const attempts = due.map((d) => this.lanes.submit(d.channelId, d.id));
      if (wait) await Promise.all(attempts);
      return due.length;
    } catch (err) {
      if (Date.now() - this.lastErrorLogAt > 60_000) {
        this.lastErrorLogAt = Date.now();
        this.log.warn(`notification sweep failed: ${(err as Error).message}`);
      }
      return 0;
    }
  }
}
