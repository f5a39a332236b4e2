import { Registry } from 'prom-client';

/**
 * The node's one Prometheus registry: every family GET /metrics serves is on it. The ping,
 * gossip and alert metrics keep their own registries for their tests; MetricsService
 * registers each of their metrics here too (a metric may sit on several registries).
 */
export class MetricsRegistry extends Registry {}
