/**
 * The embedded adapter of the event port, with Kafka's delivery rules in memory: every group
 * gets each event once, members of a group split the partitions (so one key stays in order),
 * and a throwing handler gets the same event again after a bounded backoff (at-least-once).
 */
import { Logger, LoggerService } from '@nestjs/common';
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

export interface InProcessEventBusOptions {
  /** partitions per topic; keys hash onto them as on Kafka. Default 6. */
  partitions?: number;
  /**
   * Events kept per topic for late or lagging groups. Default 10 000. A group that falls further
   * behind loses the oldest events (logged); the embedded mode trades that for bounded memory.
   */
  historyPerTopic?: number;
  /** Backoff between redeliveries to a throwing handler. Default 250 ms doubling to 10 s. */
  handlerRetry?: { initialMs?: number; maxMs?: number };
  /** Upper bound on close() and Subscription.stop() waiting for running handlers. Default 10 s. */
  closeTimeoutMs?: number;
}

interface StoredEvent {
  key: string;
  /** kept serialised, so every delivery gets its own copy, shaped as it would be by Kafka */
  json: string;
  headers: Record<string, string>;
}

/** One partition's retained events: offsets firstOffset .. nextOffset-1. */
class PartitionLog {
  private readonly events: StoredEvent[] = [];
  firstOffset = 0;

  constructor(private readonly capacity: number) {}

  get nextOffset(): number {
    return this.firstOffset + this.events.length;
  }

  append(event: StoredEvent): void {
    this.events.push(event);
    // Trimmed in chunks so appends stay O(1) amortised.
    const excess = this.events.length - this.capacity;
    if (excess > 0 && excess >= Math.max(1, this.capacity >> 2)) {
      this.events.splice(0, excess);
      this.firstOffset += excess;
    }
  }

  at(offset: number): StoredEvent | undefined {
    return this.events[offset - this.firstOffset];
  }
}

interface Member {
  handler: EventHandler;
  /** a batch member gets every retained event of a partition at once (up to MAX_FETCH) */
  batch?: BatchEventHandler;
  running: Set<Promise<unknown>>;
}

/**
 * Events one batch delivery hands over, like a broker fetch. Without batches a handler that
 * acknowledges on commit (the ping-log writer) sees one event per partition per write, which
 * at a few hundred checks/s fell behind the retained history and lost logs.
 */
export const MAX_FETCH = 1_000;

class Group {
  readonly members: Member[] = [];
  readonly cursors: number[];
  readonly pumping: boolean[];

  constructor(
    readonly name: string,
    readonly topic: TopicKey,
    logs: PartitionLog[],
    fromBeginning: boolean,
  ) {
    this.cursors = logs.map((l) => (fromBeginning ? l.firstOffset : l.nextOffset));
    this.pumping = logs.map(() => false);
  }

  /** Partition p belongs to member p mod n: a stable split, like Kafka's round-robin assignor. */
  owner(partition: number): Member | undefined {
    return this.members.length > 0 ? this.members[partition % this.members.length] : undefined;
  }
}

export class InProcessEventBus extends EventBus {
  private readonly partitions: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly closeTimeoutMs: number;
  private readonly historyPerPartition: number;
  private readonly logs = new Map<TopicKey, PartitionLog[]>();
  private readonly groups = new Map<string, Group>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly sleepers = new Set<() => void>();
  private closing?: Promise<void>;

  constructor(
    options: InProcessEventBusOptions = {},
    private readonly logger: LoggerService = new Logger(InProcessEventBus.name),
  ) {
    super();
    this.partitions = Math.max(1, options.partitions ?? 6);
    this.retry = {
      initialMs: options.handlerRetry?.initialMs ?? 250,
      maxMs: options.handlerRetry?.maxMs ?? 10_000,
    };
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.historyPerPartition = Math.max(
      1,
      Math.ceil((options.historyPerTopic ?? 10_000) / this.partitions),
    );
  }

  async publish(topic: TopicKey, events: OutgoingEvent[]): Promise<void> {
    if (this.closing) throw new Error('event bus is closed');
    // Serialise everything first: a value JSON cannot carry fails the whole call, as on Kafka.
    const stored = events.map((e) => ({
      key: e.key,
      json: JSON.stringify(e.value) ?? 'null',
      headers: { ...e.headers },
    }));
    const logs = this.logsOf(topic);
    const touched = new Set<number>();
    for (const event of stored) {
      const p = partitionOf(event.key, this.partitions);
      logs[p].append(event);
      touched.add(p);
    }
    for (const group of this.groups.values()) {
      if (group.topic !== topic) continue;
      for (const p of touched) this.kick(group, p);
    }
  }

  async subscribe(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: EventHandler,
  ): Promise<Subscription> {
    return this.join(topic, options, { handler, running: new Set() });
  }

  /** What a partition holds past the group's cursor goes to the handler together (MAX_FETCH). */
  override async subscribeBatch(
    topic: TopicKey,
    options: SubscribeOptions,
    handler: BatchEventHandler,
  ): Promise<Subscription> {
    return this.join(topic, options, {
      handler: (event) => handler([event]),
      batch: handler,
      running: new Set(),
    });
  }

