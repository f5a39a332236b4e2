/**
 * The Kafka adapter of the event port. Guarantees: a publish resolves only once every event is
 * acknowledged by all in-sync replicas, or rejects after a bounded retry budget (never hangs);
 * a consumer commits an offset only after its handler resolved, and a throwing handler gets the
 * same event again after a bounded backoff, in partition order, without crashing the process.
 */
import { Logger, LoggerService } from '@nestjs/common';
import {
  Admin,
  Consumer,
  ConsumerCrashEvent,
  EachBatchPayload,
  EachMessagePayload,
  IHeaders,
  Kafka,
  KafkaJSError,
  KafkaJSProtocolError,
  KafkaMessage,
  LogEntry,
  logLevel,
  Message,
  Partitioners,
  Producer,
} from 'kafkajs';
import {
  BatchEventHandler,
  BusHealth,
  EventBus,
  EventHandler,
  IncomingEvent,
  OutgoingEvent,
  SubscribeOptions,
  Subscription,
  TopicKey,
} from './event-bus.port';

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId: string;
  /** Kafka topic name per logical topic */
  topics: Record<TopicKey, string>;
  /** partitions of a topic created by ensureTopics() */
  partitions: number;
  replicationFactor: number;
  /**
   * How long one publish keeps retrying while the brokers are unreachable before it rejects.
   * Default 60 s: a broker restart (tens of seconds) must not lose an alert, yet a caller must
   * not wait forever. The last attempt can overrun the budget by one request (~10 s at worst).
   */
  publishTimeoutMs?: number;
  /** How long start() retries reaching the brokers before failing the boot. Default 60 s. */
  startupTimeoutMs?: number;
  /** Backoff between redeliveries to a throwing handler. Default 250 ms doubling to 10 s. */
  handlerRetry?: { initialMs?: number; maxMs?: number };
  /** Upper bound on close() and on Subscription.stop(). Default 10 s. */
  closeTimeoutMs?: number;
  /** How long subscribe() waits for the consumer to join and take its position. Default 30 s. */
  subscribeTimeoutMs?: number;
  /** Consumer group session timeout; a dead member's partitions move after this. Default 30 s. */
  sessionTimeoutMs?: number;
}

type Settings = Required<Omit<KafkaEventBusOptions, 'handlerRetry'>> & {
  handlerRetry: { initialMs: number; maxMs: number };
};

const TOPIC_KEYS: readonly TopicKey[] = ['validatorStatus', 'healthLogs', 'healthAlerts'];

export class KafkaEventBus extends EventBus {
  private readonly settings: Settings;
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private topicsReady?: Promise<void>;
  private readonly subscriptions = new Set<KafkaSubscription>();
  /** Publishes run one at a time; see send() for why. */
  private sendTail: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;

