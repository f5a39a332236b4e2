import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Leadership transfer (§3.10 of the Raft thesis): the leader brings the
 * target's log up to date, then sends TimeoutNow; the target campaigns at
 * once (its voters waive the leader lease for it). Proposals are refused
 * while a transfer is in progress, and a transfer that cannot finish within
 * an election timeout is abandoned.
 */
describe('Raft leadership transfer', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];

  scenario('transfer to an up-to-date follower: it leads one term later, quickly', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('a', 3);
    const leader = sim.checkOneLeader();
    const term = sim.checkTerms();
    const target = peer(sim, leader, 1);

    sim.transferLeadership(leader, target);
    // Caught up already: the leader steps down into the next term at once, its vote
    // for the target going along with TimeoutNow.
    expect(sim.propose(leader, sim.commandFor('during'))).toMatchObject({
      ok: false,
      reason: 'not-leader',
    });
    expect(sim.node(leader).raft!.currentRole).toBe('follower');
    expect(sim.node(leader).raft!.currentTerm).toBe(term + 1);
    const done = sim.runUntil(() => sim.node(target).raft!.currentRole === 'leader', 200);
    expect(done).toBe(true);
    expect(sim.checkOneLeader()).toBe(target);
    expect(sim.checkTerms()).toBe(term + 1);
    sim.one('b', 3);
  });

  scenario('transfer to a lagging follower: it catches up first, then takes over', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('a', 3);
    const leader = sim.checkOneLeader();
    const target = peer(sim, leader, 2);
    sim.disconnect(target);
    for (let i = 0; i < 20; i++) sim.one(`v${i}`, 2);
    sim.connect(target);

    sim.transferLeadership(leader, target);
    // Still leading (refusing proposals) until the target has caught up.
    expect(sim.propose(leader, sim.commandFor('during'))).toMatchObject({
      ok: false,
      reason: 'transferring',
    });
    const done = sim.runUntil(() => sim.node(target).raft!.currentRole === 'leader', 1_000);
    expect(done).toBe(true);
    const last = sim.one('b', 3);
    expect(sim.nCommitted(last).count).toBe(3);
  });

  scenario('transfer to an unreachable node is abandoned after an election timeout', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('a', 3);
    const leader = sim.checkOneLeader();
    const target = peer(sim, leader, 1);
    sim.disconnect(target);
    sim.one('b', 2);

    sim.transferLeadership(leader, target);
    expect(sim.propose(leader, sim.commandFor('refused')).ok).toBe(false);
    sim.runFor(1_100);
    expect(sim.node(leader).raft!.currentRole).toBe('leader');
    expect(sim.propose(leader, sim.commandFor('accepted')).ok).toBe(true);
  });
});
