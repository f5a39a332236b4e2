/**
 * Default CheckResultSink: each result becomes a versioned health-log event keyed by
 * site id, published in small batches (one publish in flight, so per-site order
 * holds). The buffer is bounded: if the bus stays down, the oldest are dropped and counted.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EventBus, OutgoingEvent } from '@/infra/events/event-bus.port';
import { CheckResultSink } from './check-result-sink';
import type { CheckPhases, CheckResult, FailureClass } from './check-result';
import { PingMetrics } from './ping-metrics';
import type { SiteSpec } from './site-source';

/** Payload on the health-logs topic; the ping-log writer turns it into a ping_logs row. */
export interface HealthLogV1 {
  v: 1;
  siteId: string;
  round: number;
  validatorId: string;
  region: string;
  up: boolean;
  latencyMs: number;
  httpStatus: number | null;
  failure: FailureClass | null;
  error: string | null;
  phases: CheckPhases;
  /** ISO 8601, when the check started */
  checkedAt: string;
}

export function toHealthLog(
  site: SiteSpec,
  round: number,
  r: CheckResult,
  node: { id: string; region: string },
): HealthLogV1 {
  return {
    v: 1,
    siteId: site.id,
    round,
    validatorId: node.id,
    region: node.region,
    up: r.up,
    latencyMs: r.latencyMs,
    httpStatus: r.httpStatus ?? null,
    failure: r.failure ?? null,
    error: r.error ?? null,
    phases: r.phases,
    checkedAt: new Date(r.checkedAt).toISOString(),
  };
}

const MAX_BATCH = 500;
const LINGER_MS = 50;
const MAX_BUFFERED = 20_000;
const RETRY_MS = 1_000;

@Injectable()
export class HealthLogSink extends CheckResultSink implements OnModuleDestroy {
  private readonly log = new Logger(HealthLogSink.name);
  private buffer: OutgoingEvent[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastErrorLogAt = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    private readonly metrics: PingMetrics,
  ) {
    super();
  }

  override onResult(site: SiteSpec, round: number, result: CheckResult): void {
    const value = toHealthLog(site, round, result, this.config.node);
    this.buffer.push({ key: site.id, value });
    if (this.buffer.length > MAX_BUFFERED) {
      const excess = this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, excess);
      this.metrics.resultsDropped(excess);
    }
    if (this.buffer.length >= MAX_BATCH) this.kick(0);
    else this.kick(LINGER_MS);
  }

  override async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // At most a few rounds: each waits for the publish in flight, then sends the rest.
    for (let i = 0; i < 5 && (this.buffer.length > 0 || this.inFlight); i++) {
      await (this.inFlight ?? this.publishBatch());
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }

  private kick(delayMs: number): void {
    if (this.inFlight) return; // the publish in flight re-kicks when it ends
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publishBatch();
    }, delayMs);
    this.timer.unref();
  }

  private publishBatch(): Promise<void> {
    if (this.inFlight || this.buffer.length === 0) return this.inFlight ?? Promise.resolve();
    const batch = this.buffer.splice(0, MAX_BATCH);
    this.inFlight = this.bus
      .publish('healthLogs', batch)
      .then(
        () => undefined,
        (e: unknown) => {
          // Put them back in front; the size bound above still applies.
          this.buffer = batch.concat(this.buffer);
          this.warn(`publishing ${batch.length} health logs failed: ${(e as Error).message}`);
          return 'retry' as const;
        },
      )
      .then((outcome) => {
        this.inFlight = undefined;
        if (this.buffer.length > 0) this.kick(outcome === 'retry' ? RETRY_MS : 0);
      });
    return this.inFlight;
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log.warn(message);
  }
}
