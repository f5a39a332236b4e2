import { createPublicKey, type KeyObject } from 'node:crypto';
import { RoundTally } from '@/core/consensus/round-tally';
import type { Decision } from '@/core/consensus/decision';
import {
  canonicalVote,
  voteKey,
  voteSigningBytes,
  type UnsignedVote,
  type Vote,
} from '@/core/consensus/vote';
import { GossipEngine, type GossipOptions } from '@/core/gossip/gossip-engine';
import type { GossipMessage, VerifyOutcome, VoteVerifier } from '@/core/gossip/gossip.types';
import { deriveSeed, SeededRandom } from '@/core/ports/seeded-random';
import {
  privateKeyFromSeed,
  publicKeyToBase64,
  signBytes,
  verifyBytes,
} from '@/modules/gossip/ed25519';
import { RegistryVoteVerifier } from '@/modules/gossip/registry-vote-verifier';
import { FakeClock } from '../../../fakes/fake-clock';
import { FakeNetwork, RELIABLE, type NetworkFaults } from '../../../fakes/fake-network';

/**
 * N validators gossiping signed votes over a seeded FakeNetwork on a FakeClock.
 * Each node runs the real GossipEngine with the real Ed25519 RegistryVoteVerifier
 * (keys derived from the seed, so runs replay exactly; every node holds the
 * same registry, so outcomes are memoized across nodes to keep runs fast); the
 * hub also runs the real RoundTally. Requests are acknowledged over the same network and time out
 * like ClusterClient's, so backpressure behaves as in production.
 */
export type Role = 'honest' | 'liar' | 'forger';

export interface SimNodeSpec {
  readonly validatorId: string;
  readonly region: string;
  readonly role?: Role;
}

export interface GossipSimOptions {
  readonly seed: number;
  readonly nodes: readonly SimNodeSpec[];
  readonly fanout: number;
  readonly rounds: number;
  /** the node (by validator id) that tallies; null = none knows the hub */
  readonly hub: string | null;
  /** whether nodes push straight to the hub (part B sets it to the Raft leader) */
  readonly hubKnown: boolean;
  readonly gossipIntervalMs: number;
  readonly roundMs: number;
  readonly sites: number;
  readonly checkRounds: number;
  readonly faults?: NetworkFaults;
  readonly requestTimeoutMs?: number;
  readonly engine?: Partial<GossipOptions>;
  readonly tallyDeadlineMs?: number;
  /** regions from which every site is unreachable (their honest validators vote DOWN) */
  readonly unreachableFrom?: readonly string[];
}

type Wire =
  | { readonly kind: 'push'; readonly id: number; readonly message: GossipMessage }
  | { readonly kind: 'ack'; readonly id: number };

export interface Delivery {
  readonly vote: Vote;
  readonly at: number;
}

export interface SimNode {
  readonly spec: SimNodeSpec;
  readonly address: string;
  readonly engine: GossipEngine;
  /** voteKey -> first delivery to this node's onVote */
  readonly delivered: Map<string, Delivery>;
  /** onVote calls for a key already delivered (must stay 0) */
  redelivered: number;
  readonly inflight: Map<number, string>;
}

export class GossipSim {
  readonly clock = new FakeClock(1_700_000_000_000);
  readonly random: SeededRandom;
  readonly network: FakeNetwork<Wire>;
  readonly nodes: SimNode[];
  readonly byAddress = new Map<string, SimNode>();
  readonly publicKeys = new Map<string, { region: string; key: KeyObject }>();
  /** honest votes as published: key -> publish time */
  readonly published = new Map<string, Delivery>();
  /** forged or invalid votes injected by forgers */
  readonly forged: Vote[] = [];
  readonly decisions: Decision[] = [];
  readonly tally: RoundTally | null;
  private readonly privateKeys = new Map<string, KeyObject>();
  private seq = 0;
  private readonly genuine = new Map<string, boolean>();
  readonly start: number;

