/**
 * Per-user quotas on everything a user can multiply: sites (each one is a check from
 * every validator, so a reflector without a cap), and live resources held open
 * (log streams, real-time connections, simulations in flight). Over a quota the
 * answer is 422 QUOTA_EXCEEDED (or, for connections, a refused handshake).
 */
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { UserRepository } from './user.repository';

/** Live resources one user (and everyone together) may hold on one node. */
export const LIVE_QUOTAS = {
  logStreams: { perUser: 5, total: 2_000 },
  realtimeConnections: { perUser: 20, perIp: 50, total: 10_000 },
  simulations: { perUser: 3, total: 64 },
} as const;

/** Counts held resources per key; acquire() answers null when a limit is reached. */
export class LiveQuota {
  private readonly held = new Map<string, number>();
  private all = 0;

  constructor(
    private readonly perKey: number,
    private readonly total: number,
  ) {}

  acquire(key: string): (() => void) | null {
    const n = this.held.get(key) ?? 0;
    if (n >= this.perKey || this.all >= this.total) return null;
    this.held.set(key, n + 1);
    this.all += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.all -= 1;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left <= 0) this.held.delete(key);
      else this.held.set(key, left);
    };
  }

  count(key?: string): number {
    return key === undefined ? this.all : (this.held.get(key) ?? 0);
  }
}

export function quotaExceeded(message: string): DomainError {
  return new DomainError('QUOTA_EXCEEDED', message);
}

@Injectable()
export class SiteQuota {
  /** per owner, the tail of the queue of creates on this node: one counts at a time */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
  ) {}

  get limit(): number {
    return this.config.quotas.sitesPerUser;
  }

  /**
   * Waits for this owner's earlier creates on this node, then reserves room for one
   * more site or throws QUOTA_EXCEEDED. Call the returned release() once the create
   * finished (either way): concurrent requests cannot overshoot together. Across
   * nodes the overshoot is at most one site per node.
   */
  async reserve(ownerId: string): Promise<() => void> {
    const previous = this.tails.get(ownerId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(ownerId, tail);
    const done = () => {
      release();
      if (this.tails.get(ownerId) === tail) this.tails.delete(ownerId);
    };
    await previous;
    try {
      if ((await this.users.countSites(ownerId)) >= this.limit)
        throw quotaExceeded(`at most ${this.limit} sites per account (MAX_SITES_PER_USER)`);
    } catch (e) {
      done();
      throw e;
    }
    return done;
  }
}
