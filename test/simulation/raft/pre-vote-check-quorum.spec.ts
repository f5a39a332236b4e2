import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Pre-vote and check-quorum (§9.6 of the Raft thesis): a node cut off from
 * the cluster must not bump its term and depose a healthy leader when it
 * returns, and a leader that cannot reach a majority steps down instead of
 * believing it still leads.
 */
describe('Raft pre-vote and check-quorum', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];

  scenario(
    'pre-vote: a rejoining partitioned follower neither bumps the term nor disrupts the leader',
    (seed) => {
      const sim = new SimCluster({ nodes: 3, seed });
      sim.one('before', 3);
      const leader = sim.checkOneLeader();
      const term = sim.checkTerms();
      const loner = peer(sim, leader, 1);

      // Ten seconds alone: many election timeouts, each only a pre-vote nobody answers.
      sim.disconnect(loner);
      sim.runFor(10_000);
      expect(sim.node(loner).raft!.currentTerm).toBe(term);
      expect(sim.node(loner).raft!.currentRole).toBe('pre-candidate');

      // Back: same leader, same term, and it catches up.
      sim.connect(loner);
      sim.runFor(1_000);
      expect(sim.checkOneLeader()).toBe(leader);
      expect(sim.checkTerms()).toBe(term);
      sim.one('after', 3);
      expect(sim.checkTerms()).toBe(term);
    },
  );

  scenario('without pre-vote and check-quorum the same story deposes the leader', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed, preVote: false, checkQuorum: false });
    sim.one('before', 3);
    const leader = sim.checkOneLeader();
    const term = sim.checkTerms();
    const loner = peer(sim, leader, 1);
    sim.disconnect(loner);
    sim.runFor(10_000);
    expect(sim.node(loner).raft!.currentTerm).toBeGreaterThan(term + 3);
    sim.connect(loner);
    // The disruption pre-vote prevents: at the loner's next election timeout its
    // inflated term deposes the leader and forces a new election.
    expect(sim.runUntil(() => sim.node(leader).raft!.currentTerm > term, 2_500)).toBe(true);
    const next = sim.checkOneLeader();
    expect(sim.node(next).raft!.currentTerm).toBeGreaterThan(term + 3);
  });

  scenario('pre-vote: a follower with a stale log cannot even start an election', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    const leader = sim.checkOneLeader();
    const stale = peer(sim, leader, 1);
    sim.disconnect(stale);
    for (let i = 0; i < 5; i++) sim.one(`v${i}`, 2);
    // The leader's lease and the stale log both refuse the loner's pre-votes.
    const term = sim.checkTerms();
    sim.connect(stale);
    sim.runFor(5_000);
    expect(sim.checkTerms()).toBe(term);
    expect(sim.checkOneLeader()).toBe(leader);
  });

  scenario('check-quorum: an isolated leader steps down within an election timeout', (seed) => {
    const sim = new SimCluster({ nodes: 5, seed });
    sim.one('x', 5);
    const leader1 = sim.checkOneLeader();

    // The leader and one follower form a minority.
    const minority = [leader1, peer(sim, leader1, 1)];
    const majority = sim.ids.filter((id) => !minority.includes(id));
    sim.partition(minority, majority);

    // It notices it lost its quorum: a full election timeout (1 s) plus one tick of slack.
    const stepped = sim.runUntil(
      () => sim.node(leader1).raft!.currentRole !== 'leader',
      1_000 + 2 * sim.tickMs * 10,
    );
    expect(stepped).toBe(true);

    // The majority elects a new leader; nothing the old one accepted meanwhile commits.
    const r = sim.propose(leader1, sim.commandFor('lost'));
    expect(r.ok).toBe(false);
    const leader2 = sim.checkOneLeader();
    expect(majority).toContain(leader2);
    sim.one('y', 3);

    sim.heal();
    sim.one('z', 5);
  });
});
