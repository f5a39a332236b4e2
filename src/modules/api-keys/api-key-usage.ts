/**
 * Last-used times, kept to within THROTTLE_MS without one UPDATE per request: a use is
 * remembered in memory and written in one batched statement every FLUSH_MS; a key written
 * less than THROTTLE_MS ago is not written again. At most one row write per key per minute
 * per node, whatever the request rate. Lost on a crash: at most the last FLUSH_MS of uses.
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ApiKeyRepository } from './api-key.repository';

export const THROTTLE_MS = 60_000;
export const FLUSH_MS = 15_000;

export interface UsageStore {
  touch(uses: { id: string; at: Date }[]): Promise<void>;
}

export class UsageRecorder {
  private pending = new Map<string, number>();
  private readonly written = new LRUCache<string, number>({ max: 100_000 });
  /** row writes issued, for tests and the throttling claim */
  writes = 0;

  constructor(
    private readonly store: UsageStore,
    private readonly now: () => number = Date.now,
  ) {}

  used(keyId: string): void {
    const t = this.now();
    const last = this.written.get(keyId);
    if (last !== undefined && t - last < THROTTLE_MS) return;
    this.pending.set(keyId, t);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    for (const [id, t] of batch) this.written.set(id, t);
    this.writes += batch.size;
    await this.store.touch([...batch].map(([id, t]) => ({ id, at: new Date(t) })));
  }
}

@Injectable()
export class ApiKeyUsage implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('ApiKeys');
  readonly recorder: UsageRecorder;
  private timer?: NodeJS.Timeout;

  constructor(repo: ApiKeyRepository) {
    this.recorder = new UsageRecorder(repo);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  used(keyId: string): void {
    this.recorder.used(keyId);
  }

  async flush(): Promise<void> {
    try {
      await this.recorder.flush();
    } catch (e) {
      // The database is briefly unavailable: these uses are not recorded; later ones will be.
      this.log.warn(`could not record API key use: ${(e as Error).message}`);
    }
  }
}
