/**
 * The alert service's time budgets in one injectable value. Defaults suit production; tests and
 * benches pass smaller ones through AlertsModule.forRoot. Invariant: a lease outlasts the longest
 * possible send attempt, so a live holder is never overtaken.
 */
import { MAIL_SEND_TIMEOUT_MS } from '@/infra/mail/mail.module';
import type { DeliveryChannel } from './alert-delivery.repository';

export class AlertsTimings {
  /** how long a claimed delivery is reserved for its holder */
  leaseMs = Math.max(120_000, 2 * MAIL_SEND_TIMEOUT_MS);
  /** backoff between attempts of one delivery: doubling from initial, capped at max, ±20 % */
  retryInitialMs = 1_000;
  retryMaxMs = 30_000;
  /** how often each instance looks for deliveries due for another attempt */
  sweepEveryMs = 2_000;
  /** deliveries still PENDING after this are given up (FAILED); alerts older are not delivered */
  maxAgeMs: Record<DeliveryChannel, number> = {
    EMAIL: 24 * 3_600_000,
    WEBSOCKET: 15 * 60_000,
  };
  /** notification channels: backoff cap after a 4xx (a misconfigured channel is retried slowly) */
  notifyClientRetryMaxMs = 300_000;
  /** notification deliveries still PENDING after this are given up (FAILED) */
  notifyMaxAgeMs = 24 * 3_600_000;
  /** how often each instance looks for notification deliveries due for another attempt */
  notifySweepEveryMs = 1_000;
  /**
   * how long the consumer waits for the first attempts of healthy channels before moving on. 0:
   * never. The delivery rows are written before the lanes get them, so waiting buys no safety,
   * and a channel that starts hanging (healthy until its first timeout) would hold up every
   * later alert of every site behind it.
   */
  notifyInlineBudgetMs = 0;
  /** notification attempts in flight at once per instance (one at a time per channel) */
  notifyConcurrency = 32;
  /** how often reminders and maintenance-window releases are looked for */
  notifyJobsEveryMs = 10_000;
  /** how long the consumer keeps trying to record a sent e-mail before leaving it to the lease */
  recordSentBudgetMs = 60_000;
  /** cap of the consumer's backoff while the database is unreachable */
  dbRetryMaxMs = 10_000;

  static with(overrides: Partial<AlertsTimings> = {}): AlertsTimings {
    return Object.assign(new AlertsTimings(), overrides);
  }
}

/** Exponential backoff with ±20 % jitter, so retrying instances do not move in lockstep. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