  constructor(
    options: KafkaEventBusOptions,
    private readonly logger: LoggerService = new Logger(KafkaEventBus.name),
  ) {
    super();
    if (options.brokers.length === 0) throw new Error('KafkaEventBus needs at least one broker');
    this.settings = {
      ...options,
      publishTimeoutMs: options.publishTimeoutMs ?? 60_000,
      startupTimeoutMs: options.startupTimeoutMs ?? 60_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
      subscribeTimeoutMs: options.subscribeTimeoutMs ?? 30_000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      handlerRetry: {
        initialMs: options.handlerRetry?.initialMs ?? 250,
        maxMs: options.handlerRetry?.maxMs ?? 10_000,
      },
    };
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      // kafkajs' own retries stay short; the time budgets above are enforced around them.
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.logFromKafkajs(entry),
    });
  }

  /** Boot: creates missing topics and connects the producer, retrying up to startupTimeoutMs. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.settings.startupTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ensureTopics();
        await this.connectedProducer();
        this.logger.log(`connected to Kafka at ${this.settings.brokers.join(',')}`);
        return;
      } catch (err) {
        const delay = backoff(attempt, 500, 5_000);
        if (this.closing || Date.now() + delay >= deadline) {
          throw new Error(
            `Kafka at ${this.settings.brokers.join(',')} not usable after ${attempt} attempt(s): ${errorText(err)}`,
            { cause: err },
          );
        }
        this.logger.warn(`Kafka not ready (attempt ${attempt}): ${errorText(err)}`);
        await sleep(delay);
      }
    }
  }

  /** Creates the configured topics that do not exist yet; safe to race with other nodes. */
  async ensureTopics(): Promise<void> {
    const admin = await this.connectedAdmin();
    const wanted = TOPIC_KEYS.map((k) => this.settings.topics[k]);
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // false means another node created them first, which is just as good.
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.settings.partitions,
          replicationFactor: this.settings.replicationFactor,
        })),
      });
      if (created) this.logger.log(`created topics ${missing.join(', ')}`);
    }
    const { topics } = await admin.fetchTopicMetadata({ topics: wanted });
    for (const t of topics) {
      // Adding partitions would move keys to other partitions and break per-key order, so an
      // operator decides that, not the boot sequence.
      if (t.partitions.length < this.settings.partitions) {
        this.logger.warn(
          `topic ${t.name} has ${t.partitions.length} partitions, fewer than the configured ${this.settings.partitions}`,
        );
      }
    }
  }

  async publish(topic: TopicKey, events: OutgoingEvent[]): Promise<void> {
    if (this.closing) throw new Error('event bus is closed');
    if (events.length === 0) return;
    const name = this.settings.topics[topic];
    // Serialised before queueing so a bad value fails this call alone, not the queue.
    const messages: Message[] = events.map((e) => ({
      key: e.key,
      value: JSON.stringify(e.value) ?? 'null',
      headers: e.headers,
    }));
    const deadline = Date.now() + this.settings.publishTimeoutMs;
    // One send at a time. kafkajs hands a failed batch's sequence numbers to the next batch, so
    // a concurrent send could reuse a sequence the broker already holds and be dropped as a
    // duplicate; retrying the same batch before anything else is what keeps sequences honest.
    const run = this.sendTail.then(() => this.send(name, messages, deadline));
    this.sendTail = run.catch(() => undefined);
    return run;
  }

  subscribe(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: EventHandler,
  ): Promise<Subscription> {
    return this.open(topic, options, handler);
  }

  private async open(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: EventHandler,
    batchHandler?: BatchEventHandler,
  ): Promise<Subscription> {
    if (this.closing) throw new Error('event bus is closed');
    await this.topicsEnsuredOnce();
    const sub = new KafkaSubscription(
      this.kafka,
      this.settings,
      this.logger,
      topic,
      this.settings.topics[topic],
      options,
      handler,
      (s) => this.subscriptions.delete(s),
      batchHandler,
    );
    this.subscriptions.add(sub);
    try {
      await sub.start();
    } catch (err) {
      await sub.stop();
      throw err;
    }
    return sub;
  }

  /** kafkajs eachBatch: one handler call per fetched partition batch, offsets committed after it. */
  override subscribeBatch(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: BatchEventHandler,
  ): Promise<Subscription> {
    return this.open(topic, options, (event) => handler([event]), handler);
  }

  async health(): Promise<BusHealth> {
    if (this.closing) return { up: false, kind: 'kafka', detail: 'closed' };
    try {
      const admin = await withTimeout(this.connectedAdmin(), 5_000, 'admin connect');
      const cluster = await withTimeout(admin.describeCluster(), 5_000, 'describeCluster');
      return {
        up: cluster.brokers.length > 0,
        kind: 'kafka',
        detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller ?? 'none'}`,
      };
    } catch (err) {
      return { up: false, kind: 'kafka', detail: errorText(err) };
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const budget = this.settings.closeTimeoutMs;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    // Publishes already queued may finish; new ones are refused above.
    await withTimeout(this.sendTail, budget, 'pending publishes').catch((err) =>
      this.logger.warn(`closing with publishes still pending: ${errorText(err)}`),
    );
    const disconnect = async (client: Promise<Producer | Admin> | undefined, what: string) => {
      if (!client) return;
      try {
        const c = await withTimeout(client, budget, `${what} connect`);
        await withTimeout(c.disconnect(), budget, `${what} disconnect`);
      } catch (err) {
        this.logger.warn(`${what} did not disconnect cleanly: ${errorText(err)}`);
      }
    };
    await Promise.all([disconnect(this.producer, 'producer'), disconnect(this.admin, 'admin')]);
  }

  private async send(topic: string, messages: Message[], deadline: number): Promise<void> {
    const started = Date.now();
    let lastError: unknown = new Error('the publish waited in the queue past its deadline');
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      try {
        await this.topicsEnsuredOnce();
        const producer = await this.connectedProducer();
        await producer.send({ topic, messages, acks: -1 });
        if (attempt > 1) this.logger.log(`published to ${topic} after ${attempt} attempts`);
        return;
      } catch (err) {
        lastError = err;
        // Retrying cannot fix a refusal by the broker (too large, not authorised), and a closing
        // bus should not stretch its shutdown; everything else is worth another try.
        if (this.closing || isRefusedByBroker(err)) break;
        const delay = backoff(attempt, 200, 5_000);
        if (Date.now() + delay >= deadline) break;
        this.logger.warn(
          `publish to ${topic} failed (attempt ${attempt}), retrying in ${delay} ms: ${errorText(err)}`,
        );
        await sleep(delay);
      }
    }
    // The broker may hold the failed batch under sequence numbers kafkajs would reuse for the
    // next one; a fresh producer id makes sure the next batch cannot be mistaken for it.
    await this.resetProducer();
    const ms = Date.now() - started;
    this.logger.error(`publish to ${topic} gave up after ${ms} ms: ${errorText(lastError)}`);
    throw new Error(`publish to ${topic} failed after ${ms} ms: ${errorText(lastError)}`, {
      cause: lastError,
    });
  }

  private connectedProducer(): Promise<Producer> {
    return (this.producer ??= retryable(
      async () => {
        const producer = this.kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
          // An idempotent kafkajs producer defaults to endless retries; send() owns the budget.
          retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
        });
        await producer.connect();
        return producer;
      },
      (failed) => {
        if (this.producer === failed) this.producer = undefined;
      },
    ));
  }

  private async resetProducer(): Promise<void> {
    const pending = this.producer;
    this.producer = undefined;
    try {
      await withTimeout((await pending)?.disconnect() ?? Promise.resolve(), 5_000, 'disconnect');
    } catch {
      // it was never connected, or the broker is gone: nothing left to release
    }
  }

  private connectedAdmin(): Promise<Admin> {
    return (this.admin ??= retryable(
      async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        return admin;
      },
      (failed) => {
        if (this.admin === failed) this.admin = undefined;
      },
    ));
  }

  private topicsEnsuredOnce(): Promise<void> {
    return (this.topicsReady ??= retryable(
      () => this.ensureTopics(),
      (failed) => {
        if (this.topicsReady === failed) this.topicsReady = undefined;
      },
    ));
  }

  /**
   * kafkajs logs transient trouble (a broker restart, a rebalance) at ERROR; this adapter logs
   * the failures that matter itself, so kafkajs' own lines go to warn.
   */
  private logFromKafkajs({ namespace, level, log }: LogEntry): void {
    const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = log;
    if (level > logLevel.WARN) return;
    // Expected: send() enforces a time budget instead of kafkajs' endless idempotent retries.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const detail = Object.keys(extra).length > 0 ? ` ${safeJson(extra)}` : '';
    this.logger.warn(`kafkajs ${namespace}: ${message}${detail}`);
  }
}

/** Thrown out of eachMessage on stop: retriable, so kafkajs leaves the offset uncommitted. */
class SubscriptionStopped extends KafkaJSError {
  constructor() {
    super('subscription stopped before the handler succeeded; the event stays uncommitted', {
      retriable: true,
    });
  }
}

class KafkaSubscription implements Subscription {
  private consumer?: Consumer;
  private stopping = false;
  private stopped?: Promise<void>;
  private restartTimer?: NodeJS.Timeout;
  private restarts = 0;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: Settings,
    private readonly logger: LoggerService,
    private readonly topicKey: TopicKey,
    private readonly topicName: string,
    private readonly options: SubscribeOptions,
    private readonly handler: EventHandler,
    private readonly onStopped: (s: KafkaSubscription) => void,
    /** set: the subscription consumes per fetched batch (eachBatch) */
    private readonly batchHandler?: BatchEventHandler,
  ) {}

  /** Resolves once the member joined its group and took a position (or the wait ran out). */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.group,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(this.settings.sessionTimeoutMs / 3)),
      // Bounds how long stop() waits for an idle long-poll to return.
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(consumer, e));
    // A new group's start offset is looked up at its first fetch; waiting for that fetch means
    // an event published after subscribe() resolved is not skipped by fromBeginning: false.
    const positioned = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.FETCH, () => {
        off();
        resolve();
      });
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.topicName],
      fromBeginning: this.options.fromBeginning ?? false,
    });
    await consumer.run(
      this.batchHandler
        ? {
            partitionsConsumedConcurrently: 1,
            eachBatchAutoResolve: false,
            eachBatch: (payload) => this.onBatch(payload),
          }
        : { partitionsConsumedConcurrently: 1, eachMessage: (payload) => this.onMessage(payload) },
    );
    // stop() may have run while this (re)start was connecting; it must not leave a live member.
    if (this.stopping) {
      await consumer.disconnect();
      return;
    }
    try {
      await withTimeout(positioned, this.settings.subscribeTimeoutMs, 'first fetch');
    } catch {
      this.logger.warn(
        `consumer of ${this.topicName} in group ${this.options.group} has not fetched within ${this.settings.subscribeTimeoutMs} ms; it keeps trying in the background`,
      );
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      clearTimeout(this.restartTimer);
      for (const wake of this.sleepers) wake();
      try {
        await withTimeout(
          this.consumer?.disconnect() ?? Promise.resolve(),
          this.settings.closeTimeoutMs,
          'consumer disconnect',
        );
      } catch (err) {
        this.logger.warn(
          `consumer of ${this.topicName} in group ${this.options.group} did not stop cleanly: ${errorText(err)}`,
        );
      } finally {
        this.onStopped(this);
      }
    })();
    return this.stopped;
  }

  /** A whole fetched batch, retried as one until the handler succeeds; then its offsets commit. */
  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset, commitOffsetsIfNecessary, isRunning, isStale } =
      payload;
    if (batch.messages.length === 0) return;
    const events = batch.messages.map((m) => this.decode(batch.partition, m));
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new SubscriptionStopped();
      // A rebalance took the partition: leave the batch unresolved for its new owner.
      if (!isRunning() || isStale()) return;
      try {
        await this.batchHandler!(events);
        this.restarts = 0;
        break;
      } catch (err) {
        const { initialMs, maxMs } = this.settings.handlerRetry;
        const delay = backoff(attempt, initialMs, maxMs);
        this.logger.warn(
          `batch handler for ${this.topicName}[${batch.partition}]@${batch.firstOffset()}..${batch.lastOffset()} in group ${this.options.group} failed (attempt ${attempt}), redelivering in ${delay} ms: ${errorText(err)}`,
        );
        await this.pauseWithHeartbeats(delay, heartbeat);
      }
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  private async onMessage({ partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const event = this.decode(partition, message);
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new SubscriptionStopped();
      try {
        await this.handler(event);
        this.restarts = 0;
        return;
      } catch (err) {
        const { initialMs, maxMs } = this.settings.handlerRetry;
        const delay = backoff(attempt, initialMs, maxMs);
        this.logger.warn(
          `handler for ${this.topicName}[${partition}]@${message.offset} in group ${this.options.group} failed (attempt ${attempt}), redelivering in ${delay} ms: ${errorText(err)}`,
        );
        await this.pauseWithHeartbeats(delay, heartbeat);
      }
    }
  }

  /**
   * Waits out a backoff while keeping the group membership alive; a rebalance surfaces as a
   * heartbeat error, which is rethrown so kafkajs rejoins and the event goes to the new owner.
   */
  private async pauseWithHeartbeats(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping) {
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1_000));
        this.sleepers.add(done);
      });
      if (!this.stopping) await heartbeat();
    }
  }

  /**
   * kafkajs restarts a consumer after retriable crashes on its own; after any other crash the
   * consumer would stay dead, so it is rebuilt here with a growing delay.
   */
  private onCrash(consumer: Consumer, event: ConsumerCrashEvent): void {
    if (this.stopping || consumer !== this.consumer) return;
    const { error, restart } = event.payload;
    if (restart) {
      this.logger.warn(
        `consumer in group ${this.options.group} crashed, kafkajs restarts it: ${errorText(error)}`,
      );
      return;
    }
    this.scheduleRebuild(consumer, error);
  }

  private scheduleRebuild(consumer: Consumer, reason: unknown): void {
    this.restarts++;
    const delay = backoff(this.restarts, 1_000, 30_000);
    this.logger.error(
      `consumer of ${this.topicName} in group ${this.options.group} stopped: ${errorText(reason)}; rebuilding in ${delay} ms`,
    );
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      void consumer
        .disconnect()
        .catch(() => undefined)
        .then(() => (this.stopping ? undefined : this.start()))
        .catch((err) => {
          if (!this.stopping) this.scheduleRebuild(this.consumer ?? consumer, err);
        });
    }, delay);
  }

  private decode(partition: number, message: KafkaMessage): IncomingEvent {
    const raw = message.value?.toString('utf8') ?? 'null';
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // Handed over as text: the handler's schema check rejects it with a clear error.
      this.logger.warn(`non-JSON value in ${this.topicName}[${partition}]@${message.offset}`);
      value = raw;
    }
    return {
      topic: this.topicKey,
      key: message.key?.toString('utf8') ?? '',
      value,
      headers: decodeHeaders(message.headers),
      partition,
      offset: message.offset,
    };
  }
}

/** Starts a cached attempt; a failed one is forgotten so that the next caller tries again. */
function retryable<T>(attempt: () => Promise<T>, forget: (failed: Promise<T>) => void): Promise<T> {
  const pending = attempt();
  pending.catch(() => forget(pending));
  return pending;
}

function isRefusedByBroker(err: unknown): boolean {
  let root = err;
  while (root instanceof Error && root.cause !== undefined) root = root.cause;
  return root instanceof KafkaJSProtocolError && !root.retriable;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined) continue;
    out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/** Exponential backoff with ±20 % jitter so retrying nodes do not move in lockstep. */
function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserialisable]';
  }
}