  constructor(readonly o: GossipSimOptions) {
    this.random = new SeededRandom(o.seed);
    this.start = this.clock.now();
    this.network = new FakeNetwork<Wire>(
      this.clock,
      this.random.fork('network'),
      (from, to, m) => this.deliver(from, to, m),
      (m) => ({ type: m.kind, bytes: m.kind === 'push' ? m.message.items.length * 300 : 16 }),
    );
    this.network.setFaults(o.faults ?? RELIABLE);

    for (const spec of o.nodes) {
      const seedBytes = new SeededRandom(deriveSeed(o.seed, `key:${spec.validatorId}`));
      const priv = privateKeyFromSeed(Uint8Array.from({ length: 32 }, () => seedBytes.int(0, 256)));
      this.privateKeys.set(spec.validatorId, priv);
      this.publicKeys.set(spec.validatorId, { region: spec.region, key: createPublicKey(priv) });
    }
    const registry = o.nodes.map((s) => ({
      id: s.validatorId,
      region: s.region,
      publicKey: publicKeyToBase64(this.publicKeys.get(s.validatorId)!.key),
    }));

    this.tally = o.hub
      ? new RoundTally(this.clock, {
          quorumThreshold: 0.51,
          minVotes: Math.ceil(o.nodes.length / 2),
          deadlineMs: o.tallyDeadlineMs ?? 3_000,
          maxOpenRounds: 10_000,
          maxTrackedSites: 10_000,
        })
      : null;
    this.tally?.setRoster(o.nodes.map((s) => ({ id: s.validatorId, region: s.region })));

    const memo = new Map<string, VerifyOutcome>();
    this.nodes = o.nodes.map((spec) => {
      const address = `${spec.validatorId}:7000`;
      const real = new RegistryVoteVerifier({ findByIds: async () => [] }, () => this.clock.now());
      real.replaceAll(registry);
      const verifier = memoized(real, memo);
      const node: SimNode = {
        spec,
        address,
        delivered: new Map(),
        redelivered: 0,
        inflight: new Map(),
        engine: undefined as unknown as GossipEngine,
      };
      const isHub = spec.validatorId === o.hub;
      (node as { engine: GossipEngine }).engine = new GossipEngine(
        this.clock,
        this.random.fork(`engine:${spec.validatorId}`),
        verifier,
        {
          self: address,
          fanout: o.fanout,
          rounds: o.rounds,
          maxBatch: 500,
          maxPending: 20_000,
          maxPeerQueue: 10_000,
          maxVoteAgeMs: 30_000,
          maxFutureMs: 5_000,
          seenCapacity: 100_000,
          ...o.engine,
        },
        (vote) => {
          const key = voteKey(vote);
          if (node.delivered.has(key)) node.redelivered++;
          else node.delivered.set(key, { vote, at: this.clock.now() });
          if (isHub) {
            const r = this.tally!.add(vote);
            if (r.decision) this.decisions.push(r.decision);
          }
        },
      );
      this.byAddress.set(address, node);
      return node;
    });

    const peers = this.nodes.map((n) => n.address);
    const hubAddress = o.hub && o.hubKnown ? `${o.hub}:7000` : null;
    for (const node of this.nodes) {
      const phase = this.random.int(0, o.gossipIntervalMs);
      this.clock.every(o.gossipIntervalMs, () => this.tick(node, peers, hubAddress), phase + 1);
    }
    if (this.tally) this.clock.every(100, () => this.decisions.push(...this.tally!.tick()));
    this.scheduleChecks();
  }

  get hubNode(): SimNode | undefined {
    return this.nodes.find((n) => n.spec.validatorId === this.o.hub);
  }

  honest(): SimNode[] {
    return this.nodes.filter((n) => (n.spec.role ?? 'honest') === 'honest');
  }

  run(ms: number): void {
    this.clock.runUntil(this.clock.now() + ms);
  }

  /** Signs a vote with a validator's real key, or with `asKeyOf`'s key (a forgery). */
  sign(v: UnsignedVote, asKeyOf = v.validatorId): Vote {
    return { ...v, signature: signBytes(this.privateKeys.get(asKeyOf)!, voteSigningBytes(v)) };
  }

  /** True if the vote carries a valid signature of the validator it names, from its region. */
  isGenuine(v: Vote): boolean {
    const memoKey = `${v.signature}\n${canonicalVote(v)}`;
    let ok = this.genuine.get(memoKey);
    if (ok === undefined) {
      const k = this.publicKeys.get(v.validatorId);
      ok =
        !!k &&
        k.region === v.region &&
        !!v.signature &&
        verifyBytes(k.key, voteSigningBytes(v), v.signature);
      this.genuine.set(memoKey, ok);
    }
    return ok;
  }

