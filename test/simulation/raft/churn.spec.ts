import { RELIABLE, UNRELIABLE, type NetworkFaults } from '../../fakes/fake-network';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';
import { ChurnClient } from './support/submitter';

/**
 * Churn (the classic 2C stories): three clients propose continuously while
 * nodes are disconnected, crashed and restarted at random. Afterwards every
 * value a client saw committed must be in the final log of every node.
 */
describe('Raft churn', () => {
  const churn = (seed: number, faults: NetworkFaults) => {
    const sim = new SimCluster({ nodes: 5, seed, faults });
    const clients = [0, 1, 2].map((c) => new ChurnClient(sim, `client${c}`));

    for (let iter = 0; iter < 20; iter++) {
      if (sim.random.chance(0.2)) sim.disconnect(sim.random.pick(sim.ids));
      if (sim.random.chance(0.5)) {
        const id = sim.random.pick(sim.ids);
        sim.restart(id);
        sim.connect(id);
      }
      if (sim.random.chance(0.2)) sim.crash(sim.random.pick(sim.ids));
      sim.runFor(700);
    }
    sim.runFor(1_000);

    // Repair everything and let the cluster settle.
    sim.setFaults(RELIABLE);
    for (const id of sim.ids) {
      sim.restart(id);
      sim.connect(id);
    }
    for (const c of clients) c.stop();
    sim.runFor(1_000);

    const lastIndex = sim.one(`final-${sim.random.int(0, 1e9)}`, 5);
    expect(sim.runUntil(() => sim.allNodes().every((n) => n.lastApplied >= lastIndex), 5_000)).toBe(
      true,
    );
    const committed = new Set<string>();
    for (let i = 1; i <= lastIndex; i++) {
      const c = sim.nCommitted(i);
      expect(c.count).toBe(5);
      if (c.data !== undefined) committed.add(c.data);
    }
    // (Some schedules keep a majority down throughout, so there may be none.)
    const acknowledged = clients.flatMap((c) => c.acknowledged);
    for (const v of acknowledged) {
      if (!committed.has(sim.commandFor(v)))
        throw new Error(`acknowledged ${v} is not in the final log (${sim.where()})`);
    }
  };

  scenario('reliable churn', (seed) => churn(seed, RELIABLE));
  scenario('unreliable churn', (seed) => churn(seed, UNRELIABLE));
});
