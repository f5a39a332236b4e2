import { scenario } from './support/scenario';
import { SimCluster, type SimNode } from './support/sim-cluster';

/**
 * Linearizable reads through ReadIndex (§6.4 of the Raft thesis): the leader
 * records its commit index, confirms it still leads with one heartbeat round
 * acknowledged by a majority, and the read is served once the serving node
 * applied up to that index. Followers forward the request to the leader.
 */
describe('Raft ReadIndex', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];
  let ctx = 0;
  const readOn = (sim: SimCluster, id: string, key: string): { value: string | undefined } => {
    const out: { value: string | undefined } = { value: undefined };
    const r = sim.read(id, `read-${ctx++}`, (n: SimNode) => (out.value = n.sm.get(key)));
    if (!r.ok) throw new Error(`read refused on ${id}`);
    return out;
  };
  const keyOf = (sim: SimCluster, value: string) =>
    (JSON.parse(sim.commandFor(value)) as { key: string }).key;

  scenario('reads on the leader and on followers see every completed write', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    const leader = sim.checkOneLeader();
    sim.one('w1', 3);
    const key = keyOf(sim, 'w2');
    sim.one('w2', 1); // completed once the first node applied it

    for (const id of [leader, peer(sim, leader, 1), peer(sim, leader, 2)]) {
      const out = readOn(sim, id, key);
      expect(sim.runUntil(() => out.value !== undefined, 1_000)).toBe(true);
      expect(out.value).toBe('w2');
    }
  });

  scenario('a deposed leader cut off from the majority cannot confirm a read', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed, checkQuorum: false });
    sim.one('old', 5);
    const leader1 = sim.checkOneLeader();
    const key = keyOf(sim, 'new');

    // The old leader is partitioned away (and, without check-quorum, still thinks it leads).
    sim.partition(
      [leader1],
      sim.ids.filter((id) => id !== leader1),
    );
    const newLeader = () =>
      sim.allNodes().find((n) => n.id !== leader1 && n.raft!.currentRole === 'leader');
    expect(sim.runUntil(() => newLeader() !== undefined, 5_000)).toBe(true);
    const leader2 = newLeader()!.id;
    sim.one('new', 4);
    expect(sim.node(leader1).raft!.currentRole).toBe('leader');

    // Its read never completes: no majority acknowledges its heartbeats.
    const stale = readOn(sim, leader1, key);
    sim.runFor(3_000);
    expect(stale.value).toBeUndefined();

    // The real leader answers with the new value.
    const fresh = readOn(sim, leader2, key);
    expect(sim.runUntil(() => fresh.value !== undefined, 1_000)).toBe(true);
    expect(fresh.value).toBe('new');
  });

  scenario('a new leader serves reads only after committing an entry of its term', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('v', 3);
    const leader1 = sim.checkOneLeader();
    sim.crash(leader1);
    const leader2 = sim.checkOneLeader();
    const out = readOn(sim, leader2, keyOf(sim, 'v'));
    expect(sim.runUntil(() => out.value !== undefined, 1_000)).toBe(true);
    expect(out.value).toBe('v');
    // The read index it used is at or after the new term's no-op.
    expect(sim.node(leader2).raft!.commitIndex).toBeGreaterThan(2);
  });
});
