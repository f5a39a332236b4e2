import { encodeDecision } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { RejectReason } from '@/core/gossip/gossip.types';
import { UNRELIABLE } from '../../fakes/fake-network';
import { GossipSim, type SimNodeSpec } from './support/gossip-sim';
import { seededScenario } from './support/seeds';

/**
 * Members that lie or forge: forged, unsigned, unknown-validator, wrong-region,
 * tampered and stale-replayed votes are dropped and counted at every honest node
 * and never reach a tally; one lying validator or one unreachable region never
 * makes a site globally DOWN.
 */
const REGIONS = ['eu', 'us', 'ap'];
const cluster = (n: number, roles: Record<number, SimNodeSpec['role']>): SimNodeSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    validatorId: `v${i}`,
    region: REGIONS[i % REGIONS.length],
    role: roles[i],
  }));

function rejectedAtHonest(sim: GossipSim): Record<RejectReason, number> {
  const total = {} as Record<RejectReason, number>;
  for (const node of sim.honest())
    for (const [reason, n] of Object.entries(node.engine.stats().rejected))
      total[reason as RejectReason] = (total[reason as RejectReason] ?? 0) + n;
  return total;
}

describe('gossip under lying and forging members (seeded simulation)', () => {
  seededScenario(
    'forged votes are counted by reason and never tallied; a liar cannot cause DOWN',
    (seed) => {
      const n = 5 + (seed % 5);
      const o = {
        seed,
        nodes: cluster(n, { 2: 'forger', 3: 'liar' }),
        fanout: 2,
        rounds: 1,
        hub: 'v0',
        hubKnown: true,
        gossipIntervalMs: 200,
        roundMs: 1_000,
        sites: 2,
        checkRounds: 50,
        faults: seed % 2 === 0 ? UNRELIABLE : undefined,
      };
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 5_000);

      for (const node of sim.honest()) {
        expect(node.redelivered).toBe(0);
        for (const { vote } of node.delivered.values())
          if (!sim.isGenuine(vote))
            throw new Error(`${node.address} accepted a bad vote ${JSON.stringify(vote)}`);
      }
      const badInjected = sim.forged.filter((v) => !sim.isGenuine(v)).length;
      expect(badInjected).toBeGreaterThan(0);
      const rejected = rejectedAtHonest(sim);
      expect(rejected.forged).toBeGreaterThan(0);
      expect(rejected.unsigned).toBeGreaterThan(0);
      expect(rejected['unknown-validator']).toBeGreaterThan(0);
      expect(rejected['too-old']).toBeGreaterThan(0);

      expect(sim.decisions.length).toBeGreaterThan(0);
      for (const d of sim.decisions) {
        expect(d.verdict).not.toBe('DOWN');
        expect(d.tally.down).toBeLessThanOrEqual(1); // the liar's own, never a forged claim
      }
    },
    { seeds: 4 },
  );

  seededScenario(
    'a region that cannot reach the sites: no global DOWN, one REGION_DOWN per site',
    (seed) => {
      const n = 6 + (seed % 4); // at least two validators per region
      const o = {
        seed,
        nodes: cluster(n, {}),
        fanout: 2,
        rounds: 1,
        hub: 'v0',
        hubKnown: true,
        gossipIntervalMs: 200,
        roundMs: 1_000,
        sites: 3,
        checkRounds: 6,
        unreachableFrom: ['ap'],
      };
      const sim = new GossipSim(o);
      sim.run(o.checkRounds * o.roundMs + 5_000);
      const machine = new SiteStatusMachine();
      const transitions: string[] = [];
      sim.decisions.forEach((d, i) => {
        expect(d.verdict).toBe('UP');
        expect(d.regionVerdicts.ap).toBe('DOWN');
        const r = machine.apply({
          index: i + 1,
          term: 1,
          type: 'command',
          data: encodeDecision(d),
        });
        if (r.kind === 'decision')
          transitions.push(...r.transitions.map((t) => `${t.siteId}:${t.kind}:${t.region}`));
      });
      expect(transitions.sort()).toEqual([
        'site-0:REGION_DOWN:ap',
        'site-1:REGION_DOWN:ap',
        'site-2:REGION_DOWN:ap',
      ]);
    },
  );
});
