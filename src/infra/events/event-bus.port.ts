/**
 * The one event port. Two adapters implement it: Kafka (real brokers) and an
 * in-process bus (embedded mode). Nothing outside src/infra/events knows which
 * one is in use. Delivery is at-least-once: a handler that throws sees the
 * message again, so handlers must be idempotent.
 */

/** Logical topics; the adapter maps them to the configured topic names. */
export type TopicKey = 'validatorStatus' | 'healthLogs' | 'healthAlerts';

export interface OutgoingEvent {
  /** partitioning key: the site id for site events, the validator id for heartbeats */
  key: string;
  /** a versioned JSON payload ({ v: 1, ... }) */
  value: unknown;
  headers?: Record<string, string>;
}

export interface IncomingEvent {
  topic: TopicKey;
  key: string;
  value: unknown;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export type EventHandler = (event: IncomingEvent) => Promise<void>;
/** One fetch's events of one partition, in offset order. */
export type BatchEventHandler = (events: IncomingEvent[]) => Promise<void>;

export interface Subscription {
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  /** consumer group: each group gets every event once; members share partitions */
  group: string;
  /** start from the earliest retained event when the group has no offset yet */
  fromBeginning?: boolean;
}

export interface BusHealth {
  up: boolean;
  kind: 'kafka' | 'in-process';
  detail?: string;
}

export abstract class EventBus {
  /** Resolves once the events are durably accepted (acks=all for Kafka). */
  abstract publish(topic: TopicKey, events: OutgoingEvent[]): Promise<void>;
  abstract subscribe(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: EventHandler,
  ): Promise<Subscription>;
  /**
   * Like subscribe, but hands over what the broker fetched together (one partition's
   * batch, in offset order): all of it is acknowledged once the handler resolves, none
   * of it if the handler throws (then the batch is delivered again). An adapter without
   * fetch batches delivers one event per call.
   */
  subscribeBatch(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: BatchEventHandler,
  ): Promise<Subscription> {
    return this.subscribe(topic, options, (event) => handler([event]));
  }
  abstract health(): Promise<BusHealth>;
  /** Stops consumers, flushes producers. Idempotent. */
  abstract close(): Promise<void>;
}