  private join(topic: TopicKey, options: SubscribeOptions, member: Member): Subscription {
    if (this.closing) throw new Error('event bus is closed');
    const id = `${topic}\u0000${options.group}`;
    let group = this.groups.get(id);
    if (!group) {
      // An existing group keeps its position, as committed offsets do on Kafka.
      group = new Group(options.group, topic, this.logsOf(topic), options.fromBeginning ?? false);
      this.groups.set(id, group);
    }
    group.members.push(member);
    for (let p = 0; p < this.partitions; p++) this.kick(group, p);

    let stopped: Promise<void> | undefined;
    const g = group;
    return {
      stop: () => {
        stopped ??= (async () => {
          const i = g.members.indexOf(member);
          if (i >= 0) g.members.splice(i, 1);
          // The member's partitions move now; a handler it is running may still finish.
          for (let p = 0; p < this.partitions; p++) this.kick(g, p);
          await this.drain(member.running, `group ${g.name} member stop`);
        })();
        return stopped;
      },
    };
  }

  async health(): Promise<BusHealth> {
    if (this.closing) return { up: false, kind: 'in-process', detail: 'closed' };
    let lag = 0;
    for (const group of this.groups.values()) {
      const logs = this.logsOf(group.topic);
      group.cursors.forEach((c, p) => (lag += logs[p].nextOffset - c));
    }
    return { up: true, kind: 'in-process', detail: `${this.groups.size} group(s), lag ${lag}` };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const wake of this.sleepers) wake();
      await this.drain(this.running, 'close');
    })();
    return this.closing;
  }

  private logsOf(topic: TopicKey): PartitionLog[] {
    let logs = this.logs.get(topic);
    if (!logs) {
      logs = Array.from(
        { length: this.partitions },
        () => new PartitionLog(this.historyPerPartition),
      );
      this.logs.set(topic, logs);
    }
    return logs;
  }

  /** Starts delivering a group's partition unless a delivery loop already runs for it. */
  private kick(group: Group, partition: number): void {
    if (group.pumping[partition] || this.closing) return;
    group.pumping[partition] = true;
    // Deferred so handlers never run inside the publisher's call stack.
    setImmediate(() => {
      void this.pump(group, partition).finally(() => {
        group.pumping[partition] = false;
        // An event may have arrived between the loop's last check and this flag being cleared.
        if (this.hasWork(group, partition)) this.kick(group, partition);
      });
    });
  }

  private hasWork(group: Group, partition: number): boolean {
    const log = this.logsOf(group.topic)[partition];
    return !this.closing && !!group.owner(partition) && group.cursors[partition] < log.nextOffset;
  }

  /** Delivers one partition to its group in offset order; the cursor moves only on success. */
  private async pump(group: Group, partition: number): Promise<void> {
    const log = this.logsOf(group.topic)[partition];
    let attempt = 0;
    while (!this.closing) {
      if (group.cursors[partition] < log.firstOffset) {
        this.logger.warn(
          `group ${group.name} on ${group.topic}[${partition}] fell behind the retained history; ${log.firstOffset - group.cursors[partition]} event(s) dropped`,
        );
        group.cursors[partition] = log.firstOffset;
      }
      const offset = group.cursors[partition];
      const member = group.owner(partition);
      const count = Math.min(member?.batch ? MAX_FETCH : 1, log.nextOffset - offset);
      if (!member || count <= 0) return;
      const events: IncomingEvent[] = [];
      for (let o = offset; o < offset + count; o++) {
        const stored = log.at(o)!;
        events.push({
          topic: group.topic,
          key: stored.key,
          value: JSON.parse(stored.json),
          headers: { ...stored.headers },
          partition,
          offset: String(o),
        });
      }
      try {
        await this.track(
          member,
          Promise.resolve().then(() =>
            member.batch ? member.batch(events) : member.handler(events[0]),
          ),
        );
        group.cursors[partition] = offset + count;
        attempt = 0;
      } catch (err) {
        attempt++;
        const delay = backoff(attempt, this.retry.initialMs, this.retry.maxMs);
        this.logger.warn(
          `handler for ${group.topic}[${partition}]@${offset} in group ${group.name} failed (attempt ${attempt}), redelivering in ${delay} ms: ${errorText(err)}`,
        );
        await this.sleep(delay);
      }
    }
  }

  private track<T>(member: Member, work: Promise<T>): Promise<T> {
    member.running.add(work);
    this.running.add(work);
    const forget = () => {
      member.running.delete(work);
      this.running.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  private async drain(work: Set<Promise<unknown>>, what: string): Promise<void> {
    if (work.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
      timer.unref();
    });
    const settled = Promise.allSettled([...work]).then(() => false);
    const late = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (late) {
      this.logger.warn(
        `${what}: ${work.size} handler(s) still running after ${this.closeTimeoutMs} ms`,
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

/** FNV-1a: cheap, stable across processes, and spreads short ids well. */
function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** Exponential backoff with ±20 % jitter. */
function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
