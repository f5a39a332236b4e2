/**
 * Handles one health-alerts message, whichever transport brought it (Kafka consumer group or
 * the in-process bus): validate, record the alert and one delivery row per channel, then try
 * each channel once. Returns normally once the work is durable in PostgreSQL (the offset may be
 * committed: retries belong to the sweeper from then on) or the message is poison (logged,
 * counted, skipped). Throws only while the database is unreachable, so the message comes back.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import type { PendingNotify } from '@/modules/notifications/delivery/notify-delivery.repository';
import { NotifyFanout } from '@/modules/notifications/delivery/notify-fanout';
import { ReleasedAlertSink } from '@/modules/notifications/maintenance/maintenance-releaser';
import { HealthAlertV1, isRegionKind, parseHealthAlert } from './alert-events';
import { AlertDeliverer } from './alert-deliverer';
import { AlertDeliveryRepository, DeliveryChannel } from './alert-delivery.repository';
import { AlertMetrics } from './alert-metrics';
import { AlertRecipient, AlertRepository, StoredAlert } from './alert.repository';
import { AlertsTimings, backoffMs } from './alerts.timings';

export interface ConsumeContext {
  /** where the message came from, for logs: topic[partition]@offset */
  origin: string;
  /** keeps a Kafka group membership alive during long waits */
  heartbeat?: () => Promise<void>;
}

/** Thrown when the consumer stops while still waiting for the database: the message stays unconsumed. */
export class AlertConsumerStopping extends Error {
  constructor() {
    super('alert consumer stopping; the message will be redelivered');
    this.name = 'AlertConsumerStopping';
  }
}

/** Non-transient errors get this many tries before the message is skipped as poison. */
const MAX_TRIES_NON_TRANSIENT = 5;

interface Prepared {
  stored: StoredAlert;
  recipient: AlertRecipient;
  channels: DeliveryChannel[];
  /** notification-channel rows still pending */
  notify: PendingNotify[];
  /** a maintenance window holds it: recorded, not delivered */
  held: boolean;
}

