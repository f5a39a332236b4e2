/**
 * Prometheus metrics of the ping path (schedule lag, outcomes, skipped rounds, queue)
 * and of the DNS cache, on a registry of their own that the app's /metrics can merge.
 * Observing is O(1) and allocation-free on the hot path.
 */
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Lane } from '@/core/schedule/check-lanes';
import { DnsCache } from '@/modules/dns/dns-cache';
import type { CheckResult } from './check-result';

export type MissReason = 'stall' | 'queue' | 'overlap';

/** Buckets in seconds (Prometheus base unit); observations arrive in ms and are divided. */
const LAG_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CHECK_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class PingMetrics {
  private readonly lag: Histogram<'lane'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly checks: Counter<'outcome' | 'failure'>;
  /**
   * Series bound to their label values once: prom-client hashes a label object on every
   * observe, which at hundreds of checks per second showed in the profile. The values are
   * a small closed set (lanes, outcomes, failure classes), so this map stays small.
   */
  private readonly bound = new Map<string, object>();
  private readonly missed: Counter<'reason'>;
  private readonly queued: Gauge;
  private readonly inFlight: Gauge;
  private readonly sites: Gauge;
  private readonly syncErrors: Counter;
  private readonly sinkDropped: Counter;
  private readonly retries: Counter;
  private lastLatency?: LRUCache<string, number>;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.lag = new Histogram({
      name: 'ping_schedule_lag_seconds',
      help: 'actual start of a check minus the start of its round',
      labelNames: ['lane'],
      buckets: LAG_BUCKETS_S,
      registers,
    });
    this.duration = new Histogram({
      name: 'ping_check_duration_seconds',
      help: 'wall time of one check',
      labelNames: ['outcome'],
      buckets: CHECK_BUCKETS_S,
      registers,
    });
    this.checks = new Counter({
      name: 'ping_checks_total',
      help: 'checks completed, by outcome and failure class',
      labelNames: ['outcome', 'failure'],
      registers,
    });
    this.missed = new Counter({
      name: 'ping_rounds_missed_total',
      help: 'rounds skipped: stall (scheduler woke too late), queue (no free slot in time), overlap (previous check still running)',
      labelNames: ['reason'],
      registers,
    });
    this.queued = new Gauge({
      name: 'ping_queue_depth',
      help: 'checks waiting for a slot',
      registers,
    });
    this.inFlight = new Gauge({ name: 'ping_in_flight', help: 'checks running', registers });
    this.sites = new Gauge({
      name: 'ping_sites_scheduled',
      help: 'sites on the schedule',
      registers,
    });
    this.syncErrors = new Counter({
      name: 'ping_site_sync_errors_total',
      help: 'failed reads of the site list (the previous list stays in force)',
      registers,
    });
    this.retries = new Counter({
      name: 'ping_check_retries_total',
      help: "in-round retries of failed checks (a site's retries option)",
      registers,
    });
    this.sinkDropped = new Counter({
      name: 'ping_results_dropped_total',
      help: 'results not delivered to the health-logs topic (buffer full)',
      registers,
    });
  }

  /** Exposes the DNS cache counters; read at scrape time, nothing on the hot path. */
  watchDns(dns: DnsCache): void {
    type Stats = ReturnType<DnsCache['stats']>;
    const registers = [this.registry];
    const counter = (name: string, help: string, pick: (s: Stats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          // The cache owns the running total; mirror it at scrape time.
          this.reset();
          this.inc(pick(dns.stats()));
        },
      });
    counter('dns_cache_hits_total', 'lookups answered from the cache', (s) => s.hits);
    counter(
      'dns_cache_negative_hits_total',
      'failures answered from the cache',
      (s) => s.negativeHits,
    );
    counter('dns_cache_misses_total', 'lookups that queried DNS', (s) => s.misses);
    counter('dns_cache_joined_total', 'lookups that joined a query in flight', (s) => s.joined);
    counter('dns_cache_evictions_total', 'entries evicted by the size bound', (s) => s.evictions);
    counter('dns_cache_query_errors_total', 'DNS queries that failed', (s) => s.queryErrors);
    new Gauge({
      name: 'dns_cache_entries',
      help: 'names cached',
      registers,
      collect() {
        this.set(dns.stats().size);
      },
    });
  }

  checkRetried(): void {
    this.retries.inc();
  }

  checkStarted(lagMs: number, lane: Lane): void {
    bound(this.bound, `lag\n${lane}`, () => this.lag.labels(lane)).observe(lagMs / 1000);
  }

  checkFinished(result: CheckResult, _lane: Lane, siteId?: string): void {
    const outcome = result.up ? 'up' : 'down';
    const failure = result.failure ?? 'none';
    bound(this.bound, `duration\n${outcome}`, () => this.duration.labels(outcome)).observe(
      result.latencyMs / 1000,
    );
    bound(this.bound, `checks\n${outcome}\n${failure}`, () =>
      this.checks.labels(outcome, failure),
    ).inc();
    if (siteId !== undefined) this.lastLatency?.set(siteId, result.latencyMs);
  }

  /** METRICS_PER_SITE: keep each site's last check latency (bounded) for the per-site gauges. */
  trackSiteLatency(maxSites: number): (siteId: string) => number | undefined {
    const seen = (this.lastLatency ??= new LRUCache<string, number>({ max: maxSites }));
    return (siteId) => seen.peek(siteId);
  }

  roundsMissed(rounds: number, reason: MissReason): void {
    this.missed.inc({ reason }, rounds);
  }

  queueState(queued: number, inFlight: number): void {
    this.queued.set(queued);
    this.inFlight.set(inFlight);
  }

  sitesScheduled(n: number): void {
    this.sites.set(n);
  }

  siteSyncFailed(): void {
    this.syncErrors.inc();
  }

  resultsDropped(n: number): void {
    this.sinkDropped.inc(n);
  }
}

function bound<T extends object>(cache: Map<string, object>, key: string, make: () => T): T {
  let v = cache.get(key) as T | undefined;
  if (v === undefined) cache.set(key, (v = make()));
  return v;
}
