/**
 * The projection's AlertSink: every transition of a batch becomes one alert through
 * AlertPublisher (one row per dedup key, then health-alerts), in log order. A batch is
 * published again after a failure; the dedup key makes the repeat harmless.
 */
import type { ProjectionBatch, AlertSink } from '@/core/pipeline/projection.ports';
import { SiteGoneError, type AlertPublisher } from '@/modules/alerts/alert.publisher';
import { isUuid, type SiteDirectory } from './site-directory';

export class ProjectionAlerts implements AlertSink {
  constructor(
    private readonly alerts: AlertPublisher,
    private readonly sites: SiteDirectory,
  ) {}

  async publish(batch: ProjectionBatch): Promise<void> {
    const due = batch.decisions.filter(
      (d) => d.transitions.length > 0 && isUuid(d.decision.siteId),
    );
    // The hub attaches each decision's URL; only one without it needs a read.
    const infos = await this.sites.getMany(
      due.filter((d) => d.decision.url === undefined).map((d) => d.decision.siteId),
    );
    for (const d of due) {
      const url = d.decision.url ?? infos.get(d.decision.siteId)?.url;
      if (url === undefined) continue; // the site is gone: nothing to alert about
      for (const t of d.transitions) {
        try {
          await this.alerts.publish({
            siteId: t.siteId,
            url,
            kind: t.kind,
            region: t.region,
            round: t.round,
            decisionLogIndex: d.index,
            tally: {
              up: t.tally.up,
              down: t.tally.down,
              total: t.tally.total,
              quorum: t.tally.quorum,
              byRegion: { ...t.tally.byRegion },
            },
            at: t.at,
          });
        } catch (e) {
          if (!(e instanceof SiteGoneError)) throw e;
        }
      }
    }
  }
}
