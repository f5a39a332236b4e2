/**
 * Publishes this validator's heartbeat to validator-status every few seconds, keyed by validator
 * id: Raft role and term from ClusterStatus, check progress from ValidatorProgress. At most one
 * publish is in flight, so a broker outage costs skipped beats, never a growing queue.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { EventBus } from '@/infra/events/event-bus.port';
import { ClusterStatus } from '@/modules/raft/cluster-status';
import type { ValidatorStatusV1 } from './alert-events';

/** How far this validator's checks have got; the ping module binds a real one. */
export abstract class ValidatorProgress {
  abstract snapshot(): { lastRound: number | null; lagMs: number | null };
}

/** Until something reports progress, the heartbeat says "unknown" rather than guessing. */
@Injectable()
export class UnknownValidatorProgress extends ValidatorProgress {
  snapshot(): { lastRound: number | null; lagMs: number | null } {
    return { lastRound: null, lagMs: null };
  }
}

export const HEARTBEAT_EVERY_MS = 5_000;

export function validatorStatus(
  config: AppConfig,
  cluster: ClusterStatus,
  progress: ValidatorProgress,
  now: number,
): ValidatorStatusV1 {
  const s = cluster.snapshot();
  const p = progress.snapshot();
  return {
    v: 1,
    validatorId: config.node.id,
    region: config.node.region,
    raftRole: s.role,
    term: s.term,
    leaderId: s.leaderId,
    commitIndex: s.commitIndex,
    lastRound: p.lastRound,
    lagMs: p.lagMs,
    at: new Date(now).toISOString(),
  };
}

@Injectable()
export class ValidatorHeartbeat implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ValidatorHeartbeat.name);
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastErrorLogAt = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly config: AppConfig,
    private readonly cluster: ClusterStatus,
    private readonly progress: ValidatorProgress,
  ) {}

  onApplicationBootstrap(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  beat(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const value = validatorStatus(this.config, this.cluster, this.progress, Date.now());
    this.inFlight = this.bus
      .publish('validatorStatus', [{ key: value.validatorId, value }])
      .catch((err: unknown) => {
        if (Date.now() - this.lastErrorLogAt < 60_000) return;
        this.lastErrorLogAt = Date.now();
        this.log.warn(`heartbeat not published: ${(err as Error).message}`);
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }
}
