/**
 * Per-channel queues of notification attempts in this process: one attempt at a time per
 * channel (in the order submitted), many channels at once up to a bound. A channel that hangs
 * or fails holds up only its own lane, never another channel's or another site's. The queue is
 * bounded: past the limit a submission is deferred (the row stays PENDING in the database and
 * a later sweep submits it again), so a flood cannot grow memory.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { AttemptOutcome } from '@/modules/alerts/alert-metrics';
import { AlertsTimings } from '@/modules/alerts/alerts.timings';
import { NotifyDeliverer } from './notify-deliverer';

const MAX_QUEUED = 10_000;

export type LaneOutcome = AttemptOutcome | 'deferred';

interface Lane {
  tail: Promise<unknown>;
  size: number;
}

@Injectable()
export class NotifyLanes {
  private readonly log = new Logger('NotifyLanes');
  private readonly lanes = new Map<string, Lane>();
  private readonly queued = new Map<string, Promise<LaneOutcome>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly deliverer: NotifyDeliverer,
    private readonly timings: AlertsTimings,
  ) {}

  /** Queues one attempt of a delivery on its channel's lane; the same promise if already queued. */
  submit(channelId: string, deliveryId: string): Promise<LaneOutcome> {
    const existing = this.queued.get(deliveryId);
    if (existing) return existing;
    if (this.stopped || this.queued.size >= MAX_QUEUED) return Promise.resolve('deferred');
    let lane = this.lanes.get(channelId);
    if (!lane) {
      lane = { tail: Promise.resolve(), size: 0 };
      this.lanes.set(channelId, lane);
    }
    const l = lane;
    const p = l.tail.then(() => this.run(deliveryId));
    l.tail = p;
    l.size++;
    this.queued.set(deliveryId, p);
    const done = () => {
      this.queued.delete(deliveryId);
      if (--l.size === 0 && this.lanes.get(channelId) === l) this.lanes.delete(channelId);
    };
    void p.then(done, done);
    return p;
  }

  /** Attempts queued or running. */
  get size(): number {
    return this.queued.size;
  }

  /** Stops taking work and waits for what is queued (each attempt is bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.queued.values()]);
  }

  private async run(deliveryId: string): Promise<LaneOutcome> {
    if (this.stopped) return 'deferred';
    await this.acquire();
    try {
      return await this.deliverer.deliver(deliveryId);
    } catch (err) {
      // The database failed: the row keeps its lease (or backoff) and a later sweep retries it.
      this.log.warn(`notification ${deliveryId} left to retry: ${(err as Error).message}`);
      return 'retry';
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.timings.notifyConcurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
