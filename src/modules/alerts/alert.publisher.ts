/**
 * What the consensus pipeline calls on each status transition: records the alert (idempotent by
 * dedup key, so a replayed decision reuses the first alert's id) and publishes it to health-alerts
 * keyed by site id. Safe to call again after a failure: the same alert is published again, and
 * the consumer's delivery records make the repeat harmless.
 */
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EventBus } from '@/infra/events/event-bus.port';
import {
  alertDedupKey,
  AlertKind,
  AlertTally,
  HealthAlertV1,
  healthAlertV1Schema,
} from './alert-events';
import { AlertRepository } from './alert.repository';

export interface NewAlert {
  siteId: string;
  url: string;
  kind: AlertKind;
  /** required for REGION_* kinds, null otherwise */
  region: string | null;
  round: number;
  decisionLogIndex: number;
  tally: AlertTally;
  /** when the verdict was reached (epoch ms or Date) */
  at: number | Date;
}

export class SiteGoneError extends Error {
  constructor(siteId: string) {
    super(`site ${siteId} does not exist; no alert recorded`);
    this.name = 'SiteGoneError';
  }
}

@Injectable()
export class AlertPublisher {
  constructor(
    private readonly alerts: AlertRepository,
    private readonly bus: EventBus,
  ) {}

  /** Resolves with the published alert once the broker acknowledged it. */
  async publish(input: NewAlert): Promise<HealthAlertV1> {
    const candidate = healthAlertV1Schema.parse({
      v: 1,
      alertId: randomUUID(),
      dedupKey: alertDedupKey(input),
      siteId: input.siteId,
      url: input.url,
      kind: input.kind,
      region: input.region,
      round: input.round,
      decisionLogIndex: input.decisionLogIndex,
      tally: input.tally,
      at: new Date(input.at).toISOString(),
    } satisfies HealthAlertV1);
    const stored = await this.alerts.insertIfAbsent(candidate);
    if (!stored) throw new SiteGoneError(input.siteId);
    await this.bus.publish('healthAlerts', [
      {
        key: stored.payload.siteId,
        value: stored.payload,
        headers: { 'content-type': 'application/json', 'x-payload-version': '1' },
      },
    ]);
    return stored.payload;
  }
}
