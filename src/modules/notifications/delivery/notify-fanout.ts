/**
 * Where an alert meets the notification channels, called by the alert consumer before the
 * offset may be committed: decides whether a maintenance window holds the alert, creates its
 * delivery rows for every routed channel, and hands them to the channels' lanes. By default the
 * consumer does not wait for the attempts (the rows are durable before the lanes see them); with
 * a budget it waits at most that long, and only for channels without a failure streak, so a
 * failing or hanging channel never holds up the topic; its rows are the sweeper's from then on.
 */
import { Injectable } from '@nestjs/common';
import type { AlertKind, HealthAlertV1 } from '@/modules/alerts/alert-events';
import type { StoredAlert } from '@/modules/alerts/alert.repository';
import { AlertsTimings } from '@/modules/alerts/alerts.timings';
import { AlertHoldRepository } from '../maintenance/alert-hold.repository';
import { activeAt } from '../maintenance/maintenance-schedule';
import { MaintenanceRepository } from '../maintenance/maintenance.repository';
import { NotifyClock } from '../notify-clock';
import { NotifyDeliveryRepository, PendingNotify } from './notify-delivery.repository';
import { NotifyLanes } from './notify-lanes';

const OPENED_BY: Partial<Record<AlertKind, AlertKind>> = {
  RECOVERED: 'DOWN',
  REGION_RECOVERED: 'REGION_DOWN',
};

@Injectable()
export class NotifyFanout {
  constructor(
    private readonly deliveries: NotifyDeliveryRepository,
    private readonly lanes: NotifyLanes,
    private readonly holds: AlertHoldRepository,
    private readonly windows: MaintenanceRepository,
    private readonly clock: NotifyClock,
    private readonly timings: AlertsTimings,
  ) {}

  /**
   * True when the alert is held: it was held before, or it is new and its verdict time falls in
   * one of the site's maintenance windows. Decided by the alert's own time, so a redelivery
   * decides the same way; an alert already being delivered is never held afterwards.
   */
  async holdIfInMaintenance(stored: StoredAlert): Promise<boolean> {
    const windows = await this.windows.forSite(stored.payload.siteId);
    if (windows.length === 0) return false;
    const state = await this.holds.stateOf(stored.id);
    if (state !== 'new') return state === 'held';
    const active = activeAt(windows, Date.parse(stored.payload.at));
    if (!active) return false;
    await this.holds.hold(stored.id, stored.payload.siteId, active.window.id, this.clock.now());
    return true;
  }

  /** Creates the alert's delivery rows (idempotent); returns those still pending. */
  async prepare(
    stored: StoredAlert,
    options: { ignoreAge?: boolean } = {},
  ): Promise<PendingNotify[]> {
    const a = stored.payload;
    const now = this.clock.now();
    if (!options.ignoreAge && now - Date.parse(a.at) > this.timings.notifyMaxAgeMs) return [];
    const pending = await this.deliveries.ensureForAlert(
      {
        alertId: stored.id,
        siteId: a.siteId,
        kind: a.kind,
        round: a.round,
        incidentKey: await this.incidentKey(a),
      },
      now,
    );
    if (a.kind === 'RECOVERED') await this.deliveries.cancelReminders(a.siteId, a.round, now);
    return pending;
  }

  /** Submits every row to its lane; waits for the healthy channels' attempts, at most the budget. */
  async dispatch(
    pending: readonly PendingNotify[],
    budgetMs = this.timings.notifyInlineBudgetMs,
  ): Promise<void> {
    const waitFor: Promise<unknown>[] = [];
    for (const p of pending) {
      const attempt = this.lanes.submit(p.channelId, p.id);
      if (p.healthy) waitFor.push(attempt);
    }
    if (waitFor.length === 0 || budgetMs <= 0) return;
    if (!Number.isFinite(budgetMs)) {
      await Promise.all(waitFor);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, budgetMs);
      timer.unref();
    });
    await Promise.race([Promise.all(waitFor), budget]);
    clearTimeout(timer);
  }

  /** site:region:round of the DOWN that opened the incident (the RECOVERED's own round if none). */
  async incidentKey(a: HealthAlertV1): Promise<string> {
    const opener = OPENED_BY[a.kind];
    const round = opener
      ? ((await this.deliveries.openingRound(a.siteId, opener, a.region, a.round)) ?? a.round)
      : a.round;
    return `${a.siteId}:${a.region ?? '*'}:${round}`;
  }
}
