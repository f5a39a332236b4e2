/**
 * Hosts the gossip core: own votes in (publish), peer messages in (receive),
 * a ticker that pushes batches to peers through the signed ClusterClient. Every
 * accepted vote goes to the VoteInbox (the hub tally). At most one request per
 * peer is in flight, so a slow peer costs its own bounded queue, nothing more.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { UnsignedVote, Vote } from '@/core/consensus/vote';
import { GOSSIP_LIMITS, GossipEngine, type GossipStats } from '@/core/gossip/gossip-engine';
import type { GossipMessage, ReceiveReport } from '@/core/gossip/gossip.types';
import { AppConfig } from '@/config/app-config';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { VoteInbox } from '@/modules/consensus/vote-inbox';
import { PingResultEmitter } from '@/modules/realtime/ping-result.emitter';
import { GossipMetrics } from './gossip.metrics';
import { RegistryVoteVerifier } from './registry-vote-verifier';
import { osSeededRandom, systemClock } from './system-ports';
import { ValidatorIdentity } from './validator-identity';

type OwnVote = Omit<UnsignedVote, 'validatorId' | 'region'>;

export const GOSSIP_PATH = '/api/simulate/gossip';
/** longest a check may take (the websites API caps a site's timeout at 60 s) */
const MAX_CHECK_MS = 60_000;
/** clock skew tolerated between validators (as ClusterAuth's request window) */
export const CLOCK_SKEW_MS = 30_000;

@Injectable()
export class GossipService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(GossipService.name);
  private readonly engine: GossipEngine;
  private readonly peers: string[];
  private hub: string | null = null;
  private timer?: NodeJS.Timeout;
  private lastErrorLogAt = 0;
  /** own votes made since the last tick, signed together at the next one */
  private own: OwnVote[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly client: ClusterClient,
    private readonly verifier: RegistryVoteVerifier,
    private readonly identity: ValidatorIdentity,
    inbox: VoteInbox,
    metrics: GossipMetrics,
    pingResults: PingResultEmitter,
  ) {
    this.peers = config.node.peers.map((p) => p.address);
    this.engine = new GossipEngine(
      systemClock,
      osSeededRandom(),
      verifier,
      {
        self: config.node.advertiseAddress,
        fanout: config.gossip.fanout,
        rounds: config.gossip.rounds,
        ...GOSSIP_LIMITS,
        // A vote is useful until its round's tally closes: the check, then the deadline.
        maxVoteAgeMs:
          Math.max(config.ping.timeoutMs, MAX_CHECK_MS) +
          config.consensus.tallyDeadlineMs +
          CLOCK_SKEW_MS,
        maxFutureMs: CLOCK_SKEW_MS,
      },
      (vote) => {
        inbox.submit(vote);
        pingResults.offer(vote);
      },
    );
    metrics.watch(() => this.engine.stats());
  }

  /** This validator's own signed vote. */
  publish(vote: Vote): void {
    this.engine.publish(vote);
  }

  /**
   * This validator's own vote, unsigned: signed with the others of this tick
   * under one Ed25519 signature (each keeps its Merkle proof), then published.
   */
  publishOwn(vote: OwnVote): void {
    this.own.push(vote);
    if (this.own.length >= GOSSIP_LIMITS.maxBatch) this.signOwn();
  }

  /** Signs and publishes the own votes waiting for the tick. */
  signOwn(): void {
    if (this.own.length === 0) return;
    const batch = this.own;
    this.own = [];
    for (const vote of this.identity.signBatch(batch)) this.engine.publish(vote);
  }

  /** A peer's message, already past ClusterAuthGuard and the schema. */
  async receive(message: GossipMessage): Promise<ReceiveReport> {
    // The core verifies synchronously: load the keys of validators not cached yet.
    // If the registry is unreachable, unknown validators are rejected as such.
    await this.verifier
      .ensureKnown(message.items.map((i) => i.vote.validatorId))
      .catch((e: unknown) => this.warn(`validators registry: ${(e as Error).message}`));
    return this.engine.receive(message);
  }

  /**
   * The hub's gossip address (the Raft leader's), or null: when known, every
   * tick's fresh votes also go straight to it.
   */
  setHub(address: string | null): void {
    this.hub = address;
  }

  stats(): GossipStats {
    return this.engine.stats();
  }

  /** One gossip tick (the interval calls it; tests may too). */
  tick(): void {
    try {
      this.signOwn();
    } catch (e) {
      this.warn(`cannot sign this tick's votes: ${(e as Error).message}`);
    }
    for (const { to, message } of this.engine.tick(this.peers, this.hub)) {
      this.client
        .post<unknown>(to, GOSSIP_PATH, message)
        .then((res) => {
          this.engine.ack(to, res.status >= 200 && res.status < 300);
          if (res.status >= 300) this.warn(`gossip to ${to}: HTTP ${res.status}`);
        })
        .catch((e: unknown) => {
          this.engine.ack(to, false);
          this.warn(`gossip to ${to}: ${(e as Error).message}`);
        });
    }
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.gossip.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.own = [];
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log.warn(message);
  }
}
