import { entrySize } from '@/core/raft/raft.types';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Message economy (the classic "RPC counts" and "RPC bytes" stories): an
 * election costs a few dozen messages, an agreement a constant number per
 * follower, an idle second only heartbeats, and each command's bytes go to
 * each follower once. Counts are messages (a request and its response are two).
 */
describe('Raft message counts', () => {
  scenario('an election, ten agreements and an idle second stay within bounds', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });

    // Election, up to the leader's no-op being committed.
    const elected = sim.runUntil(
      () => sim.connectedLeaders().some((n) => n.raft!.commitIndex >= 1),
      5_000,
    );
    expect(elected).toBe(true);
    const election = sim.net.stats.sent;
    expect(election).toBeGreaterThan(0);
    expect(election).toBeLessThanOrEqual(30);

    // Ten agreements one after another: append + ack, then commit + ack, per
    // follower; a heartbeat response that overtakes an in-flight append may
    // add one empty append + ack (the lost-message probe); plus heartbeats.
    sim.net.resetStats();
    const t0 = sim.clock.now();
    for (let i = 0; i < 10; i++) sim.one(`v${i}`, 3);
    const heartbeats = 2 * 2 * (Math.ceil((sim.clock.now() - t0) / 100) + 1);
    expect(sim.net.stats.sent).toBeLessThanOrEqual(10 * (8 + 2) + heartbeats);

    // Ten proposals in one batch travel in one AppendEntries per follower.
    const leader = sim.checkOneLeader();
    sim.net.resetStats();
    const raft = sim.node(leader).raft!;
    const rs = Array.from({ length: 10 }, (_, i) => raft.propose(sim.commandFor(`b${i}`)));
    sim.propose(leader, sim.commandFor('b-last')); // processes the Ready
    const last = rs.map((r) => (r.ok ? r.index : 0));
    expect(sim.runUntil(() => sim.nCommitted(Math.max(...last) + 1).count === 3, 2_000)).toBe(true);
    const appends = sim.net.stats.byType.AppendEntries ?? 0;
    expect(appends).toBeLessThanOrEqual(2 * 2 + 2 * 2); // entries + commit notice, per follower (+ heartbeat-driven retries)

    // Idle: heartbeats and their responses only (10 per second per follower).
    sim.runFor(200);
    sim.net.resetStats();
    sim.runFor(1_000);
    expect(sim.net.stats.sent).toBeLessThanOrEqual(2 * 2 * 11);
    expect(Object.keys(sim.net.stats.byType).sort()).toEqual(['Heartbeat', 'HeartbeatResponse']);
  });

  scenario('RPC bytes: each command is sent to each follower once', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    sim.one('99', 3);
    sim.net.resetStats();
    let expected = 0;
    for (let i = 0; i < 10; i++) {
      const cmd = Array.from({ length: 5000 }, () =>
        String.fromCharCode(97 + sim.random.int(0, 26)),
      ).join('');
      const index = sim.one(cmd, 3);
      const entry = sim.node(sim.checkOneLeader()).raft!.entries(index, index)[0];
      expected += 2 * entrySize(entry);
    }
    expect(sim.net.stats.bytes).toBeLessThanOrEqual(expected + 50_000);
  });
});
