/**
 * Consumes the health-logs topic into ping_logs and the rollups. Each event is
 * acknowledged only after the batch holding it has committed (at-least-once); the
 * (website, round, validator) key makes a redelivery a no-op. Over Kafka the topic is
 * consumed per fetched batch (eachBatch): one batch, one transaction, one multi-row
 * statement. Otherwise batching is group commit: events that arrive while a write is
 * in flight go together in the next one.
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EventBus, IncomingEvent, Subscription } from '@/infra/events/event-bus.port';
import { healthLogSchema } from './health-log.schema';
import { PingLogRepository, PingLogRow } from './ping-log.repository';

export const PING_LOG_WRITER_GROUP = 'ping-log-writer';

/** rows per transaction: a Kafka fetch (1 MB per partition) holds ~2,500 health logs */
export const MAX_BATCH = 5_000;
/**
 * A small batch waits this long for more rows before it is written (like a producer's
 * linger): each statement costs PostgreSQL and this node far more than its rows do, and
 * one log per check would otherwise be written in tens of tiny transactions per second.
 */
export const LINGER_MS = 500;
/** a batch this large is written at once, without lingering (a Kafka fetch, a backlog) */
const FLUSH_AT = 500;
/** A log this far in the future comes from a broken clock; its rollup bucket would lie. */
const MAX_FUTURE_MS = 5 * 60_000;
/**
 * Logs older than the raw retention minus this margin are refused: their raw row may be
 * gone already, and re-inserting it would count the check into the rollups twice.
 */
const RETENTION_MARGIN_MS = 60 * 60_000;

export type DropReason = 'invalid' | 'stale' | 'future' | 'unknownSite' | 'unstorable';

export interface PingLogWriterStats {
  received: number;
  inserted: number;
  duplicates: number;
  dropped: Record<DropReason, number>;
  batches: number;
  failedBatches: number;
}

interface Pending {
  row: PingLogRow;
  done: () => void;
  fail: (e: unknown) => void;
}

