/**
 * One attempt at one notification delivery under a lease: claim the row, send, record. A row
 * already SENT is skipped (so a redelivered alert is not sent again); a failure gives the row
 * back with a backoff (or, when the provider may have received it, not before the lease ends);
 * a destination the SSRF guard refuses, or a channel already marked FAILING, gets no retries.
 * Never throws for a delivery failure; database errors propagate and leave the row to its lease.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { parseHealthAlert } from '@/modules/alerts/alert-events';
import { AlertMetrics, AttemptOutcome } from '@/modules/alerts/alert-metrics';
import { AlertsTimings, backoffMs } from '@/modules/alerts/alerts.timings';
import { ChannelSender, SendOutcome } from '../channel-sender';
import { NotifyClock } from '../notify-clock';
import type { NotifyMessage } from '../notify-message';
import { NotifyClaim, NotifyDeliveryRepository } from './notify-delivery.repository';

/** Retry-After is honoured up to this; a provider cannot park a delivery for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

@Injectable()
export class NotifyDeliverer {
  private readonly log = new Logger('NotifyDelivery');

  constructor(
    private readonly deliveries: NotifyDeliveryRepository,
    private readonly sender: ChannelSender,
    private readonly clock: NotifyClock,
    private readonly timings: AlertsTimings,
    private readonly metrics: AlertMetrics,
    private readonly config: AppConfig,
  ) {}

  async deliver(id: string): Promise<AttemptOutcome> {
    const claimed = await this.deliveries.claim(id, this.timings.leaseMs, this.clock.now());
    if (claimed.state !== 'claimed') {
      const outcome: AttemptOutcome =
        claimed.state === 'sent' ? 'already-sent' : claimed.state === 'busy' ? 'busy' : 'failed';
      if (outcome === 'already-sent')
        this.log.log(`notification ${id} already delivered; not sent again`);
      this.metrics.attempted('NOTIFY', outcome);
      return outcome;
    }
    const outcome = await this.attempt(claimed.claim);
    this.metrics.attempted('NOTIFY', outcome);
    this.metrics.attempted(claimed.claim.channel.type, outcome);
    return outcome;
  }

  private async attempt(claim: NotifyClaim): Promise<AttemptOutcome> {
    const ch = claim.channel;
    if (!ch.enabled) {
      await this.deliveries.cancel(claim.id, 'channel disabled', this.clock.now());
      return 'failed';
    }
    const message = this.messageOf(claim);
    if (!message) {
      await this.deliveries.recordFailure(
        claim,
        { statusCode: null, error: 'unreadable alert payload', ms: 0 },
        this.clock.now(),
        { final: 'not sent' },
        this.config.notify.channelFailingAfterMs,
      );
      return 'failed';
    }
    const sent = await this.sender.send(ch, message);
    const now = this.clock.now();
    if (sent.ok) {
      // A crash from here until the record commits is the one window in which the provider gets
      // this notification again after the lease (same X-Uptime-Delivery id / PagerDuty dedup key).
      await this.deliveries.markSent(
        claim,
        { statusCode: sent.statusCode, error: null, ms: sent.ms },
        now,
      );
      return 'sent';
    }
    const record = { statusCode: sent.statusCode, error: sent.error, ms: sent.ms };
    const failingAfter = this.config.notify.channelFailingAfterMs;
    if (sent.kind === 'blocked' || ch.state === 'FAILING') {
      const why =
        sent.kind === 'blocked' ? 'destination refused' : 'channel is failing, not retried';
      await this.deliveries.recordFailure(claim, record, now, { final: why }, failingAfter);
      this.log.warn(`${ch.type} notification ${claim.id} failed for good (${why}): ${sent.error}`);
      return 'failed';
    }
    const retryAt = now + this.retryDelay(claim, sent);
    const state = await this.deliveries.recordFailure(
      claim,
      record,
      now,
      { retryAt },
      failingAfter,
    );
    this.log.warn(
      `${ch.type} notification ${claim.id} failed (attempt ${claim.attempt}${state === 'FAILING' ? ', channel now FAILING' : ''}); ` +
        `retrying in ${retryAt - now} ms: ${sent.error}`,
    );
    return 'retry';
  }

  private retryDelay(claim: NotifyClaim, sent: Extract<SendOutcome, { ok: false }>): number {
    const t = this.timings;
    const max = sent.kind === 'client' ? t.notifyClientRetryMaxMs : t.retryMaxMs;
    let delay = backoffMs(claim.attempt, t.retryInitialMs, max);
    if (sent.retryAfterMs !== undefined)
      delay = Math.max(delay, Math.min(sent.retryAfterMs, MAX_RETRY_AFTER_MS));
    // Possibly delivered: the attempt must be over (lease ended) before another starts.
    if (sent.ambiguous) delay = Math.max(delay, claim.leaseUntil.getTime() - this.clock.now());
    return delay;
  }

  private messageOf(claim: NotifyClaim): NotifyMessage | null {
    const parsed = parseHealthAlert(claim.alertPayload);
    if (!parsed.ok) return null;
    const a = parsed.value;
    return {
      event: claim.seq > 0 ? 'reminder' : 'alert',
      deliveryId: claim.id,
      alertId: claim.alertId,
      kind: a.kind,
      region: a.region,
      round: a.round,
      at: a.at,
      tally: a.tally,
      reminder: claim.seq,
      incidentKey: claim.incidentKey,
      site: claim.site,
      link: siteLink(this.config.mail.publicUrl, claim.site.id),
    };
  }
}

export function siteLink(publicUrl: string, siteId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/websites/${siteId}`;
}
