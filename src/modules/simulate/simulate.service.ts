/**
 * One-off cluster-wide checks (GET /api/simulate?url=): the node that takes the
 * request names a simulation `sim-<uuid>` (never a real site), checks the URL itself
 * and asks every peer (POST /api/simulate/gossip/check, cluster credential) to do the same.
 * Each validator signs its result as an ordinary vote and gossips it, so the hub
 * tally decides it by the usual rules; the decision is NOT proposed to Raft (the
 * DecisionPipeline skips `sim-` ids). Polling returns the live tally until final.
 * Bounded: at most MAX_SIMULATIONS remembered, each for RETAIN_MS.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Decision } from '@/core/consensus/decision';
import type { LiveRound } from '@/core/consensus/round-tally';
import { MAX_LATENCY_MS } from '@/core/consensus/vote';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { TallyService } from '@/modules/consensus/tally.service';
import { GossipService } from '@/modules/gossip/gossip.service';
import { ValidatorIdentity } from '@/modules/gossip/validator-identity';
import { Checker } from '@/modules/ping/check-result';
import { TargetPolicy } from '@/modules/websites/target-policy';
import { PingScheduler } from '@/modules/ping/ping-scheduler';
import { LIVE_QUOTAS, LiveQuota, quotaExceeded } from '@/modules/auth/quotas';
import { RateLimiter } from '@/modules/auth/rate-limiter';
import { SIMULATION_PREFIX } from './simulation-id';

const MAX_SIMULATIONS = 1_000;
const RETAIN_MS = 10 * 60_000;
/** simulations one user may start per minute */
export const SIMULATIONS_PER_MINUTE = 10;
/** a simulation counts against its user's in-flight quota until decided, at most this long */
const IN_FLIGHT_MS = 30_000;

export interface Simulation {
  id: string;
  url: string;
  round: number;
  startedAt: number;
  requestedBy: string | null;
  decision: Decision | null;
}

export interface SimulationView {
  id: string;
  url: string;
  round: number;
  status: 'pending' | 'final';
  live: LiveRound | null;
  decision: Decision | null;
}

