/**
 * Deletes raw ping logs older than PING_LOG_RETENTION_DAYS, in bounded batches so a
 * large backlog never holds long locks or one huge transaction. Rollups are kept: the
 * summaries of old periods come from them. Every node may run it; deletes are idempotent.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { PingLogRepository } from './ping-log.repository';

export interface RetentionOptions {
  /** rows per DELETE */
  batchSize: number;
  /** DELETEs per run; the rest waits for the next run */
  maxBatchesPerRun: number;
  /** pause between two DELETEs, so writers and readers get the database in between */
  pauseMs: number;
  /** time between runs */
  everyMs: number;
  /** delay of the first run after boot */
  firstRunMs: number;
}

export const DEFAULT_RETENTION_OPTIONS: RetentionOptions = {
  batchSize: 5_000,
  maxBatchesPerRun: 200,
  pauseMs: 50,
  everyMs: 60 * 60_000,
  firstRunMs: 60_000,
};

@Injectable()
export class PingLogRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(PingLogRetention.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;
  readonly options: RetentionOptions = { ...DEFAULT_RETENTION_OPTIONS };

  constructor(
    private readonly logs: PingLogRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(this.options.firstRunMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Deletes what is past retention at `now`; returns the number of rows deleted. */
  runOnce(now: number = Date.now()): Promise<number> {
    this.running ??= this.purge(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((e: unknown) => this.log.warn(`ping log retention failed: ${(e as Error).message}`))
        .finally(() => this.schedule(this.options.everyMs));
    }, delayMs);
    this.timer.unref();
  }

  private async purge(now: number): Promise<number> {
    const cutoff = new Date(now - this.config.db.pingLogRetentionDays * 86_400_000);
    const { batchSize, maxBatchesPerRun, pauseMs } = this.options;
    let total = 0;
    for (let i = 0; i < maxBatchesPerRun && !this.stopped; i++) {
      const n = await this.logs.deleteCheckedBefore(cutoff, batchSize);
      total += n;
      if (n < batchSize) break;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    if (total > 0) {
      this.log.log(`deleted ${total} ping log(s) checked before ${cutoff.toISOString()}`);
    }
    return total;
  }
}
