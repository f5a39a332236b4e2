import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';
import { Submitter } from './support/submitter';
import { RELIABLE, UNRELIABLE } from '../../fakes/fake-network';

/**
 * Log agreement (the classic 2B stories). `one(v, n)` submits v and waits
 * until n nodes applied it (fails after 10 s); nCommitted(i) counts the nodes
 * that applied index i and fails if two applied different entries there.
 * Index 1 of every log is the first leader's no-op.
 */
describe('Raft agreement', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];

  scenario('basic agreement: each command lands at the next index on every node', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.checkOneLeader();
    let expected = sim.one('first', 3) + 1;
    for (let i = 0; i < 3; i++) {
      expect(sim.nCommitted(expected).count).toBe(0); // nothing is committed before it is proposed
      expect(sim.one(`v${i}`, 3)).toBe(expected++);
    }
  });

  scenario('agreement despite a disconnected follower, which catches up on return', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('101', 3);
    const leader = sim.checkOneLeader();
    const follower = peer(sim, leader, 1);
    sim.disconnect(follower);

    // The leader and the remaining follower are a majority.
    sim.one('102', 2);
    sim.one('103', 2);
    sim.runFor(1_000);
    sim.one('104', 2);
    sim.one('105', 2);

    // Back on the network, the follower takes part again.
    sim.connect(follower);
    sim.one('106', 3);
    sim.runFor(1_000);
    sim.one('107', 3);
  });

  scenario('follower failure: with both followers gone, nothing commits', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('101', 3);
    const leader1 = sim.checkOneLeader();
    sim.disconnect(peer(sim, leader1, 1));
    sim.one('102', 2);
    sim.runFor(1_000);
    sim.one('103', 2);

    const leader2 = sim.checkOneLeader();
    sim.disconnect(peer(sim, leader2, 1));
    sim.disconnect(peer(sim, leader2, 2));
    const r = sim.propose(leader2, sim.commandFor('104'));
    if (!r.ok) throw new Error('the leader should still accept a proposal');
    sim.runFor(2 * 2_000);
    expect(sim.nCommitted(r.index).count).toBe(0);
  });

  scenario(
    'leader failure: a new leader takes over; without a majority nothing commits',
    (seed) => {
      const sim = new SimCluster({ nodes: 3, seed });
      sim.one('101', 3);
      const leader1 = sim.checkOneLeader();
      sim.disconnect(leader1);
      sim.one('102', 2);
      sim.runFor(1_000);
      sim.one('103', 2);

      const leader2 = sim.checkOneLeader();
      sim.disconnect(leader2);
      const indexes = sim.ids.map((id) => sim.propose(id, sim.commandFor('104')));
      sim.runFor(2 * 2_000);
      for (const r of indexes) if (r.ok) expect(sim.nCommitted(r.index).count).toBe(0);
    },
  );

  scenario(
    'no agreement without a majority; the minority-era entry is overwritten later',
    (seed) => {
      const sim = new SimCluster({ nodes: 5, seed });
      sim.one('10', 5);
      const leader = sim.checkOneLeader();
      for (let k = 1; k <= 3; k++) sim.disconnect(peer(sim, leader, k));

      const r = sim.propose(leader, sim.commandFor('20'));
      if (!r.ok) throw new Error('leader rejected a proposal');
      sim.runFor(2 * 2_000);
      expect(sim.nCommitted(r.index).count).toBe(0);

      for (let k = 1; k <= 3; k++) sim.connect(peer(sim, leader, k));
      // The leader may have stepped down (check-quorum) and been replaced; either way agreement resumes.
      const leader2 = sim.checkOneLeader();
      const r2 = sim.propose(leader2, sim.commandFor('30'));
      expect(r2.ok).toBe(true);
      sim.one('1000', 5);
    },
  );

  scenario('concurrent proposals all commit, each exactly once', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    const leader = sim.checkOneLeader();
    const values = Array.from({ length: 5 }, (_, i) => `c${100 + i}`);
    const indexes = values.map((v) => sim.propose(leader, sim.commandFor(v)));
    expect(indexes.every((r) => r.ok)).toBe(true);
    const all = indexes.map((r) => (r.ok ? r.index : -1));
    expect(new Set(all).size).toBe(values.length);
    const done = sim.runUntil(() => all.every((i) => sim.nCommitted(i).count === 3), 5_000);
    expect(done).toBe(true);
    const applied = all.map((i) => sim.nCommitted(i).data);
    expect(applied.sort()).toEqual(values.map((v) => sim.commandFor(v)).sort());
  });

  scenario('rejoin of a partitioned leader: its uncommitted entries are discarded', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('101', 3);

    // The leader is cut off and accepts proposals nobody will ever commit.
    const leader1 = sim.checkOneLeader();
    sim.disconnect(leader1);
    for (const v of ['102', '103', '104']) sim.propose(leader1, sim.commandFor(v));

    // The others elect a leader and commit at those same indexes.
    sim.one('103', 2);

    // The new leader is cut off; the old one returns.
    const leader2 = sim.checkOneLeader();
    sim.disconnect(leader2);
    sim.connect(leader1);
    sim.one('104', 2);

    // Everyone back.
    sim.connect(leader2);
    sim.one('105', 3);
  });

  scenario('fast backup over long divergent logs', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed });
    const rand = () => `r${sim.random.int(0, 1e9)}`;
    sim.one(rand(), 5);

    // Leader with one follower in a minority: 50 proposals that never commit.
    const leader1 = sim.checkOneLeader();
    for (const k of [2, 3, 4]) sim.disconnect(peer(sim, leader1, k));
    for (let i = 0; i < 50; i++) sim.propose(leader1, sim.commandFor(rand()));
    sim.runFor(500);
    for (const k of [0, 1]) sim.disconnect(peer(sim, leader1, k));

    // The other three commit 50 entries of their own.
    for (const k of [2, 3, 4]) sim.connect(peer(sim, leader1, k));
    for (let i = 0; i < 50; i++) sim.one(rand(), 3);

    // Now their leader, with one follower cut off, piles up 50 uncommitted entries.
    const leader2 = sim.checkOneLeader();
    let other = peer(sim, leader1, 2);
    if (other === leader2) other = peer(sim, leader2, 1);
    sim.disconnect(other);
    for (let i = 0; i < 50; i++) sim.propose(leader2, sim.commandFor(rand()));
    sim.runFor(500);

    // The first leader, its follower, and `other` form a majority and must
    // repair the two divergent logs quickly.
    for (const id of sim.ids) sim.disconnect(id);
    sim.connect(leader1);
    sim.connect(peer(sim, leader1, 1));
    sim.connect(other);
    sim.net.resetStats();
    for (let i = 0; i < 50; i++) sim.one(rand(), 3);
    // Backtracking by whole terms: a handful of rejections, not one per entry.
    expect(sim.net.stats.byType.AppendEntries).toBeLessThan(400);

    for (const id of sim.ids) sim.connect(id);
    sim.one(rand(), 5);
  });

  scenario('unreliable network: agreement with drops, duplicates and reordering', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed, faults: UNRELIABLE });
    const clients: Submitter[] = [];
    for (let iter = 1; iter < 50; iter++) {
      for (let j = 0; j < 4; j++) clients.push(new Submitter(sim, `${100 * iter + j}`, 1));
      sim.one(`${iter}`, 1);
    }
    expect(sim.runUntil(() => clients.every((c) => c.done), 30_000)).toBe(true);
    sim.setFaults(RELIABLE);
    sim.one('100', 5);
  });
});
