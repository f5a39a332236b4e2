import { RELIABLE, UNRELIABLE } from '../../fakes/fake-network';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Figure 8 of the Raft paper: leaders come and go quickly, each leaving
 * entries of its own term on a few nodes. A leader must never commit an entry
 * of an earlier term by counting replicas (only its own term's entries), or a
 * later leader could overwrite a "committed" entry. The safety checker would
 * catch that as two different entries applied at one index. Entries travel
 * one per message here: batched, a new leader's no-op would ride along with
 * the old entries and hide a missing Figure 8 rule.
 */
describe('Raft Figure 8', () => {
  /**
   * The paper's Figure 8, staged exactly. A message filter holds back each new
   * leader's own-term entries (its no-op), which is the only way an old-term
   * entry can sit on a majority alone, the situation the rule is about.
   */
  scenario('figure 8, step by step: an old-term entry on a majority is not committed', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed, maxEntriesPerMessage: 1 });
    const [s1, s2] = sim.ids;
    const leaderAmong = (ids: string[]) =>
      ids.find((id) => sim.node(id).raft?.currentRole === 'leader');

    // S1 leads; everyone has the first entries.
    sim.campaign(s1);
    expect(sim.runUntil(() => leaderAmong([s1]) !== undefined, 1_000)).toBe(true);
    sim.one('base', 5);
    const lastBase = sim.node(s1).raft!.lastIndex;

    // (a) S1 replicates entry k = "a" (its term) to S2 only, then crashes.
    sim.partition([s1, s2], sim.ids.slice(2));
    const a = sim.propose(s1, sim.commandFor('a'));
    if (!a.ok) throw new Error('s1 should lead');
    expect(a.index).toBe(lastBase + 1);
    expect(sim.runUntil(() => sim.node(s2).raft!.lastIndex === a.index, 500)).toBe(true);
    sim.crash(s1);

    // (b) One of S3..S5 wins a later term; its no-op takes slot k on itself only.
    const others = sim.ids.slice(2);
    sim.net.filter = (from, _to, m) => !(others.includes(from) && m.type === 'AppendEntries');
    expect(sim.runUntil(() => leaderAmong(others) !== undefined, 5_000)).toBe(true);
    const s5 = leaderAmong(others)!;
    expect(sim.node(s5).raft!.termAt(a.index)).toBeGreaterThan(a.term);
    sim.crash(s5);
    const [r1, r2] = others.filter((id) => id !== s5);

    // (c) S1 returns and leads again (with S2, or S2 does). It brings a third
    // node up to k, but its own no-op gets through only to S2: "a" is on a
    // majority (leader, S2, R1) without any entry of the current term.
    const seen = new Set<string>();
    sim.net.filter = (from, to, m) => {
      if (m.type !== 'AppendEntries' || !m.entries.some((e) => e.term === m.term)) return true;
      if (seen.has(`${from}>${to}`)) return false;
      seen.add(`${from}>${to}`);
      return to !== r2; // R2 never gets the leader's entries of its own term
    };
    sim.partition([s1, s2, r1]);
    sim.restart(s1);
    expect(sim.runUntil(() => leaderAmong([s1, s2]) !== undefined, 5_000)).toBe(true);
    const s1Again = leaderAmong([s1, s2])!;
    expect(sim.runUntil(() => sim.node(r1).storage.termAt(a.index) === a.term, 2_000)).toBe(true);
    sim.runFor(300);
    // Figure 8's rule: counting replicas never commits an entry of an older term.
    expect(sim.node(s1Again).raft!.commitIndex).toBeLessThan(a.index);
    sim.crash(s1Again);

    // (d) S5 returns and wins with R1 and R2 (its last term beats theirs), and
    // overwrites slot k. Had "a" been committed, the safety checker would now
    // see two different entries applied at k.
    sim.net.filter = null;
    sim.partition([s5, r1, r2]);
    sim.restart(s5);
    expect(sim.runUntil(() => leaderAmong([s5, r1, r2]) !== undefined, 5_000)).toBe(true);
    sim.one('after', 3);

    sim.heal();
    for (const id of sim.ids) sim.restart(id);
    sim.one('final', 5);
  });

  scenario('figure 8: leaders crash right after proposing', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed, maxEntriesPerMessage: 1 });
    const rand = () => `${sim.random.int(0, 1e9)}`;
    sim.one(rand(), 1);

    let up = 5;
    for (let iter = 0; iter < 1000; iter++) {
      let leader: string | null = null;
      for (const id of sim.ids) if (sim.propose(id, sim.commandFor(rand())).ok) leader = id;

      sim.runFor(sim.random.chance(0.1) ? sim.random.int(0, 500) : sim.random.int(0, 13));

      if (leader !== null) {
        sim.crash(leader);
        up--;
      }
      if (up < 3) {
        const s = sim.random.pick(sim.ids);
        if (!sim.node(s).alive) {
          sim.restart(s);
          up++;
        }
      }
    }
    for (const id of sim.ids) sim.restart(id);
    sim.one(rand(), 5);
  });

  scenario(
    'figure 8 on an unreliable network: leaders are cut off right after proposing',
    (seed) => {
      const sim = new SimCluster({
        nodes: 5,
        seed,
        maxEntriesPerMessage: 1,
        faults: { ...UNRELIABLE, longDelayRate: 0 },
      });
      const rand = () => `${sim.random.int(0, 10_000)}`;
      sim.one(rand(), 1);

      let up = 5;
      for (let iter = 0; iter < 1000; iter++) {
        if (iter === 200) sim.setFaults(UNRELIABLE); // long reordering from here on
        let leader: string | null = null;
        for (const id of sim.ids) if (sim.propose(id, sim.commandFor(rand())).ok) leader = id;

        sim.runFor(sim.random.chance(0.1) ? sim.random.int(0, 500) : sim.random.int(0, 13));

        if (leader !== null && sim.random.chance(0.5)) {
          sim.disconnect(leader);
          up--;
        }
        if (up < 3) {
          const s = sim.random.pick(sim.ids);
          if (!sim.net.isConnected(s)) {
            sim.connect(s);
            up++;
          }
        }
      }
      for (const id of sim.ids) sim.connect(id);
      sim.one(rand(), 5);
      sim.setFaults(RELIABLE);
    },
  );
});
