/**
 * Who the validators are, and which are live. Joining: a validator writes itself
 * into the registry at boot (the database credential is a member's), and
 * announces itself to every peer through POST /api/simulate/gossip/join, which
 * only a holder of CLUSTER_SECRET can call (ClusterAuthGuard), only for its own
 * authenticated node id, and only with a claim signed by the key it registers
 * (proof of possession). A non-member can therefore never inject a key. The
 * announce repeats every ANNOUNCE_MS and doubles as the liveness heartbeat.
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { RosterEntry } from '@/core/consensus/round-tally';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { VoteInbox } from '@/modules/consensus/vote-inbox';
import { publicKeyFromBase64, verifyBytes } from './ed25519';
import { GossipMetrics } from './gossip.metrics';
import { RegistryVoteVerifier } from './registry-vote-verifier';
import {
  joinClaimBytes,
  type JoinClaim,
  rekeyProofBytes,
  ValidatorIdentity,
} from './validator-identity';
import { RegisterOutcome, ValidatorRecord, ValidatorRepository } from './validator.repository';

export const JOIN_PATH = '/api/simulate/gossip/join';
export const ANNOUNCE_MS = 10_000;
const FIRST_HEARTBEAT_MS = 1_000;
/** a validator not heard from for this long leaves the roster */
export const LIVE_WINDOW_MS = 35_000;
/** how far a join claim's timestamp may be from our clock */
export const CLAIM_SKEW_MS = 60_000;

