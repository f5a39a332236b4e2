// One delivery attempt and one consumed message, with the database, SMTP and rooms faked: what
// is claimed, sent, recorded, released (and for how long) or given up, and when a message is
// skipped as poison or handed back to the broker.
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@/config/app-config';
import { MailSender, MailSendError, OutgoingMail, SentMail } from '@/infra/mail/mail-sender';
import { AlertDeliverer } from '@/modules/alerts/alert-deliverer';
import type {
  AlertDeliveryRepository,
  ClaimResult,
  DeliveryClaim,
} from '@/modules/alerts/alert-delivery.repository';
import { alertDedupKey, HealthAlertV1 } from '@/modules/alerts/alert-events';
import { AlertMetrics } from '@/modules/alerts/alert-metrics';
import type { AlertRoomChannel } from '@/modules/alerts/alert-room.channel';
import { AlertConsumer, AlertConsumerStopping, channelsFor } from '@/modules/alerts/alert.consumer';
import type { AlertRepository, StoredAlert } from '@/modules/alerts/alert.repository';
import { NotifyFanout } from '@/modules/notifications/delivery/notify-fanout';
import { AlertsTimings } from '@/modules/alerts/alerts.timings';

beforeAll(() => Logger.overrideLogger(false));

const alertOf = (over: Partial<HealthAlertV1> = {}): HealthAlertV1 => {
  const base = {
    v: 1 as const,
    alertId: randomUUID(),
    siteId: randomUUID(),
    url: 'https://x.example',
    kind: 'REGION_DOWN' as const,
    region: 'eu' as string | null,
    round: 3,
    decisionLogIndex: 30,
    tally: { up: 2, down: 1, total: 3 },
    at: new Date().toISOString(),
    ...over,
  };
  return { ...base, dedupKey: alertDedupKey(base) };
};
const to = {
  siteId: 's',
  siteName: 'S',
  siteUrl: 'https://x.example',
  ownerId: 'u',
  ownerEmail: 'o@x.example',
};
const config = { mail: { publicUrl: 'https://p.example', from: 'a@x.example' } } as AppConfig;

class FakeDeliveries {
  claims: ClaimResult[] = [];
  log: unknown[][] = [];
  failMarkSent = 0;
  async claim(alertId: string, channel: 'EMAIL' | 'WEBSOCKET'): Promise<ClaimResult> {
    return (
      this.claims.shift() ?? {
        state: 'claimed',
        claim: { id: 'd1', alertId, channel, attempt: 1, leaseUntil: new Date() },
      }
    );
  }
  async markSent(claim: DeliveryClaim, messageId: string | null) {
    this.log.push(['markSent', claim.channel, messageId]);
    if (this.failMarkSent-- > 0) throw new Error('connection terminated');
    return true;
  }
  async release(_c: DeliveryClaim, error: string, delay: number, keepLease = false) {
    this.log.push(['release', error, delay, keepLease]);
  }
  async markFailed(_c: DeliveryClaim, error: string) {
    this.log.push(['markFailed', error]);
  }
  async ensure(alertId: string, channels: string[]) {
    this.log.push(['ensure', alertId, channels]);
  }
}

class FakeMail extends MailSender {
  readonly delivers = true;
  sent: OutgoingMail[] = [];
  failures: Error[] = [];
  async send(mail: OutgoingMail): Promise<SentMail> {
    const f = this.failures.shift();
    if (f) throw f;
    this.sent.push(mail);
    return { messageId: mail.messageId, response: '250 ok' };
  }
}

function setup(timings: Partial<AlertsTimings> = {}) {
  const deliveries = new FakeDeliveries();
  const mail = new FakeMail();
  const rooms: unknown[] = [];
  const room = {
    deliver: async (c: DeliveryClaim) => void rooms.push(c.alertId),
  } as AlertRoomChannel;
  const metrics = new AlertMetrics();
  const t = AlertsTimings.with({ retryInitialMs: 1_000, retryMaxMs: 30_000, ...timings });
  const deliverer = new AlertDeliverer(
    deliveries as unknown as AlertDeliveryRepository,
    mail,
    room,
    config,
    t,
    metrics,
  );
  return { deliveries, mail, rooms, metrics, deliverer, timings: t };
}

const stored = (a = alertOf()): StoredAlert => ({ id: a.alertId, payload: a });

