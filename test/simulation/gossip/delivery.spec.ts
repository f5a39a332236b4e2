import { voteKey } from '@/core/consensus/vote';
import { UNRELIABLE } from '../../fakes/fake-network';
import { GossipSim, type GossipSimOptions, type SimNodeSpec } from './support/gossip-sim';
import { seededScenario } from './support/seeds';

/**
 * Seeded gossip runs: every honest vote reaches the hub within a bounded number
 * of gossip ticks whenever the network lets it, the hub tallies each vote once,
 * and only genuine votes are ever handed to a tally.
 */
const REGIONS = ['eu', 'us', 'ap'];
const nodes = (n: number, roles: Record<number, SimNodeSpec['role']> = {}): SimNodeSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    validatorId: `v${i}`,
    region: REGIONS[i % REGIONS.length],
    role: roles[i],
  }));

const base = (seed: number): GossipSimOptions => ({
  seed,
  nodes: nodes(5 + (seed % 5)), // 5 to 9 validators
  fanout: 2,
  rounds: 1,
  hub: 'v0',
  hubKnown: true,
  gossipIntervalMs: 200,
  roundMs: 1_000,
  sites: 4,
  checkRounds: 6,
});

/** Every vote delivered to any honest node is genuine and delivered there once. */
function assertOnlyGenuineOnce(sim: GossipSim): void {
  for (const node of sim.honest()) {
    expect(node.redelivered).toBe(0);
    for (const { vote } of node.delivered.values()) {
      if (!sim.isGenuine(vote))
        throw new Error(`${node.address} accepted a bad vote: ${JSON.stringify(vote)}`);
      const published = sim.published.get(voteKey(vote));
      if (published) expect(vote).toEqual(published.vote);
    }
  }
}

/** Publish-to-hub delays of honest votes, and the votes that never arrived. */
function hubLatency(sim: GossipSim, publishedAfter = -Infinity) {
  const hub = sim.hubNode!;
  const delays: number[] = [];
  const missing: string[] = [];
  for (const [key, p] of sim.published) {
    if (p.at < publishedAfter) continue;
    const d = hub.delivered.get(key);
    if (d) delays.push(d.at - p.at);
    else missing.push(key);
  }
  return { delays, missing, max: Math.max(0, ...delays) };
}

describe('gossip delivery (seeded simulation)', () => {
  seededScenario(
    'reliable network, hub known: every vote reaches the hub within one tick',
    (seed) => {
      const o = base(seed);
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 5_000);
      const { missing, max } = hubLatency(sim);
      expect(missing).toEqual([]);
      // one tick to be picked up, plus the network delay (at most 5 ms)
      expect(max).toBeLessThanOrEqual(o.gossipIntervalMs + 5);
      assertOnlyGenuineOnce(sim);
      // the hub decided every (site, round), all UP, with every validator's vote
      expect(sim.decisions).toHaveLength(o.sites * o.checkRounds);
      for (const d of sim.decisions) {
        expect(d.verdict).toBe('UP');
        expect(d.voters).toHaveLength(o.nodes.length);
      }
    },
  );

  seededScenario(
    'reliable network, hub unknown, full fanout: every vote within one tick',
    (seed) => {
      const o = { ...base(seed), hubKnown: false, fanout: 16, rounds: 0 };
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 5_000);
      const { missing, max } = hubLatency(sim);
      expect(missing).toEqual([]);
      expect(max).toBeLessThanOrEqual(o.gossipIntervalMs + 5);
      assertOnlyGenuineOnce(sim);
    },
  );

  seededScenario(
    'reliable network, hub unknown, fanout 3 with 2 forwarding hops: epidemic reach',
    (seed) => {
      const o = { ...base(seed), hubKnown: false, fanout: 3, rounds: 2 };
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 5_000);
      const { delays, missing, max } = hubLatency(sim);
      // at most rounds + 1 hops, each one tick plus the network delay
      expect(max).toBeLessThanOrEqual((o.rounds + 1) * (o.gossipIntervalMs + 5));
      // push gossip without a hub is probabilistic: most, not all, votes reach any one node
      expect(delays.length / (missing.length + delays.length)).toBeGreaterThanOrEqual(0.92);
      for (const node of sim.honest())
        expect(node.delivered.size).toBeGreaterThanOrEqual(sim.published.size * 0.88);
      assertOnlyGenuineOnce(sim);
    },
  );

  seededScenario(
    'lossy, duplicating, reordering network: duplicates merged, almost all votes arrive',
    (seed) => {
      const o = { ...base(seed), faults: UNRELIABLE, rounds: 2, fanout: 3 };
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 8_000);
      const { delays, missing } = hubLatency(sim);
      expect(missing.length / (missing.length + delays.length)).toBeLessThan(0.03);
      expect(sim.network.stats.duplicated).toBeGreaterThan(0);
      assertOnlyGenuineOnce(sim);
      // each (site, round) decided exactly once
      const keys = sim.decisions.map((d) => `${d.siteId}:${d.round}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(sim.decisions.every((d) => d.verdict === 'UP')).toBe(true);
    },
  );

  seededScenario('partition: the cut-off side catches up within two ticks of healing', (seed) => {
    const o = { ...base(seed), checkRounds: 8 };
    const sim = new GossipSim(o);
    const addresses = sim.nodes.map((n) => n.address);
    const majority = addresses.slice(0, Math.ceil(addresses.length / 2));
    const minority = addresses.slice(majority.length);
    sim.run(2_000);
    sim.network.partition(majority, minority);
    sim.run(3_000);
    const healedAt = sim.clock.now();
    sim.network.heal();
    sim.run(o.checkRounds * o.roundMs);
    const minorityIds = new Set(minority.map((a) => a.split(':')[0]));
    // Majority votes kept flowing during the partition.
    const duringMajority = [...sim.published].filter(
      ([, p]) =>
        !minorityIds.has(p.vote.validatorId) && p.at >= 2_000 + sim.start && p.at < healedAt,
    );
    for (const [key] of duringMajority) expect(sim.hubNode!.delivered.has(key)).toBe(true);
    // Anything published after the heal (plus one tick for in-flight requests to time out) arrives promptly.
    const after = hubLatency(sim, healedAt + 1_000 + o.gossipIntervalMs);
    expect(after.missing).toEqual([]);
    expect(after.max).toBeLessThanOrEqual(2 * (o.gossipIntervalMs + 5));
    assertOnlyGenuineOnce(sim);
  });
});
