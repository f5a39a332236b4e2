/**
 * The periodic work of notification delivery, on @nestjs/schedule intervals: the sweep (every
 * instance, leases arbitrate), and reminders and maintenance releases, which one instance at a
 * time runs under a PostgreSQL advisory lock held for the pass (transaction-scoped, so a dead
 * holder's lock goes with its connection). A pass still running when the next is due is skipped.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '@/config/app-config';
import { PrismaService } from '@/infra/database/prisma.service';
import { AlertsTimings } from '@/modules/alerts/alerts.timings';
import { MaintenanceReleaser } from '../maintenance/maintenance-releaser';
import { NotifyLanes } from './notify-lanes';
import { NotifySweeper } from './notify-sweeper';
import { ReminderJob } from './reminder.job';

/** First key of our advisory locks (the second is the job's name hashed). */
const LOCK_NAMESPACE = 0x4e4f5446; // "NOTF"

@Injectable()
export class NotifyJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('NotifyJobs');
  private readonly running = new Set<string>();
  private readonly names: string[] = [];
  private lastErrorLogAt = 0;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly sweeper: NotifySweeper,
    private readonly reminders: ReminderJob,
    private readonly releaser: MaintenanceReleaser,
    private readonly lanes: NotifyLanes,
    private readonly prisma: PrismaService,
    private readonly timings: AlertsTimings,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.every('notify-sweep', this.timings.notifySweepEveryMs, () => this.sweeper.sweep(false));
    this.every('notify-reminders', this.timings.notifyJobsEveryMs, () =>
      this.exclusively('notify-reminders', () => this.reminders.runOnce()),
    );
    this.every('notify-maintenance', this.timings.notifyJobsEveryMs, () =>
      this.exclusively('notify-maintenance', () => this.releaser.runOnce()),
    );
  }

  async onModuleDestroy(): Promise<void> {
    // A test may have taken a job over (deleted its interval) to run it on a pinned clock.
    for (const name of this.names) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
    await this.lanes.stop();
  }

  /** Runs `job` only if no other instance holds its lock; undefined when skipped. */
  async exclusively<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    // The embedded database is one node's alone (and has a single connection to spare).
    if (!this.config.db.url) return job();
    return this.prisma.$transaction(
      async (tx) => {
        const [{ locked }] = await tx.$queryRaw<{ locked: boolean }[]>`
          SELECT pg_try_advisory_xact_lock(${LOCK_NAMESPACE}::int, hashtext(${name})) AS locked`;
        return locked ? job() : undefined;
      },
      { maxWait: 5_000, timeout: 10 * 60_000 },
    );
  }

  private every(name: string, ms: number, job: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      if (this.running.has(name)) return;
      this.running.add(name);
      job()
        .catch((err: unknown) => {
          if (Date.now() - this.lastErrorLogAt < 60_000) return;
          this.lastErrorLogAt = Date.now();
          this.log.warn(`${name} failed: ${(err as Error).message}`);
        })
        .finally(() => this.running.delete(name));
    }, ms);
    timer.unref();
    this.scheduler.addInterval(name, timer);
    this.names.push(name);
  }
}