@Injectable()
export class SimulateService implements OnModuleInit {
  private readonly log = new Logger('Simulate');
  private readonly sims = new Map<string, Simulation>();
  private checker: Checker | null = null;
  private policy: TargetPolicy | null = null;
  private scheduler: PingScheduler | null = null;
  private readonly perMinute = new RateLimiter(SIMULATIONS_PER_MINUTE, 60_000);
  private readonly inFlight = new LiveQuota(
    LIVE_QUOTAS.simulations.perUser,
    LIVE_QUOTAS.simulations.total,
  );
  private readonly releases = new Map<string, () => void>();
  /** ad-hoc checks running here (own and peers' simulations) */
  private checking = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly tally: TallyService,
    private readonly gossip: GossipService,
    private readonly identity: ValidatorIdentity,
    private readonly cluster: ClusterClient,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    this.checker = this.find(Checker);
    this.policy = this.find(TargetPolicy);
    this.scheduler = this.find(PingScheduler);
    this.tally.onDecision((d) => {
      this.releases.get(d.siteId)?.();
      const s = this.sims.get(d.siteId);
      if (s && s.round === d.round) s.decision = d;
      else if (d.siteId.startsWith(SIMULATION_PREFIX))
        this.remember({
          id: d.siteId,
          url: d.url ?? '',
          round: d.round,
          startedAt: Date.now(),
          requestedBy: null,
          decision: d,
        });
    });
  }

  async start(url: string, userId: string): Promise<SimulationView> {
    if (!this.policy) throw new DomainError('UNAVAILABLE', 'target policy unavailable');
    const wait = this.perMinute.retryAfter(userId);
    if (wait > 0) throw new DomainError('RATE_LIMITED', 'too many simulations', undefined, wait);
    if (!this.hasCheckCapacity())
      throw new DomainError('RATE_LIMITED', 'this validator is at PING_CONCURRENCY', undefined, 1);
    const release = this.inFlight.acquire(userId);
    if (!release)
      throw quotaExceeded(
        `at most ${LIVE_QUOTAS.simulations.perUser} simulations in flight per account`,
      );
    this.perMinute.hit(userId);
    try {
      await assertPublicTarget(this.policy, url);
    } catch (e) {
      release();
      throw e;
    }
    const sim: Simulation = {
      id: `${SIMULATION_PREFIX}${randomUUID()}`,
      url,
      round: 0,
      startedAt: Date.now(),
      requestedBy: userId,
      decision: null,
    };
    this.remember(sim);
    this.releases.set(sim.id, () => {
      this.releases.delete(sim.id);
      release();
    });
    setTimeout(() => this.releases.get(sim.id)?.(), IN_FLIGHT_MS).unref();
    void this.checkAndVote(sim.id, url, sim.round);
    for (const peer of this.config.node.peers) {
      void this.cluster
        .post(peer.address, '/api/simulate/gossip/check', {
          id: sim.id,
          url,
          round: sim.round,
          origin: this.config.node.advertiseAddress,
        })
        .catch((e: unknown) =>
          this.log.warn(`peer ${peer.address} did not take ${sim.id}: ${(e as Error).message}`),
        );
    }
    return this.view(sim);
  }

  /** A peer's request: check and vote (the URL was vetted by the requesting node and is re-vetted here). */
  async peerCheck(id: string, url: string, round: number, origin?: string): Promise<void> {
    if (!id.startsWith(SIMULATION_PREFIX)) throw new DomainError('VALIDATION_FAILED', 'bad id');
    if (!this.hasCheckCapacity())
      throw new DomainError('RATE_LIMITED', 'this validator is at PING_CONCURRENCY', undefined, 1);
    if (this.policy) await assertPublicTarget(this.policy, url);
    if (!this.sims.has(id))
      this.remember({ id, url, round, startedAt: Date.now(), requestedBy: null, decision: null });
    // The vote also goes straight to the requesting node, which is the one being polled.
    const to =
      origin && this.config.node.peers.some((p) => p.address === origin) ? origin : undefined;
    void this.checkAndVote(id, url, round, to);
  }

  get(id: string, userId: string): SimulationView {
    const s = this.sims.get(id);
    if (!s || (s.requestedBy !== null && s.requestedBy !== userId))
      throw new DomainError('NOT_FOUND', 'no such simulation');
    return this.view(s);
  }

  private view(s: Simulation): SimulationView {
    const live = this.tally.live(s.id).find((r) => r.round === s.round) ?? null;
    return {
      id: s.id,
      url: s.url,
      round: s.round,
      status: s.decision ? 'final' : 'pending',
      live,
      decision: s.decision,
    };
  }

  private async checkAndVote(
    id: string,
    url: string,
    round: number,
    origin?: string,
  ): Promise<void> {
    if (!this.checker) return;
    this.checking += 1;
    try {
      const r = await this.checker
        .check({ url, timeoutMs: this.config.ping.timeoutMs })
        .finally(() => (this.checking -= 1));
      const vote = this.identity.sign({
        siteId: id,
        round,
        up: r.up,
        latencyMs: Math.min(MAX_LATENCY_MS, Math.max(0, Math.round(r.latencyMs))),
        ...(r.httpStatus !== undefined && r.httpStatus >= 100 && r.httpStatus <= 599
          ? { httpStatus: r.httpStatus }
          : {}),
        ...(r.failure ? { failure: r.failure } : {}),
        checkedAt: Math.max(0, Math.floor(r.checkedAt)),
      });
      this.gossip.publish(vote);
      if (origin)
        await this.cluster.post(origin, '/api/simulate/gossip', {
          from: this.config.node.advertiseAddress,
          items: [{ hops: 0, vote }],
        });
    } catch (e) {
      this.log.warn(`simulation ${id} check failed: ${(e as Error).message}`);
    }
  }

  /**
   * Ad-hoc checks share PING_CONCURRENCY with the scheduler: they start only while
   * the scheduled checks in flight plus ours stay below it, and take at most an
   * eighth of it, so simulations can never crowd out scheduled rounds.
   */
  private hasCheckCapacity(): boolean {
    const limit = this.config.ping.concurrency;
    const scheduled = this.scheduler?.inFlight ?? 0;
    return this.checking < Math.max(1, Math.floor(limit / 8)) && scheduled + this.checking < limit;
  }

  private remember(s: Simulation): void {
    const now = Date.now();
    for (const [k, v] of this.sims) {
      if (this.sims.size < MAX_SIMULATIONS && now - v.startedAt < RETAIN_MS) break;
      this.sims.delete(k);
    }
    this.sims.set(s.id, s);
  }

  private find<T>(token: abstract new (...a: never[]) => T): T | null {
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      this.log.warn(`${token.name} is not in this application: simulations are unavailable`);
      return null;
    }
  }
}

/**
 * The SSRF verdict without the addresses behind it: whether a name resolves to an
 * internal address is itself something a caller must not learn.
 */
async function assertPublicTarget(policy: TargetPolicy, url: string): Promise<void> {
  try {
    await policy.assertAllowed(url);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'TARGET_NOT_ALLOWED') throw targetRefused();
    throw e;
  }
}

export function targetRefused(): DomainError {
  const message =
    'target not allowed: only URLs whose host resolves to public addresses can be checked';
  return new DomainError('TARGET_NOT_ALLOWED', message, [{ path: 'url', message }]);
}
