import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Leader election (the classic 2A stories). Election timeout is 1–2 s of
 * simulated time, heartbeats every 100 ms; checkOneLeader() fails unless a
 * leader appears within 5 s. Every step checks Raft's safety properties.
 */
describe('Raft election', () => {
  scenario('initial election: one leader, and the term stays put while nothing fails', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.checkOneLeader();

    // Everyone agrees on the term...
    sim.runFor(50);
    const term1 = sim.checkTerms();
    expect(term1).toBeGreaterThanOrEqual(1);

    // ...and without failures there is no reason to hold another election.
    sim.runFor(2 * 2_000);
    expect(sim.checkTerms()).toBe(term1);
    sim.checkOneLeader();
  });

  scenario('re-election after the leader is lost, and none without a majority', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    const leader1 = sim.checkOneLeader();

    // The leader drops off the network: the other two elect a new one.
    sim.disconnect(leader1);
    sim.checkOneLeader();

    // The old leader comes back: it must not disturb the new one.
    sim.connect(leader1);
    const leader2 = sim.checkOneLeader();

    // With two of three gone there is no quorum, so no leader.
    const other = sim.ids[(sim.ids.indexOf(leader2) + 1) % 3];
    sim.disconnect(leader2);
    sim.disconnect(other);
    sim.runFor(2 * 2_000);
    sim.checkNoLeader();

    // A quorum again: a leader is elected.
    sim.connect(other);
    sim.checkOneLeader();

    // Everyone back: still exactly one leader.
    sim.connect(leader2);
    sim.checkOneLeader();
  });

  scenario('many elections: 7 nodes, three random ones dropped ten times over', (seed) => {
    const sim = new SimCluster({ nodes: 7, seed });
    sim.checkOneLeader();
    for (let iter = 0; iter < 10; iter++) {
      const [a, b, c] = sim.random.shuffle(sim.ids);
      sim.disconnect(a);
      sim.disconnect(b);
      sim.disconnect(c);
      // Four of seven can still talk: they must have (or elect) a leader.
      sim.checkOneLeader();
      sim.connect(a);
      sim.connect(b);
      sim.connect(c);
    }
    sim.checkOneLeader();
  });
});
