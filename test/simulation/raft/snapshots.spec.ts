import { RELIABLE, UNRELIABLE } from '../../fakes/fake-network';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * Snapshots and log compaction (the classic 2D stories). Every node compacts
 * its log after 10 applied entries; a follower that falls behind the leader's
 * log gets InstallSnapshot. The safety checker compares state-machine digests
 * at every index, so a snapshot restored wrongly is caught at once.
 */
const SNAPSHOT_EVERY = 10;
/** Entries a node may hold beyond its snapshot: the compaction slack plus uncommitted proposals. */
const MAX_LOG_ENTRIES = 60;

describe('Raft snapshots', () => {
  const peer = (sim: SimCluster, id: string, k: number) =>
    sim.ids[(sim.ids.indexOf(id) + k) % sim.ids.length];
  const rand = (sim: SimCluster) => `${sim.random.int(0, 1e9)}`;
  const checkLogSize = (sim: SimCluster) => {
    for (const n of sim.allNodes()) {
      const stored = n.storage.lastIndex() - n.storage.firstIndex() + 1;
      if (stored > MAX_LOG_ENTRIES)
        throw new Error(
          `${n.id} keeps ${stored} entries: the log is not compacted (${sim.where()})`,
        );
    }
  };

  /** The classic snapcommon: 30 rounds of a victim dropping out while the sender pushes entries. */
  const snapCommon = (seed: number, disconnect: boolean, reliable: boolean, crash: boolean) => {
    const sim = new SimCluster({
      nodes: 3,
      seed,
      faults: reliable ? RELIABLE : UNRELIABLE,
      snapshotEvery: SNAPSHOT_EVERY,
    });
    sim.one(rand(sim), 3);
    let leader1 = sim.checkOneLeader();

    for (let i = 0; i < 30; i++) {
      let victim = peer(sim, leader1, 1);
      let sender = leader1;
      if (i % 3 === 1) {
        sender = peer(sim, leader1, 1);
        victim = leader1;
      }
      if (disconnect) {
        sim.disconnect(victim);
        sim.one(rand(sim), 2);
      }
      if (crash) {
        sim.crash(victim);
        sim.one(rand(sim), 2);
      }

      // Enough entries to force at least one snapshot.
      const nn = SNAPSHOT_EVERY / 2 + sim.random.int(0, SNAPSHOT_EVERY);
      for (let j = 0; j < nn; j++) sim.propose(sender, sim.commandFor(rand(sim)));
      sim.one(rand(sim), disconnect || crash ? 2 : 3);
      checkLogSize(sim);

      if (disconnect) {
        // The victim is now behind the leader's snapshot: it needs InstallSnapshot.
        sim.connect(victim);
        sim.one(rand(sim), 3);
        leader1 = sim.checkOneLeader();
      }
      if (crash) {
        sim.restart(victim);
        sim.one(rand(sim), 3);
        leader1 = sim.checkOneLeader();
      }
    }
    return sim;
  };

  scenario('snapshot basic: logs stay short while the cluster keeps agreeing', (seed) => {
    const sim = snapCommon(seed, false, true, false);
    expect(sim.allNodes().every((n) => n.raft!.snapshotIndex > 0)).toBe(true);
  });

  scenario(
    'snapshot install: a disconnected follower catches up through InstallSnapshot',
    (seed) => {
      const sim = snapCommon(seed, true, true, false);
      expect(sim.net.stats.byType.InstallSnapshot ?? 0).toBeGreaterThan(0);
    },
  );

  scenario('snapshot install on an unreliable network', (seed) => {
    snapCommon(seed, true, false, false);
  });

  scenario('snapshot install with crashes', (seed) => {
    snapCommon(seed, false, true, true);
  });

  scenario('snapshot install with crashes on an unreliable network', (seed) => {
    snapCommon(seed, false, false, true);
  });

  scenario(
    'snapshot all-crash: after every node restarts, the log continues after the snapshot',
    (seed) => {
      const sim = new SimCluster({ nodes: 3, seed, snapshotEvery: SNAPSHOT_EVERY });
      sim.one(rand(sim), 3);
      for (let i = 0; i < 5; i++) {
        const nn = SNAPSHOT_EVERY / 2 + sim.random.int(0, SNAPSHOT_EVERY);
        for (let j = 0; j < nn; j++) sim.one(rand(sim), 3);
        const index1 = sim.one(rand(sim), 3);

        for (const id of sim.ids) sim.crash(id);
        for (const id of sim.ids) sim.restart(id);

        const index2 = sim.one(rand(sim), 3);
        expect(index2).toBeGreaterThan(index1);
      }
    },
  );

  scenario('snapshot init: a node boots from its stored snapshot, twice', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed, snapshotEvery: SNAPSHOT_EVERY });
    sim.one(rand(sim), 3);
    for (let i = 0; i < SNAPSHOT_EVERY + 1; i++) sim.one(rand(sim), 3);
    for (let round = 0; round < 2; round++) {
      for (const id of sim.ids) sim.crash(id);
      for (const id of sim.ids) sim.restart(id);
      // Booted from the snapshot, not from an empty state machine.
      for (const n of sim.allNodes()) expect(n.lastApplied).toBeGreaterThanOrEqual(SNAPSHOT_EVERY);
      sim.one(rand(sim), 3);
    }
  });

  scenario('install to a lagging follower: state, log and a later restart all line up', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed, snapshotEvery: SNAPSHOT_EVERY });
    sim.one('first', 3);
    const leader = sim.checkOneLeader();
    const lagging = peer(sim, leader, 1);
    sim.disconnect(lagging);
    const behind = sim.node(lagging).raft!.lastIndex;

    for (let i = 0; i < 50; i++) sim.one(`while-away-${i}`, 2);
    const leaderRaft = sim.node(sim.checkOneLeader()).raft!;
    expect(leaderRaft.snapshotIndex).toBeGreaterThan(behind); // the entries the follower lacks are gone

    sim.net.resetStats();
    sim.connect(lagging);
    const index = sim.one('after-return', 3);
    expect(sim.net.stats.byType.InstallSnapshot ?? 0).toBeGreaterThanOrEqual(1);
    const node = sim.node(lagging);
    expect(node.raft!.snapshotIndex).toBeGreaterThan(behind);
    expect(node.lastApplied).toBe(index);
    expect(node.sm.stateHash).toBe(sim.node(sim.checkOneLeader()).sm.stateHash);

    // It restarts from the installed snapshot, not from scratch.
    sim.crash(lagging);
    sim.restart(lagging);
    expect(sim.node(lagging).lastApplied).toBeGreaterThan(behind);
    sim.one('after-restart', 3);
  });
});
