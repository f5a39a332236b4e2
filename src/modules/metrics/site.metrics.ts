/**
 * Per-site gauges, only with METRICS_PER_SITE=true: the committed verdict of each site
 * (1 UP, 0 DOWN, -1 UNKNOWN), its last decided round and this node's last check latency,
 * labelled by site id only. At most
 * METRICS_PER_SITE_LIMIT sites (the first by id) are exported, so a node with any number of
 * sites serves at most that many series per family; `site_metrics_omitted` says how many
 * were left out. Read from the replicated status at scrape time; nothing on the hot path.
 */
import { Gauge, Registry } from 'prom-client';
import type { SiteStatus } from '@/core/consensus/site-status.machine';

export interface SiteStatusReader {
  list(): SiteStatus[];
}

const VALUE = { UP: 1, DOWN: 0, UNKNOWN: -1 } as const;

export function registerSiteMetrics(
  registry: Registry,
  sites: SiteStatusReader,
  limit: number,
  /** this node's last check latency of a site, ms */
  latencyOf: (siteId: string) => number | undefined,
): void {
  const registers = [registry];
  let omitted = 0;
  let shown: SiteStatus[] = [];
  // One scrape collects every family in the same tick: read (and sort) the sites once for it.
  let fresh = false;
  const refresh = () => {
    if (fresh) return;
    fresh = true;
    queueMicrotask(() => (fresh = false));
    const all = sites.list();
    shown = all.length > limit ? all.slice(0, limit) : all;
    omitted = all.length - shown.length;
  };
  new Gauge({
    name: 'site_status',
    help: 'committed verdict of the site: 1 UP, 0 DOWN, -1 UNKNOWN (METRICS_PER_SITE)',
    labelNames: ['site_id'],
    registers,
    collect() {
      refresh();
      this.reset();
      for (const s of shown) this.set({ site_id: s.siteId }, VALUE[s.verdict]);
    },
  });
  new Gauge({
    name: 'site_last_round',
    help: 'last decided round of the site (METRICS_PER_SITE)',
    labelNames: ['site_id'],
    registers,
    collect() {
      refresh();
      this.reset();
      for (const s of shown) this.set({ site_id: s.siteId }, s.lastRound);
    },
  });
  new Gauge({
    name: 'site_check_latency_seconds',
    help: "this node's last check of the site: wall time (METRICS_PER_SITE)",
    labelNames: ['site_id'],
    registers,
    collect() {
      refresh();
      this.reset();
      for (const s of shown) {
        const ms = latencyOf(s.siteId);
        if (ms !== undefined) this.set({ site_id: s.siteId }, ms / 1000);
      }
    },
  });
  new Gauge({
    name: 'site_metrics_omitted',
    help: 'sites left out of the per-site families by METRICS_PER_SITE_LIMIT',
    registers,
    collect() {
      refresh();
      this.set(omitted);
    },
  });
}
