import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Persistence across crashes (the classic 2C stories). crash() drops
 * everything a node did not hand to storage; restart() boots it from storage
 * only. Committed entries must survive any crash of a minority, and of
 * everyone at once.
 */
describe('Raft persistence', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];
  const bounce = (sim: SimCluster, id: string) => {
    sim.crash(id);
    sim.restart(id);
  };

  scenario(
    'a vote survives a crash: the voter cannot elect a second leader in the same term',
    (seed) => {
      const sim = new SimCluster({ nodes: 3, seed });
      const [n1, n2, n3] = sim.ids;
      // n1 and n2 cannot hear each other; n3 hears both.
      sim.net.cut(n1, n2);
      sim.campaign(n1);
      expect(sim.runUntil(() => sim.node(n1).raft!.currentRole === 'leader', 1_000)).toBe(true);
      const term = sim.node(n1).raft!.currentTerm;
      expect(sim.node(n2).raft!.currentTerm).toBe(term - 1);

      // n3, which voted for n1, loses touch with it, crashes and restarts at once.
      sim.net.cut(n1, n3);
      sim.crash(n3);
      sim.restart(n3);

      // n2 now asks n3 for a vote in that same term: n3 must remember it already voted.
      sim.campaign(n2);
      sim.runFor(100);
      expect(sim.node(n2).raft!.currentRole).not.toBe('leader');
      expect(sim.node(n3).raft!.status().vote).toBe(n1);

      sim.heal();
      sim.one('after', 3);
    },
  );

  scenario('persist 1: whole-cluster restart, leader restart, follower restart', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('11', 3);

    // Everyone crashes and comes back.
    for (const id of sim.ids) sim.crash(id);
    for (const id of sim.ids) sim.restart(id);
    sim.one('12', 3);

    // The leader crashes and comes back.
    const leader1 = sim.checkOneLeader();
    bounce(sim, leader1);
    sim.one('13', 3);

    // The next leader is down while the others commit; it catches up on return.
    const leader2 = sim.checkOneLeader();
    sim.crash(leader2);
    const index = sim.one('14', 2);
    sim.restart(leader2);
    expect(sim.runUntil(() => sim.nCommitted(index).count === 3, 5_000)).toBe(true);

    // A follower is down for a while.
    const i3 = peer(sim, sim.checkOneLeader(), 1);
    sim.crash(i3);
    sim.one('15', 2);
    sim.restart(i3);
    sim.one('16', 3);
  });

  scenario('persist 2: five nodes, partitions and restarts, five times over', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed });
    let index = 1;
    for (let iter = 0; iter < 5; iter++) {
      sim.one(`${10 + index++}`, 5);
      const leader1 = sim.checkOneLeader();
      const p = (k: number) => peer(sim, leader1, k);

      sim.disconnect(p(1));
      sim.disconnect(p(2));
      sim.one(`${10 + index++}`, 3);

      sim.disconnect(p(0));
      sim.disconnect(p(3));
      sim.disconnect(p(4));

      // The two that missed the last entry restart; only they are connected.
      for (const k of [1, 2]) {
        bounce(sim, p(k));
        sim.connect(p(k));
      }
      sim.runFor(1_000);

      // One that has the entry joins them: a majority again.
      bounce(sim, p(3));
      sim.connect(p(3));
      sim.one(`${10 + index++}`, 3);

      sim.connect(p(4));
      sim.connect(p(0));
    }
    sim.one('1000', 5);
  });

  scenario(
    'persist 3: the leader and a follower crash; a stale follower and the restarted leader carry on',
    (seed) => {
      const sim = new SimCluster({ nodes: 3, seed });
      sim.one('101', 3);
      const leader = sim.checkOneLeader();
      const p = (k: number) => peer(sim, leader, k);

      sim.disconnect(p(2));
      sim.one('102', 2);

      sim.crash(p(0));
      sim.crash(p(1));
      sim.connect(p(2));
      sim.restart(p(0));
      sim.one('103', 2);

      sim.restart(p(1));
      sim.one('104', 3);
    },
  );
});
