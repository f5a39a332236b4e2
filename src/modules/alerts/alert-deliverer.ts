/**
 * One attempt at one channel of one alert, under a lease: claim the delivery row, send, record
 * SENT. A delivery already SENT is skipped, so a redelivered alert is not sent again. A failure
 * gives the row back with a backoff (or, when the server may have accepted the message, not
 * before the lease ends); a refusal for good marks it FAILED. Never throws for a delivery
 * failure; database errors propagate and leave the row to its lease.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { classifyMailError, MailSender, MailSendError, SentMail } from '@/infra/mail/mail-sender';
import {
  AlertDeliveryRepository,
  DeliveryChannel,
  DeliveryClaim,
} from './alert-delivery.repository';
import type { HealthAlertV1 } from './alert-events';
import { renderAlertEmail } from './alert-mail.template';
import { AlertMetrics, AttemptOutcome } from './alert-metrics';
import { AlertRoomChannel } from './alert-room.channel';
import type { AlertRecipient, StoredAlert } from './alert.repository';
import { AlertsTimings, backoffMs } from './alerts.timings';

@Injectable()
export class AlertDeliverer {
  private readonly log = new Logger('AlertDelivery');

  constructor(
    private readonly deliveries: AlertDeliveryRepository,
    private readonly mail: MailSender,
    private readonly room: AlertRoomChannel,
    private readonly config: AppConfig,
    private readonly timings: AlertsTimings,
    private readonly metrics: AlertMetrics,
  ) {}

  async deliver(
    alert: StoredAlert,
    channel: DeliveryChannel,
    to: AlertRecipient,
  ): Promise<AttemptOutcome> {
    const claimed = await this.deliveries.claim(alert.id, channel, this.timings.leaseMs);
    let outcome: AttemptOutcome;
    if (claimed.state !== 'claimed') {
      // missing: the row was removed with its site; nothing left to do either.
      outcome =
        claimed.state === 'sent' ? 'already-sent' : claimed.state === 'busy' ? 'busy' : 'failed';
      if (outcome === 'already-sent') {
        this.log.log(`${channel} of alert ${alert.id} already delivered; not sent again`);
      }
    } else {
      outcome =
        channel === 'EMAIL'
          ? await this.email(claimed.claim, alert.payload, to)
          : await this.websocket(claimed.claim, alert.payload, to);
    }
    this.metrics.attempted(channel, outcome);
    return outcome;
  }

  private async email(
    claim: DeliveryClaim,
    alert: HealthAlertV1,
    to: AlertRecipient,
  ): Promise<AttemptOutcome> {
    const mail = renderAlertEmail(alert, to, {
      publicUrl: this.config.mail.publicUrl,
      mailFrom: this.config.mail.from,
    });
    let sent: SentMail;
    try {
      sent = await this.mail.send(mail);
    } catch (err) {
      const e = err instanceof MailSendError ? err : classifyMailError(err);
      if (e.kind === 'permanent') {
        this.log.error(`e-mail for alert ${alert.alertId} refused for good: ${e.message}`);
        await this.deliveries.markFailed(claim, e.message);
        return 'failed';
      }
      const delay = backoffMs(claim.attempt, this.timings.retryInitialMs, this.timings.retryMaxMs);
      // 'ambiguous': the server may hold the message; waiting out the lease makes sure the
      // attempt is over before another starts (the retry carries the same Message-ID).
      await this.deliveries.release(claim, e.message, delay, e.kind === 'ambiguous');
      this.log.warn(
        `e-mail for alert ${alert.alertId} failed (attempt ${claim.attempt}, ${e.kind}); ` +
          `retrying in ${e.kind === 'ambiguous' ? 'at least the lease' : `${delay} ms`}: ${e.message}`,
      );
      return 'retry';
    }
    // The server accepted the message. A crash from here until the record commits is the one
    // window in which the alert is e-mailed again after the lease, with the same Message-ID.
    await this.recordSent(claim, sent.messageId);
    return 'sent';
  }

  private async websocket(
    claim: DeliveryClaim,
    alert: HealthAlertV1,
    to: AlertRecipient,
  ): Promise<AttemptOutcome> {
    try {
      await this.room.deliver(claim, alert, to);
      return 'sent';
    } catch (err) {
      const delay = backoffMs(claim.attempt, this.timings.retryInitialMs, this.timings.retryMaxMs);
      const message = err instanceof Error ? err.message : String(err);
      // If the database is what failed, this fails too and the lease decides the next attempt.
      await this.deliveries.release(claim, message, delay).catch(() => undefined);
      this.log.warn(`WebSocket message of alert ${alert.alertId} failed: ${message}`);
      return 'retry';
    }
  }

  /** Retries the SENT record for a while: giving up means a second e-mail after the lease. */
  private async recordSent(claim: DeliveryClaim, messageId: string): Promise<void> {
    const deadline = Date.now() + this.timings.recordSentBudgetMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deliveries.markSent(claim, messageId);
        return;
      } catch (err) {
        const delay = backoffMs(attempt, 200, 5_000);
        if (Date.now() + delay > deadline) {
          this.log.error(
            `e-mail ${messageId} was accepted but could not be recorded: it will be sent again ` +
              `(same Message-ID) after the lease: ${(err as Error).message}`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
