/**
 * Assembles the node's one registry (MetricsRegistry): process metrics, ping and DNS cache,
 * gossip, alerts and notifications, the hub tally and projector, Raft, HTTP and, behind
 * METRICS_PER_SITE, per-site gauges; and decides who may read it. The standalone alert service
 * (alert-service.app.ts) builds the same module with its alerts only: the node's parts are
 * optional, and what an application lacks is simply not registered.
 *
 * Access, in this order: with METRICS_PORT, /metrics is served on that port only (404 on PORT);
 * with METRICS_TOKEN, every scrape needs `Authorization: Bearer <METRICS_TOKEN>` (401 without);
 * with neither, it is open in development and test, and refused (403) in production: a node's
 * internals are not published by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Metric, Registry } from 'prom-client';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { AlertMetrics } from '@/modules/alerts/alert-metrics';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipMetrics } from '@/modules/gossip/gossip.metrics';
import { PingMetrics } from '@/modules/ping/ping-metrics';
import { DecisionProjector } from '@/modules/projection/decision.projector';
import { ClusterStatus } from '@/modules/raft/cluster-status';
import { httpMetricsMiddleware } from './http.metrics';
import { MetricsRegistry } from './metrics.registry';
import { registerRaftMetrics } from './raft.metrics';
import { registerSiteMetrics } from './site.metrics';
import { registerVerdictMetrics } from './verdict.metrics';
import { bearerToken } from '@/common/bearer-token';

export type MetricsListener = 'main' | 'metrics-port';

@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly http: ReturnType<typeof httpMetricsMiddleware>;
  private readonly stopRaft: () => void;

  constructor(
    readonly registry: MetricsRegistry,
    private readonly config: AppConfig,
    alerts: AlertMetrics,
    @Optional() ping?: PingMetrics,
    @Optional() gossip?: GossipMetrics,
    @Optional() raft?: ClusterStatus,
    @Optional() tally?: TallyService,
    @Optional() projector?: DecisionProjector,
    @Optional() sites?: SiteStatusMachine,
  ) {
    collectDefaultMetrics({ register: registry });
    for (const source of [ping?.registry, gossip?.registry, alerts.registry])
      if (source) adopt(registry, source);
    this.stopRaft = raft ? registerRaftMetrics(registry, raft) : () => undefined;
    if (tally && projector && raft) registerVerdictMetrics(registry, { tally, projector, raft });
    if (config.metrics.perSite && ping && sites) {
      // Latencies of more sites than are shown, so that the shown ones are always among them.
      const latencyOf = ping.trackSiteLatency(Math.max(20_000, 2 * config.metrics.perSiteLimit));
      registerSiteMetrics(registry, sites, config.metrics.perSiteLimit, latencyOf);
    }
    this.http = httpMetricsMiddleware(registry);
  }

  onModuleDestroy(): void {
    this.stopRaft();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, after checking the caller may read it on this listener. */
  async scrape(listener: MetricsListener, authorization: string | undefined): Promise<string> {
    this.authorize(listener, authorization);
    return this.registry.metrics();
  }

  private authorize(listener: MetricsListener, authorization: string | undefined): void {
    const { port, token } = this.config.metrics;
    if (listener === 'main' && port !== undefined)
      throw new DomainError('NOT_FOUND', 'metrics are served on METRICS_PORT');
    if (token !== undefined) {
      if (!sameSecret(bearerToken(authorization) ?? '', token))
        throw new DomainError(
          'UNAUTHENTICATED',
          'metrics need "Authorization: Bearer <METRICS_TOKEN>"',
        );
      return;
    }
    if (listener === 'main' && this.config.nodeEnv === 'production')
      throw new DomainError(
        'FORBIDDEN',
        'metrics are not served in production without METRICS_TOKEN or METRICS_PORT',
      );
  }
}

/** Puts every metric of `source` on `target` too (names are unique across modules). */
function adopt(target: Registry, source: Registry): void {
  // getMetricsAsArray() returns the metric objects themselves (typed as their JSON shape).
  for (const metric of source.getMetricsAsArray())
    target.registerMetric(metric as unknown as Metric);
}

function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