@Injectable()
export class PingLogWriter implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(PingLogWriter.name);
  private subscription?: Subscription;
  private queue: Pending[] = [];
  private flushing?: Promise<void>;
  /** a write waiting for more rows, or one due on the next turn */
  private linger?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private stopping = false;
  private readonly lastWarnAt = new Map<string, number>();
  private readonly counters: PingLogWriterStats = {
    received: 0,
    inserted: 0,
    duplicates: 0,
    dropped: { invalid: 0, stale: 0, future: 0, unknownSite: 0, unstorable: 0 },
    batches: 0,
    failedBatches: 0,
  };

  constructor(
    private readonly bus: EventBus,
    private readonly logs: PingLogRepository,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await this.bus.subscribeBatch(
      'healthLogs',
      { group: PING_LOG_WRITER_GROUP, fromBeginning: true },
      (events) => this.handleBatch(events),
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.subscription?.stop();
    // What lingers is written now, not dropped with the timer.
    while (this.flushing || this.queue.length > 0) {
      this.start();
      await this.flushing;
    }
  }

  stats(): PingLogWriterStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** The bus handler: resolves once the event is stored or deliberately dropped. */
  handle(event: IncomingEvent): Promise<void> {
    return this.write(event.value);
  }

  /**
   * A fetched batch: every event joins the queue in this turn, so (up to MAX_BATCH)
   * they are written by one statement in one transaction; rejects if that write fails.
   */
  async handleBatch(events: readonly IncomingEvent[]): Promise<void> {
    await Promise.all(events.map((e) => this.write(e.value)));
  }

  /** Validates and stores one health-log payload; rejects only on a retriable fault. */
  write(payload: unknown, now: number = Date.now()): Promise<void> {
    this.counters.received++;
    const parsed = healthLogSchema.safeParse(payload);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') || '(payload)';
      this.drop('invalid', `invalid health log (${where}: ${parsed.error.issues[0]?.message})`);
      return Promise.resolve();
    }
    const p = parsed.data;
    const checkedAt = Date.parse(p.checkedAt);
    if (checkedAt > now + MAX_FUTURE_MS) {
      this.drop('future', `health log of ${p.siteId} dated ${p.checkedAt}, in the future`);
      return Promise.resolve();
    }
    const horizon = now - this.config.db.pingLogRetentionDays * 86_400_000 + RETENTION_MARGIN_MS;
    if (checkedAt < horizon) {
      this.drop('stale', `health log of ${p.siteId} dated ${p.checkedAt}, past raw retention`);
      return Promise.resolve();
    }
    const row: PingLogRow = {
      websiteId: p.siteId.toLowerCase(),
      validatorId: p.validatorId,
      region: p.region,
      round: p.round,
      up: p.up,
      latencyMs: p.latencyMs,
      httpStatus: p.httpStatus,
      failure: p.failure,
      error: p.error,
      phases: p.phases,
      checkedAt: new Date(checkedAt).toISOString(),
    };
    return new Promise<void>((done, fail) => {
      this.queue.push({ row, done, fail });
      this.kick();
    });
  }

  /**
   * Starts a write unless one is running (that one re-kicks when done): on the next turn
   * once FLUSH_AT rows wait, else LINGER_MS after the first of them arrived.
   */
  private kick(): void {
    if (this.flushing || this.immediate) return;
    if (this.queue.length < FLUSH_AT && !this.stopping) {
      this.linger ??= setTimeout(() => this.start(), LINGER_MS);
      return;
    }
    clearTimeout(this.linger);
    this.linger = undefined;
    // setImmediate lets events delivered in the same turn (other partitions) join the batch.
    this.immediate = setImmediate(() => this.start());
  }

  /** Writes the next batch now, unless a write is running; the write re-kicks for the rest. */
  private start(): void {
    clearTimeout(this.linger);
    clearImmediate(this.immediate);
    this.linger = undefined;
    this.immediate = undefined;
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    this.counters.batches++;
    try {
      this.settle(batch, await this.logs.insertBatch(batch.map((p) => p.row)));
      return;
    } catch (e) {
      this.counters.failedBatches++;
      if (batch.length === 1 || !isDataError(e)) {
        return this.failOrDrop(batch, e);
      }
    }
    // Some row is unstorable: write one by one so only that row is dropped.
    for (const p of batch) {
      try {
        this.settle([p], await this.logs.insertBatch([p.row]));
      } catch (e) {
        this.failOrDrop([p], e);
      }
    }
  }

  private settle(batch: Pending[], outcome: { inserted: number; unknownSite: number }): void {
    this.counters.inserted += outcome.inserted;
    this.counters.duplicates += batch.length - outcome.inserted - outcome.unknownSite;
    if (outcome.unknownSite > 0) {
      this.drop(
        'unknownSite',
        `${outcome.unknownSite} health log(s) for unknown sites`,
        outcome.unknownSite,
      );
    }
    for (const p of batch) p.done();
  }

  /** A data error on a single row drops it; anything else is retried by redelivery. */
  private failOrDrop(batch: Pending[], e: unknown): void {
    if (batch.length === 1 && isDataError(e)) {
      this.drop(
        'unstorable',
        `health log of ${batch[0].row.websiteId} cannot be stored: ${errorText(e)}`,
      );
      batch[0].done();
      return;
    }
    this.warn('write', `writing ${batch.length} ping log(s) failed, will retry: ${errorText(e)}`);
    for (const p of batch) p.fail(e);
  }

  private drop(reason: DropReason, message: string, count = 1): void {
    this.counters.dropped[reason] += count;
    this.warn(reason, `${message}; dropped (${this.counters.dropped[reason]} ${reason} so far)`);
  }

  /** At most one line per kind every 10 s: a flood of bad events must not flood the log. */
  private warn(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarnAt.get(kind) ?? 0) < 10_000) return;
    this.lastWarnAt.set(kind, now);
    this.log.warn(message);
  }
}

/** SQLSTATE of a failed raw query, as Prisma's driver adapter reports it. */
export function sqlStateOf(e: unknown): string | undefined {
  const meta = (e as { meta?: Record<string, unknown> } | null)?.meta;
  const adapter = meta?.driverAdapterError as { cause?: { originalCode?: unknown } } | undefined;
  const code = adapter?.cause?.originalCode ?? meta?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Errors a given row causes whatever the retry (bad value, constraint), as opposed to
 * faults of the moment (connection, deadlock, a site deleted mid-write: 23503).
 */
function isDataError(e: unknown): boolean {
  const state = sqlStateOf(e);
  if (!state || state === '23503') return false;
  return state.startsWith('22') || state.startsWith('23');
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.trim().split('\n').pop() ?? text;
}
