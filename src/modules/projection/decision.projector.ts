/**
 * Runs the pure Projection (core/pipeline) with real IO: the committed Raft log, the
 * database (PrismaProjectionStore) and the alerts (ProjectionAlerts). One loop per node:
 * as leader it projects; as follower it keeps the compaction floor fresh. It never
 * blocks Raft: commits only wake it.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Projection, type ProjectionStats, type ProjectionStep } from '@/core/pipeline/projection';
import type { AlertSink, CommittedLog } from '@/core/pipeline/projection.ports';
import { PrismaProjectionStore } from './projection.store';

export type ProjectorStats = ProjectionStats;

/**
 * A commit that holds no decision (a kv write, a site command) only moves the cursor:
 * it wakes the loop this much later, so a stream of them costs one transaction per
 * interval instead of one per commit on the leader.
 */
const CURSOR_ONLY_WAKE_MS = 100;

@Injectable()
export class DecisionProjector implements OnModuleDestroy {
  private readonly log = new Logger('DecisionProjector');
  private core: Projection | null = null;
  private alerts: AlertSink | null = null;
  private stopped = false;
  /** wakes an idle loop (a commit); a sleeping one only on a leadership change */
  private wakeIdle: (() => void) | null = null;
  private wakeSleep: (() => void) | null = null;
  private laterTimer: NodeJS.Timeout | null = null;
  /** the step under way and since when (epoch ms), for GET /api/consensus/status */
  readonly current = { step: 'none', since: 0 };

  constructor(private readonly store: PrismaProjectionStore) {}

  /** Starts the loop over this node's committed log (as a follower until lead()). */
  start(log: CommittedLog, alerts: AlertSink | null): void {
    this.core = new Projection(log);
    this.alerts = alerts;
    void this.run();
  }

  get stats(): ProjectorStats {
    return this.core?.stats ?? { projected: 0, batches: 0, failures: 0, lastIndex: null, lost: [] };
  }

  /** The highest projected index this node knows of: its log must not be compacted past it. */
  floor(): number {
    return this.core?.floor() ?? 0;
  }

  leadershipChanged(leading: boolean): void {
    if (!this.core || leading === this.core.isLeading) return;
    if (leading) this.core.lead();
    else this.core.follow();
    this.wakeSleep?.();
    this.wakeIdle?.();
  }

  /** Something was committed; `decisions`: it holds some, so the loop wakes at once. */
  kick(decisions = true): void {
    if (decisions) return this.wakeIdle?.();
    if (this.laterTimer) return;
    this.laterTimer = setTimeout(() => {
      this.laterTimer = null;
      this.wakeIdle?.();
    }, CURSOR_ONLY_WAKE_MS);
    this.laterTimer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.laterTimer) clearTimeout(this.laterTimer);
    this.wakeSleep?.();
    this.wakeIdle?.();
  }

  private async run(): Promise<void> {
    const core = this.core!;
    while (!this.stopped) {
      let step: ProjectionStep | null = null;
      try {
        step = core.next(Date.now());
        this.current.step = step.kind;
        this.current.since = Date.now();
        await this.perform(core, step);
      } catch (e) {
        if (step?.kind === 'read-cursor' || step?.kind === 'publish' || step?.kind === 'write') {
          const delay = core.failed(step.epoch, Date.now());
          if (core.isLeading)
            this.log.warn(`projection ${step.kind} failed, retrying in ${delay} ms: ${text(e)}`);
        } else {
          // Not an IO failure (a bug or a bad snapshot image): never spin on it.
          this.log.error(`projection step ${step?.kind ?? 'next'} failed: ${text(e)}`);
          await this.wait('sleep', Date.now() + 1_000);
        }
      }
    }
  }

  private async perform(core: Projection, step: ProjectionStep): Promise<void> {
    switch (step.kind) {
      case 'idle':
        return this.wait('idle', null);
      case 'sleep':
        return this.wait('sleep', step.until);
      case 'continue':
        return new Promise((r) => setImmediate(r));
      case 'lost':
        this.log.error(
          `decisions ${step.from}..${step.to} were committed but are no longer in the log: ` +
            `not projected (the compaction floor did not hold)`,
        );
        return;
      case 'read-cursor':
        return core.cursorRead(step.epoch, await this.store.readCursor(), Date.now());
      case 'publish':
        if (this.alerts) await this.alerts.publish(step.batch);
        return core.published(step.epoch);
      case 'write':
        await this.store.write(step.batch);
        return core.written(step.epoch);
    }
  }

  private wait(kind: 'idle' | 'sleep', until: number | null): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => {
        if (timer) clearTimeout(timer);
        if (kind === 'idle') this.wakeIdle = null;
        else this.wakeSleep = null;
        resolve();
      };
      if (until !== null) {
        timer = setTimeout(done, Math.max(0, until - Date.now()));
        timer.unref();
      }
      if (kind === 'idle') this.wakeIdle = done;
      else this.wakeSleep = done;
    });
  }
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
