/**
 * Counters of the alert service on a prom-client registry of its own (the app's /metrics can
 * merge it), mirrored in a plain snapshot for logs and tests. Never on a hot path.
 */
import { Counter, Registry } from 'prom-client';

/** What became of one consumed health-alerts message. */
export type ConsumeOutcome = 'handled' | 'held' | 'poison' | 'stale' | 'site-gone';
/** What became of one delivery attempt. */
export type AttemptOutcome = 'sent' | 'already-sent' | 'busy' | 'retry' | 'failed' | 'gave-up';

export class AlertMetrics {
  private readonly consumed: Counter<'outcome'>;
  private readonly attempts: Counter<'channel' | 'outcome'>;
  private readonly counts = new Map<string, number>();

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.consumed = new Counter({
      name: 'alerts_consumed_total',
      help: 'health-alerts messages consumed, by outcome (poison: invalid payload, skipped)',
      labelNames: ['outcome'],
      registers,
    });
    this.attempts = new Counter({
      name: 'alert_delivery_attempts_total',
      help: 'delivery attempts per channel and outcome (already-sent: a redelivery, skipped)',
      labelNames: ['channel', 'outcome'],
      registers,
    });
  }

  consumedOne(outcome: ConsumeOutcome): void {
    this.consumed.inc({ outcome });
    this.bump(`consumed.${outcome}`);
  }

  /** channel: EMAIL, WEBSOCKET, NOTIFY (every notification channel) or a channel type (SLACK, …) */
  attempted(channel: string, outcome: AttemptOutcome): void {
    this.attempts.inc({ channel, outcome });
    this.bump(`${channel}.${outcome}`);
  }

  /** e.g. { 'consumed.handled': 3, 'EMAIL.sent': 3, 'EMAIL.already-sent': 1 } */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  private bump(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