@Injectable()
export class AlertConsumer extends ReleasedAlertSink implements OnModuleDestroy {
  private readonly log = new Logger('AlertConsumer');
  private stopping = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly alerts: AlertRepository,
    private readonly deliveries: AlertDeliveryRepository,
    private readonly deliverer: AlertDeliverer,
    private readonly timings: AlertsTimings,
    private readonly metrics: AlertMetrics,
    private readonly notify: NotifyFanout,
  ) {
    super();
  }

  onModuleDestroy(): void {
    this.stopping = true;
    for (const wake of this.sleepers) wake();
  }

  async handle(value: unknown, ctx: ConsumeContext): Promise<void> {
    const parsed = parseHealthAlert(value);
    if (!parsed.ok) {
      this.metrics.consumedOne('poison');
      this.log.warn(`skipping invalid health-alerts message at ${ctx.origin}: ${parsed.error}`);
      return;
    }
    const prepared = await this.withDatabase(ctx, () => this.prepare(parsed.value));
    if (prepared === 'poison') {
      this.metrics.consumedOne('poison');
      return;
    }
    if (prepared === null) {
      this.metrics.consumedOne('site-gone');
      this.log.warn(`alert ${parsed.value.dedupKey} not delivered: its site no longer exists`);
      return;
    }
    if (prepared.held) {
      this.metrics.consumedOne('held');
      this.log.log(
        `alert ${prepared.stored.id} (${parsed.value.kind}) held: its site is in maintenance`,
      );
      return;
    }
    if (prepared.channels.length === 0 && prepared.notify.length === 0) {
      this.metrics.consumedOne('stale');
      this.log.warn(`alert ${prepared.stored.id} from ${parsed.value.at} is too old to deliver`);
      return;
    }
    await this.deliverAll(prepared);
    this.metrics.consumedOne('handled');
  }

  /** A held alert whose maintenance window ended with nothing newer: delivered now, once. */
  async deliverReleased(alertId: string): Promise<void> {
    const stored = await this.alerts.findById(alertId);
    const recipient = stored && (await this.alerts.findRecipient(stored.payload.siteId));
    if (!stored || !recipient) return;
    // Its age counts from the release: the e-mail and the channels still go out; the WebSocket
    // message only if the verdict is recent (it is a live status, not a record).
    const channels = channelsFor(stored.payload, Date.now(), this.timings);
    const wanted: DeliveryChannel[] = channels.includes('EMAIL') ? channels : ['EMAIL'];
    await this.deliveries.ensure(stored.id, wanted);
    const notify = await this.notify.prepare(stored, { ignoreAge: true });
    await this.deliverAll({ stored, recipient, channels: wanted, notify, held: false });
  }

  /** E-mail and WebSocket in turn, notification channels in their lanes meanwhile. */
  private async deliverAll(p: Prepared): Promise<void> {
    const notified = this.notify.dispatch(p.notify);
    for (const channel of p.channels) {
      try {
        await this.deliverer.deliver(p.stored, channel, p.recipient);
      } catch (err) {
        // The row is recorded; its lease (or backoff) hands it to the sweeper.
        this.log.warn(`${channel} of alert ${p.stored.id} left to retry: ${errorText(err)}`);
      }
    }
    await notified;
  }

  private async prepare(alert: HealthAlertV1): Promise<Prepared | null> {
    const recorded = await this.alerts.record(alert);
    if (!recorded) return null;
    const { stored, to: recipient } = recorded;
    if (await this.notify.holdIfInMaintenance(stored)) {
      return { stored, recipient, channels: [], notify: [], held: true };
    }
    const channels = channelsFor(stored.payload, Date.now(), this.timings);
    await this.deliveries.ensure(stored.id, channels);
    const notify = await this.notify.prepare(stored);
    return { stored, recipient, channels, notify, held: false };
  }

  /**
   * Runs `work` until it succeeds: transient database errors are retried with backoff for as long
   * as they last (heartbeating meanwhile); anything else a few times, then the message is poison.
   */
  private async withDatabase<T>(
    ctx: ConsumeContext,
    work: () => Promise<T>,
  ): Promise<T | 'poison'> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        const transient = isTransientDatabaseError(err);
        if (!transient && attempt >= MAX_TRIES_NON_TRANSIENT) {
          this.log.error(
            `skipping health-alerts message at ${ctx.origin} after ${attempt} tries: ${errorText(err)}`,
          );
          return 'poison';
        }
        if (this.stopping) throw new AlertConsumerStopping();
        const delay = backoffMs(attempt, 250, this.timings.dbRetryMaxMs);
        this.log.warn(
          `recording the alert at ${ctx.origin} failed (attempt ${attempt}${transient ? ', database unreachable' : ''}), retrying in ${delay} ms: ${errorText(err)}`,
        );
        await this.pause(delay, ctx.heartbeat);
        if (this.stopping) throw new AlertConsumerStopping();
      }
    }
  }

  private async pause(ms: number, heartbeat?: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(until - Date.now(), 1_000));
        this.sleepers.add(done);
      });
      await heartbeat?.().catch(() => undefined);
    }
  }
}

/** E-mail for every alert, the owner's WebSocket room for region alerts; none once too old. */
export function channelsFor(
  alert: HealthAlertV1,
  now: number,
  t: AlertsTimings,
): DeliveryChannel[] {
  const age = now - Date.parse(alert.at);
  const wanted: DeliveryChannel[] = isRegionKind(alert.kind) ? ['EMAIL', 'WEBSOCKET'] : ['EMAIL'];
  return wanted.filter((c) => age <= t.maxAgeMs[c]);
}

/** Errors that say "the database is not reachable right now" rather than "this will never work". */
export function isTransientDatabaseError(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    return /^P10\d\d$/.test(err.code) || ['P2024', 'P2028', 'P2034'].includes(err.code);
  }
  const text = errorText(err);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|Connection terminated|connection.*(closed|lost|refused)|terminating connection|database system is (starting|shutting)|too many clients|timeout/i.test(
    text,
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