describe('AlertDeliverer', () => {
  it('claims, sends and records SENT with the Message-ID', async () => {
    const { deliverer, mail, deliveries } = setup();
    const a = stored();
    expect(await deliverer.deliver(a, 'EMAIL', to)).toBe('sent');
    expect(mail.sent).toHaveLength(1);
    expect(deliveries.log).toEqual([['markSent', 'EMAIL', `<alert-${a.id}@x.example>`]]);
  });

  it('skips a delivery already SENT: a redelivery sends nothing', async () => {
    const { deliverer, mail, deliveries, metrics } = setup();
    deliveries.claims.push({ state: 'sent' });
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('already-sent');
    expect(mail.sent).toEqual([]);
    expect(metrics.snapshot()).toEqual({ 'EMAIL.already-sent': 1 });
  });

  it('leaves a leased or waiting delivery to its holder', async () => {
    const { deliverer, mail, deliveries } = setup();
    deliveries.claims.push({ state: 'busy' });
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('busy');
    expect(mail.sent).toEqual([]);
  });

  it('gives a never-sent failure back with a backoff', async () => {
    const { deliverer, mail, deliveries } = setup();
    mail.failures.push(new MailSendError('transient', 'connect ECONNREFUSED'));
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('retry');
    const [[op, error, delay, keepLease]] = deliveries.log as [string, string, number, boolean][];
    expect([op, error, keepLease]).toEqual(['release', 'connect ECONNREFUSED', false]);
    expect(delay).toBeGreaterThanOrEqual(800);
    expect(delay).toBeLessThanOrEqual(1_200);
  });

  it('keeps the lease when the server may have accepted the message', async () => {
    const { deliverer, mail, deliveries } = setup();
    mail.failures.push(new MailSendError('ambiguous', 'socket closed during DATA'));
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('retry');
    expect(deliveries.log[0][3]).toBe(true);
  });

  it('gives up on a permanent refusal', async () => {
    const { deliverer, mail, deliveries } = setup();
    mail.failures.push(new MailSendError('permanent', '550 no such user'));
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('failed');
    expect(deliveries.log).toEqual([['markFailed', '550 no such user']]);
  });

  it('keeps trying to record an accepted e-mail instead of sending it again', async () => {
    const { deliverer, mail, deliveries } = setup();
    deliveries.failMarkSent = 2;
    expect(await deliverer.deliver(stored(), 'EMAIL', to)).toBe('sent');
    expect(mail.sent).toHaveLength(1);
    expect(deliveries.log.filter((l) => l[0] === 'markSent')).toHaveLength(3);
  });

  it('sends the WEBSOCKET channel through the room channel', async () => {
    const { deliverer, rooms, mail } = setup();
    const a = stored();
    expect(await deliverer.deliver(a, 'WEBSOCKET', to)).toBe('sent');
    expect(rooms).toEqual([a.id]);
    expect(mail.sent).toEqual([]);
  });
});

describe('AlertConsumer', () => {
  function consumer(alerts: Partial<AlertRepository>, timings: Partial<AlertsTimings> = {}) {
    const s = setup({ dbRetryMaxMs: 20, ...timings });
    const c = new AlertConsumer(
      alerts as AlertRepository,
      s.deliveries as unknown as AlertDeliveryRepository,
      s.deliverer,
      s.timings,
      s.metrics,
      // No notification channels in these cases: the fan-out holds nothing and sends nothing.
      {
        holdIfInMaintenance: async () => false,
        prepare: async () => [],
        dispatch: async () => undefined,
      } as unknown as NotifyFanout,
    );
    return { ...s, consumer: c };
  }
  const repoFor = (a: HealthAlertV1): Partial<AlertRepository> => ({
    record: async () => ({ stored: stored(a), to }),
  });

  it('skips and counts an invalid payload without touching the database', async () => {
    const insert = jest.fn();
    const { consumer: c, metrics } = consumer({ record: insert });
    await c.handle({ v: 1, kind: 'DOWN' }, { origin: 't[0]@1' });
    await c.handle('garbage', { origin: 't[0]@2' });
    expect(insert).not.toHaveBeenCalled();
    expect(metrics.snapshot()).toEqual({ 'consumed.poison': 2 });
  });

  it('retries while the database is unreachable, heartbeating, then delivers', async () => {
    const a = alertOf();
    let calls = 0;
    const heartbeat = jest.fn(async () => undefined);
    const {
      consumer: c,
      mail,
      metrics,
    } = consumer({
      ...repoFor(a),
      record: async () => {
        if (++calls < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        return { stored: stored(a), to };
      },
    });
    await c.handle(a, { origin: 'o', heartbeat });
    expect(calls).toBe(3);
    expect(heartbeat).toHaveBeenCalled();
    expect(mail.sent).toHaveLength(1);
    expect(metrics.snapshot()['consumed.handled']).toBe(1);
  });

  it('skips a message whose processing fails for another reason after a few tries', async () => {
    const a = alertOf();
    const { consumer: c, metrics } = consumer({
      record: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    await c.handle(a, { origin: 'o' });
    expect(metrics.snapshot()).toEqual({ 'consumed.poison': 1 });
  });

  it('gives the message back when stopping while the database is down', async () => {
    const a = alertOf();
    const { consumer: c } = consumer(
      {
        record: async () => Promise.reject(new Error('Connection terminated unexpectedly')),
      },
      { dbRetryMaxMs: 60_000 },
    );
    const handled = c.handle(a, { origin: 'o' });
    setTimeout(() => c.onModuleDestroy(), 50);
    await expect(handled).rejects.toBeInstanceOf(AlertConsumerStopping);
  });

  it('records both channels for a region alert and attempts them in order', async () => {
    const a = alertOf();
    const { consumer: c, deliveries, rooms, mail } = consumer(repoFor(a));
    await c.handle(a, { origin: 'o' });
    expect(deliveries.log[0]).toEqual(['ensure', a.alertId, ['EMAIL', 'WEBSOCKET']]);
    expect(mail.sent).toHaveLength(1);
    expect(rooms).toEqual([a.alertId]);
  });

  it('does not deliver an alert older than its channel’s age limit', () => {
    const t = new AlertsTimings();
    const now = Date.now();
    const at = (ageMs: number) => new Date(now - ageMs).toISOString();
    expect(channelsFor(alertOf({ at: at(1_000) }), now, t)).toEqual(['EMAIL', 'WEBSOCKET']);
    expect(channelsFor(alertOf({ at: at(3_600_000) }), now, t)).toEqual(['EMAIL']);
    expect(channelsFor(alertOf({ at: at(2 * 86_400_000) }), now, t)).toEqual([]);
    expect(channelsFor(alertOf({ kind: 'DOWN', region: null }), now, t)).toEqual(['EMAIL']);
  });
});
