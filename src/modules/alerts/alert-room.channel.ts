/**
 * The WEBSOCKET channel of an alert: a REGION_DOWN / REGION_RECOVERED event to the site owner's
 * room on every node. With a shared PostgreSQL the event rides a NOTIFY in the transaction that
 * marks the delivery SENT, so it goes out once, exactly when the record commits; with the
 * embedded database (one node) it is emitted locally right after the record.
 */
import { Injectable } from '@nestjs/common';
import { encodeRelayEnvelope, REALTIME_NOTIFY_CHANNEL } from '@/modules/realtime/realtime-relay';
import type { RegionAlertEvent } from '@/modules/realtime/realtime-events';
import { RealtimePublisher } from '@/modules/realtime/realtime.publisher';
import { HealthAlertV1, isRegionKind } from './alert-events';
import { AlertDeliveryRepository, DeliveryClaim } from './alert-delivery.repository';
import type { AlertRecipient } from './alert.repository';

export abstract class AlertRoomChannel {
  /** Marks the claimed delivery SENT and emits the event to the owner's room. */
  abstract deliver(claim: DeliveryClaim, alert: HealthAlertV1, to: AlertRecipient): Promise<void>;
}

export function regionAlertEvent(alert: HealthAlertV1, to: AlertRecipient): RegionAlertEvent {
  if (!isRegionKind(alert.kind) || alert.region === null) {
    throw new Error(`${alert.kind} alerts have no WebSocket message`);
  }
  return {
    alertId: alert.alertId,
    kind: alert.kind,
    siteId: alert.siteId,
    name: to.siteName,
    url: to.siteUrl,
    region: alert.region,
    round: alert.round,
    at: alert.at,
    tally: { up: alert.tally.up, down: alert.tally.down, total: alert.tally.total },
  };
}

/** Shared PostgreSQL: every node's RealtimeRelay hears the NOTIFY. */
@Injectable()
export class NotifyRoomChannel extends AlertRoomChannel {
  constructor(private readonly deliveries: AlertDeliveryRepository) {
    super();
  }

  async deliver(claim: DeliveryClaim, alert: HealthAlertV1, to: AlertRecipient): Promise<void> {
    const event = regionAlertEvent(alert, to);
    const payload = encodeRelayEnvelope({ users: [to.ownerId] }, event.kind, event);
    await this.deliveries.markSent(claim, null, { channel: REALTIME_NOTIFY_CHANNEL, payload });
  }
}

/** Embedded database, one node: this node's connections are all there are. */
@Injectable()
export class LocalRoomChannel extends AlertRoomChannel {
  constructor(
    private readonly deliveries: AlertDeliveryRepository,
    private readonly realtime: RealtimePublisher,
  ) {
    super();
  }

  async deliver(claim: DeliveryClaim, alert: HealthAlertV1, to: AlertRecipient): Promise<void> {
    const event = regionAlertEvent(alert, to);
    if (await this.deliveries.markSent(claim, null)) {
      this.realtime.toUser(to.ownerId, event.kind, event);
    }
  }
}
