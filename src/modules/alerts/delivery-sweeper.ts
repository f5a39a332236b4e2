/**
 * Finishes deliveries the consumer could not: every few seconds each instance claims PENDING
 * rows whose backoff or lease has run out (oldest first) and attempts them again, so an SMTP
 * outage delays e-mails without blocking the topic, and a crashed holder's lease is taken over.
 * Rows still PENDING past their channel's age limit are given up (FAILED, with the last error).
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AlertDeliverer } from './alert-deliverer';
import { AlertDeliveryRepository, DeliveryChannel } from './alert-delivery.repository';
import { AlertRepository } from './alert.repository';
import { AlertsTimings } from './alerts.timings';

const BATCH = 50;

@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('AlertDeliverySweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastErrorLogAt = 0;

  constructor(
    private readonly deliveries: AlertDeliveryRepository,
    private readonly alerts: AlertRepository,
    private readonly deliverer: AlertDeliverer,
    private readonly timings: AlertsTimings,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; also what the timer runs. Resolves when the due rows have had their attempt. */
  sweep(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.timings.sweepEveryMs;
    this.timer = setTimeout(
      () => void this.sweep().finally(() => this.schedule()),
      Math.round(every * (0.8 + Math.random() * 0.4)),
    );
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    try {
      for (const channel of ['EMAIL', 'WEBSOCKET'] as DeliveryChannel[]) {
        const n = await this.deliveries.expireOlderThan(channel, this.timings.maxAgeMs[channel]);
        if (n > 0) this.log.error(`gave up ${n} ${channel} deliveries older than the age limit`);
      }
      for (let round = 0; round < 20 && !this.stopped; round++) {
        const due = await this.deliveries.findDue(BATCH);
        for (const d of due) {
          if (this.stopped) return;
          const alert = await this.alerts.findById(d.alertId);
          const to = alert && (await this.alerts.findRecipient(alert.payload.siteId));
          if (!alert || !to) continue; // removed with its site since
          await this.deliverer.deliver(alert, d.channel, to);
        }
        if (due.length < BATCH) return;
      }
    } catch (err) {
      // The database is probably down; the next pass tries again. One line per minute at most.
      if (Date.now() - this.lastErrorLogAt > 60_000) {
        this.lastErrorLogAt = Date.now();
        this.log.warn(`delivery sweep failed: ${(err as Error).message}`);
      }
    }
  }
}
