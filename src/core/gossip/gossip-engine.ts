/**
 * Push gossip of signed votes. Invariants: a vote is handed to `onVote` at most
 * once per node, and only after the VoteVerifier accepted it (a forged vote never
 * enters the seen-set, so it cannot shadow the real one); a vote travels at most
 * `rounds` forwarding hops; every buffer is bounded and drops its oldest, counted.
 */
import type { Clock } from '@/core/ports/clock.port';
import type { Random } from '@/core/ports/random.port';
import { isWellFormedVote, voteKey, type Vote } from '@/core/consensus/vote';
import { BoundedQueue } from './bounded-queue';
import {
  REJECT_REASONS,
  type GossipItem,
  type GossipMessage,
  type OutgoingMessage,
  type ReceiveReport,
  type RejectReason,
  type VoteVerifier,
} from './gossip.types';
import { SeenSet } from './seen-set';

export interface GossipOptions {
  /** this node's gossip address, as peers list it */
  readonly self: string;
  /** GOSSIP_FANOUT: random peers each tick's fresh votes go to */
  readonly fanout: number;
  /** GOSSIP_ROUNDS: how many times a received vote is forwarded onwards (0 = never) */
  readonly rounds: number;
  /** votes per outgoing message; also the most one incoming message may carry */
  readonly maxBatch: number;
  /** fresh votes waiting for the next tick */
  readonly maxPending: number;
  /** votes queued for one peer (a slow peer's backlog) */
  readonly maxPeerQueue: number;
  /** a vote whose check started longer ago than this is too old */
  readonly maxVoteAgeMs: number;
  /** tolerated clock skew for checkedAt in the future */
  readonly maxFutureMs: number;
  /** votes remembered for replay detection */
  readonly seenCapacity: number;
}

export const GOSSIP_LIMITS = {
  maxBatch: 500,
  maxPending: 20_000,
  maxPeerQueue: 10_000,
  seenCapacity: 200_000,
} as const;

export interface GossipStats {
  /** own votes handed in by publish() */
  published: number;
  /** votes from peers that passed every check */
  accepted: number;
  /** accepted votes queued to be forwarded one more hop */
  forwarded: number;
  rejected: Record<RejectReason, number>;
  sentMessages: number;
  sentItems: number;
  sendFailures: number;
  dropped: { pending: number; peerQueue: number; sendFailed: number; seenEvicted: number };
  pending: number;
  queued: number;
  inFlight: number;
  seen: number;
}

interface Pending {
  readonly item: GossipItem;
  /** the peer it came from: never sent back there */
  readonly via?: string;
}