@Injectable()
export class ValidatorDirectory implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ValidatorDirectory.name);
  private readonly records = new Map<string, ValidatorRecord>();
  private readonly heard = new Map<string, number>();
  private registered = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly bootAt = Date.now();

  constructor(
    private readonly config: AppConfig,
    private readonly identity: ValidatorIdentity,
    private readonly repository: ValidatorRepository,
    private readonly verifier: RegistryVoteVerifier,
    private readonly inbox: VoteInbox,
    private readonly client: ClusterClient,
    private readonly metrics: GossipMetrics,
    private readonly auth: ClusterAuth,
  ) {
    this.verifier.remember(identity);
    // Requests this node signs are bound to its own key; a member whose key we do not
    // know yet makes us re-read the registry (ClusterAuth rate-limits the calls).
    this.auth.useIdentity(identity.agreementKey());
    this.auth.onUnknownPeer(() => void this.reload());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.registerSelf();
    await this.reload();
    // Not awaited: boot must not wait on peers. This node is not listening yet, so
    // the next heartbeat comes early, once peers can answer our gossip.
    void this.announce();
    this.schedule(FIRST_HEARTBEAT_MS);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A peer's join request (already past ClusterAuthGuard as `caller`). */
  async join(
    claim: JoinClaim & { proof: string; rekeyProof?: string },
    caller: string | undefined,
  ): Promise<RegisterOutcome> {
    if (claim.id !== caller)
      throw new DomainError('FORBIDDEN', `node ${caller ?? '?'} may only register itself`);
    if (Math.abs(Date.now() - claim.at) > CLAIM_SKEW_MS)
      throw new DomainError('VALIDATION_FAILED', 'join claim is stale or from the future', [
        { path: 'at', message: `must be within ${CLAIM_SKEW_MS} ms of the receiver's clock` },
      ]);
    const key = publicKeyFromBase64(claim.publicKey);
    if (!key)
      throw new DomainError('VALIDATION_FAILED', 'not an Ed25519 public key', [
        { path: 'publicKey', message: 'expected base64 of 32 raw bytes' },
      ]);
    const { proof, rekeyProof, ...fields } = claim;
    if (!verifyBytes(key, joinClaimBytes(fields), proof))
      throw new DomainError('UNAUTHENTICATED', 'join proof does not verify with the presented key');
    const [current] = await this.repository.findByIds([claim.id]);
    const holder = [...this.records.values()].find(
      (r) => r.address === claim.address && r.id !== claim.id,
    );
    if (holder && Date.now() - holder.lastSeenAt.getTime() <= LIVE_WINDOW_MS)
      throw new DomainError(
        'FORBIDDEN',
        `address ${claim.address} belongs to validator ${holder.id}`,
      );
    const mayReplaceKey =
      current !== undefined &&
      current.publicKey !== claim.publicKey &&
      (this.config.security.allowRekey.includes(claim.id) ||
        (rekeyProof !== undefined && this.oldKeyVouches(current.publicKey, fields, rekeyProof)));
    const now = new Date();
    const outcome = await this.repository.register(
      { id: claim.id, region: claim.region, publicKey: claim.publicKey, address: claim.address },
      now,
      mayReplaceKey,
    );
    if (outcome === 'key-mismatch') {
      this.metrics.rekeyRefused();
      this.log.warn(
        `refused a new key for validator ${claim.id} from ${caller}: no proof from the old key`,
      );
      throw new DomainError(
        'FORBIDDEN',
        `validator ${claim.id} is registered with another key: a new key needs rekeyProof ` +
          `(signed by the old key) or ALLOW_REKEY=${claim.id} on this node`,
      );
    }
    if (outcome === 'rekeyed') {
      this.metrics.rekeyed();
      this.log.warn(`validator ${claim.id} registered a new public key`);
    }
    this.records.set(claim.id, { ...fields, lastSeenAt: now });
    this.verifier.remember(claim);
    this.auth.addPeer({ id: claim.id, publicKey: claim.publicKey, address: claim.address });
    this.heardFrom(claim.id);
    this.publishRoster();
    return outcome;
  }

  private oldKeyVouches(oldKey: string, claim: JoinClaim, rekeyProof: string): boolean {
    const old = publicKeyFromBase64(oldKey);
    return old !== null && verifyBytes(old, rekeyProofBytes(claim), rekeyProof);
  }

  /** Traffic from an authenticated member counts as a sign of life. */
  heardFrom(id: string | undefined): void {
    if (id && this.records.has(id)) this.heard.set(id, Date.now());
  }

  /** A validator's gossip address (host:port) as registered, e.g. the Raft leader's. */
  addressOf(id: string): string | undefined {
    return id === this.identity.id ? this.identity.address : this.records.get(id)?.address;
  }

  /** The live validators (self always included), sorted by id. */
  roster(now = Date.now()): RosterEntry[] {
    const live = new Map<string, RosterEntry>([
      [this.identity.id, { id: this.identity.id, region: this.identity.region }],
    ]);
    for (const r of this.records.values()) {
      const last = Math.max(r.lastSeenAt.getTime(), this.heard.get(r.id) ?? 0);
      if (now - last <= LIVE_WINDOW_MS && !live.has(r.id))
        live.set(r.id, { id: r.id, region: r.region });
    }
    return [...live.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** One heartbeat: register/touch self, reload the registry, announce to peers. */
  async cycle(): Promise<void> {
    await this.registerSelf();
    await this.reload();
    await this.announce();
  }

  private async registerSelf(): Promise<void> {
    const me = this.identity;
    try {
      const now = new Date();
      if (this.registered) await this.repository.touch(me.id, now);
      else {
        const outcome = await this.repository.register(
          { id: me.id, region: me.region, publicKey: me.publicKey, address: me.address },
          now,
          this.config.security.allowRekey.includes(me.id),
        );
        if (outcome === 'key-mismatch') {
          // Not retried and not silently replaced: this node's votes would not verify.
          this.log.error(
            `validator ${me.id} is registered with another Ed25519 key (DATA_DIR/keys lost or ` +
              `copied?); this node's votes will be refused until an operator sets ALLOW_REKEY=${me.id}`,
          );
          this.registered = true;
          return;
        }
        this.registered = true;
        this.log.log(`registered validator ${me.id} (${me.region}) at ${me.address}: ${outcome}`);
      }
    } catch (e) {
      this.log.warn(`cannot register this validator yet: ${(e as Error).message}`);
    }
  }

  private async reload(): Promise<void> {
    try {
      const all = await this.repository.findAll();
      this.records.clear();
      for (const r of all) this.records.set(r.id, r);
      this.verifier.replaceAll(all);
      this.verifier.remember(this.identity);
      this.auth.setPeers(
        all.map((r) => ({ id: r.id, publicKey: r.publicKey, address: r.address })),
      );
    } catch (e) {
      this.log.warn(`cannot read the validators registry: ${(e as Error).message}`);
    }
    this.publishRoster();
  }

  private publishRoster(): void {
    // Right after boot the registry may not list every configured peer yet; until
    // the grace period ends, rounds wait for as many validators as are configured.
    const inGrace = Date.now() - this.bootAt < 2 * ANNOUNCE_MS;
    const roster = this.roster();
    this.inbox.setRoster(roster, inGrace ? this.config.node.peers.length + 1 : roster.length);
  }

  /** Joins at every peer; each request is bounded by ClusterClient's timeout. */
  private async announce(): Promise<void> {
    const claim = this.identity.joinClaim(Date.now());
    await Promise.all(
      this.config.node.peers.map((peer) =>
        this.client
          .post(peer.address, JOIN_PATH, claim)
          .then((res) => {
            if (res.status >= 300) this.log.debug(`join at ${peer.address}: HTTP ${res.status}`);
          })
          .catch((e: unknown) =>
            this.log.debug(`join at ${peer.address}: ${(e as Error).message}`),
          ),
      ),
    );
  }

  private schedule(delayMs = ANNOUNCE_MS): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.cycle().finally(() => this.schedule());
    }, delayMs);
    this.timer.unref();
  }
}