  private tick(node: SimNode, peers: string[], hub: string | null): void {
    const timeout = this.o.requestTimeoutMs ?? 1_000;
    for (const { to, message } of node.engine.tick(peers, hub)) {
      const id = ++this.seq;
      node.inflight.set(id, to);
      this.network.send(node.address, to, { kind: 'push', id, message });
      this.clock.schedule(timeout, () => {
        if (node.inflight.delete(id)) node.engine.ack(to, false);
      });
    }
  }

  private deliver(from: string, to: string, m: Wire): void {
    const node = this.byAddress.get(to)!;
    if (m.kind === 'push') {
      node.engine.receive(m.message);
      this.network.send(to, from, { kind: 'ack', id: m.id });
      return;
    }
    const peer = node.inflight.get(m.id);
    if (peer === undefined) return;
    node.inflight.delete(m.id);
    node.engine.ack(peer, true);
  }

  /** Every node checks every site once per round, a little after the round starts. */
  private scheduleChecks(): void {
    const o = this.o;
    for (let site = 0; site < o.sites; site++) {
      const siteId = `site-${site}`;
      const phase = this.random.int(0, o.roundMs);
      for (let round = 0; round < o.checkRounds; round++) {
        for (const node of this.nodes) {
          const at = round * o.roundMs + phase + this.random.int(5, 300);
          this.clock.schedule(at, () => this.check(node, siteId, round));
        }
      }
    }
  }

  private check(node: SimNode, siteId: string, round: number): void {
    const spec = node.spec;
    const role = spec.role ?? 'honest';
    const now = this.clock.now();
    const up = role !== 'liar' && !(this.o.unreachableFrom ?? []).includes(spec.region);
    const unsigned: UnsignedVote = {
      siteId,
      round,
      validatorId: spec.validatorId,
      region: spec.region,
      up,
      latencyMs: up ? 42 : 10_000,
      ...(up ? { httpStatus: 200 } : { failure: 'TIMEOUT' as const }),
      checkedAt: now - 50,
    };
    const vote = this.sign(unsigned);
    if (role === 'honest') this.published.set(voteKey(vote), { vote, at: now });
    node.engine.publish(vote);
    if (role === 'forger') for (const f of this.forgeries(node, unsigned)) this.inject(node, f);
  }

  /** Every kind of bad vote a member could push, for a victim chosen by the seed. */
  private forgeries(forger: SimNode, own: UnsignedVote): Vote[] {
    const victims = this.honest();
    const victim = victims[this.random.int(0, victims.length)].spec;
    const claim: UnsignedVote = {
      ...own,
      validatorId: victim.validatorId,
      region: victim.region,
      up: false,
      latencyMs: 10_000,
      httpStatus: undefined,
      failure: 'TIMEOUT',
    };
    delete (claim as { httpStatus?: number }).httpStatus;
    const out: Vote[] = [
      this.sign(claim, forger.spec.validatorId), // claims the victim, signed with the forger's key
      { ...claim }, // unsigned
      this.sign({ ...own, validatorId: 'ghost', region: 'nowhere' }, forger.spec.validatorId),
      this.sign({ ...own, region: victim.region }, forger.spec.validatorId), // wrong region
    ];
    // A genuine vote of the victim, tampered (up flipped) after signing.
    const genuine = [...forger.delivered.values()].find(
      (d) => d.vote.validatorId === victim.validatorId,
    );
    if (genuine) out.push({ ...genuine.vote, up: !genuine.vote.up });
    // A genuine vote replayed long after: too old by the time it arrives.
    const stale = [...forger.delivered.values()].find((d) => d.at < this.clock.now() - 40_000);
    if (stale) out.push(stale.vote);
    return out;
  }

  private inject(forger: SimNode, v: Vote): void {
    this.forged.push(v);
    forger.engine.publish(v);
  }
}

/** Ed25519 verification dominates run time; identical registries give identical outcomes. */
function memoized(inner: VoteVerifier, memo: Map<string, VerifyOutcome>): VoteVerifier {
  return {
    verify(vote) {
      const key = `${vote.signature}\n${canonicalVote(vote)}`;
      let outcome = memo.get(key);
      if (!outcome) memo.set(key, (outcome = inner.verify(vote)));
      return outcome;
    },
  };
}