export class GossipEngine {
  private readonly seen: SeenSet;
  private readonly pending: BoundedQueue<Pending>;
  private readonly queues = new Map<string, BoundedQueue<Pending>>();
  /** peer -> votes in the message awaiting ack */
  private readonly inFlight = new Map<string, number>();
  private readonly counters = {
    published: 0,
    accepted: 0,
    forwarded: 0,
    sentMessages: 0,
    sentItems: 0,
    sendFailures: 0,
    droppedPending: 0,
    droppedPeerQueue: 0,
    droppedSendFailed: 0,
  };
  private readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<
    RejectReason,
    number
  >;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly verifier: VoteVerifier,
    private readonly options: GossipOptions,
    /** receives each accepted vote (own and peers'), once */
    private readonly onVote: (vote: Vote) => void,
  ) {
    // Anything that ages out of the seen-set must already be too old to accept.
    this.seen = new SeenSet(options.maxVoteAgeMs + options.maxFutureMs, options.seenCapacity);
    this.pending = new BoundedQueue(options.maxPending);
  }

  /** Hands in this node's own (signed) vote: delivered locally, pushed next tick. */
  publish(vote: Vote): void {
    this.seen.add(voteKey(vote), fingerprint(vote.signature ?? ''), this.clock.now());
    this.counters.published++;
    this.onVote(vote);
    this.counters.droppedPending += this.pending.push({ item: { hops: 0, vote } });
  }

  /** Checks and merges a peer's message; returns what happened to each vote. */
  receive(message: GossipMessage): ReceiveReport {
    const now = this.clock.now();
    this.seen.expire(now);
    const report: ReceiveReport = { accepted: 0, rejected: {} };
    message.items.forEach((item, i) => {
      const reason = i < this.options.maxBatch ? this.admit(item, now) : 'overflow';
      if (reason) {
        this.rejected[reason]++;
        report.rejected[reason] = (report.rejected[reason] ?? 0) + 1;
        return;
      }
      report.accepted++;
      this.counters.accepted++;
      this.onVote(item.vote);
      if (item.hops < this.options.rounds) {
        this.counters.forwarded++;
        this.counters.droppedPending += this.pending.push({
          item: { hops: item.hops + 1, vote: item.vote },
          via: message.from,
        });
      }
    });
    return report;
  }

  /**
   * One gossip tick: each fresh vote is queued for `fanout` random peers (and for
   * `hub`, when known, so the tally gets it in one hop), then each peer with a
   * queue and no message in flight gets one batch. The caller sends the messages
   * and calls ack() for each.
   */
  tick(peers: readonly string[], hub?: string | null): OutgoingMessage[] {
    this.seen.expire(this.clock.now());
    const self = this.options.self;
    const hubTarget = hub && hub !== self ? hub : null;
    const others = peers.filter((p) => p !== self && p !== hubTarget);
    const known = new Set(hubTarget ? [...others, hubTarget] : others);

    for (const [peer, q] of this.queues) {
      if (known.has(peer)) continue;
      this.counters.droppedPeerQueue += q.length;
      this.queues.delete(peer);
    }

    // Each vote picks its own peers: independent choices spread an epidemic much
    // further than one choice per tick, and a vote never goes back where it came from.
    const candidates = new Map<string | undefined, string[]>();
    for (const p of this.pending.take(this.pending.length)) {
      let from = candidates.get(p.via);
      if (!from) candidates.set(p.via, (from = others.filter((peer) => peer !== p.via)));
      const targets = sample(from, this.options.fanout, this.random);
      if (hubTarget && p.via !== hubTarget) targets.push(hubTarget);
      for (const to of targets) {
        let q = this.queues.get(to);
        if (!q) this.queues.set(to, (q = new BoundedQueue(this.options.maxPeerQueue)));
        this.counters.droppedPeerQueue += q.push(p);
      }
    }

    const out: OutgoingMessage[] = [];
    for (const [to, q] of this.queues) {
      if (q.length === 0 || this.inFlight.has(to)) continue;
      const items = q.take(this.options.maxBatch).map((p) => p.item);
      this.inFlight.set(to, items.length);
      this.counters.sentMessages++;
      this.counters.sentItems += items.length;
      out.push({ to, message: { from: self, items } });
    }
    return out;
  }

  /** The message to `peer` was delivered (ok) or failed; its votes are not resent. */
  ack(peer: string, ok: boolean): void {
    const n = this.inFlight.get(peer);
    if (n === undefined) return;
    this.inFlight.delete(peer);
    if (ok) return;
    this.counters.sendFailures++;
    this.counters.droppedSendFailed += n;
  }

  stats(): GossipStats {
    const c = this.counters;
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return {
      published: c.published,
      accepted: c.accepted,
      forwarded: c.forwarded,
      rejected: { ...this.rejected },
      sentMessages: c.sentMessages,
      sentItems: c.sentItems,
      sendFailures: c.sendFailures,
      dropped: {
        pending: c.droppedPending,
        peerQueue: c.droppedPeerQueue,
        sendFailed: c.droppedSendFailed,
        seenEvicted: this.seen.evicted,
      },
      pending: this.pending.length,
      queued,
      inFlight: this.inFlight.size,
      seen: this.seen.size,
    };
  }

  private admit(item: GossipItem, now: number): RejectReason | null {
    const vote = item.vote;
    if (!Number.isSafeInteger(item.hops) || item.hops < 0 || !isWellFormedVote(vote))
      return 'malformed';
    if (!vote.signature) return 'unsigned';
    if (vote.checkedAt < now - this.options.maxVoteAgeMs) return 'too-old';
    if (vote.checkedAt > now + this.options.maxFutureMs) return 'future';
    const key = voteKey(vote);
    const fp = fingerprint(vote.signature);
    const known = this.seen.get(key);
    if (known === fp) return 'replayed';
    const verdict = this.verifier.verify(vote);
    if (!verdict.ok) return verdict.reason;
    // Validly signed, yet different from the vote we hold: the validator equivocated.
    if (known !== undefined) return 'conflicting';
    this.seen.add(key, fp, now);
    return null;
  }
}

/** Enough of a signature to tell two apart (Ed25519 signatures are 88 base64 chars). */
function fingerprint(signature: string): string {
  return signature.slice(0, 32);
}

/** `k` distinct items chosen uniformly (partial Fisher–Yates). */
function sample<T>(items: readonly T[], k: number, random: Random): T[] {
  const a = items.slice();
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = random.int(i, a.length);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}
