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
