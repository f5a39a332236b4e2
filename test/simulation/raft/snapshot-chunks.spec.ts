import type { RaftMessage } from '@/core/raft/raft.messages';
import { RELIABLE, UNRELIABLE } from '../../fakes/fake-network';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * InstallSnapshot in chunks (Figure 13's offset/done). A follower cut off
 * while the others compact comes back and must catch up through a snapshot
 * of many small chunks while chunks are lost, duplicated and reordered, the
 * leader changes mid-transfer, or the follower restarts mid-transfer. The
 * safety checker compares state digests at every applied index, so a snapshot
 * assembled from the wrong bytes is caught at once.
 */
const SNAPSHOT_EVERY = 10;
const CHUNK = 16;

const isChunk = (m: RaftMessage) => m.type === 'InstallSnapshot';
const isChunkTraffic = (m: RaftMessage) =>
  m.type === 'InstallSnapshot' || m.type === 'InstallSnapshotResponse';

/** A 3-node cluster whose third member missed enough entries to need a snapshot. */
function lagging(seed: number) {
  const sim = new SimCluster({
    nodes: 3,
    seed,
    snapshotEvery: SNAPSHOT_EVERY,
    snapshotChunkBytes: CHUNK,
  });
  sim.one('first', 3);
  const leader = sim.checkOneLeader();
  const behind = sim.ids.find((id) => id !== leader)!;
  sim.disconnect(behind);
  const before = sim.node(behind).raft!.lastIndex;
  for (let i = 0; i < 40; i++) sim.one(`while-away-${i}`, 2);
  const leaderRaft = sim.node(sim.checkOneLeader()).raft!;
  expect(leaderRaft.snapshotIndex).toBeGreaterThan(before);
  sim.net.resetStats();
  return { sim, behind };
}

/** Chunks delivered to `to` so far, counted by a filter that lets `pass` decide. */
function countChunks(sim: SimCluster, to: string, pass: (m: RaftMessage) => boolean) {
  const seen = { delivered: 0 };
  sim.net.filter = (_from, dest, m) => {
    if (!pass(m)) return false;
    if (dest === to && isChunk(m)) seen.delivered++;
    return true;
  };
  return seen;
}

function expectCaughtUp(sim: SimCluster, id: string): void {
  const index = sim.one(`after-${id}-returned`, 3);
  const node = sim.node(id);
  expect(node.lastApplied).toBe(index);
  expect(node.sm.stateHash).toBe(sim.node(sim.checkOneLeader()).sm.stateHash);
}

describe('Raft snapshots in chunks', () => {
  scenario('a lagging follower installs a snapshot sent in many chunks', (seed) => {
    const { sim, behind } = lagging(seed);
    sim.connect(behind);
    expectCaughtUp(sim, behind);
    const chunks = sim.net.stats.byType.InstallSnapshot ?? 0;
    expect(chunks).toBeGreaterThan(3);
    expect(sim.net.stats.byType.InstallSnapshotResponse ?? 0).toBeGreaterThan(0);
  });

  scenario('a third of the chunks and their answers lost, the rest reordered', (seed) => {
    const { sim, behind } = lagging(seed);
    sim.setFaults({ ...UNRELIABLE, dropRate: 0.02 });
    countChunks(sim, behind, (m) => !isChunkTraffic(m) || !sim.random.chance(0.33));
    sim.connect(behind);
    expectCaughtUp(sim, behind);
    expect(sim.net.stats.dropped).toBeGreaterThan(0);
  });

  scenario('the leader is cut off mid-transfer: the next leader starts its own', (seed) => {
    const { sim, behind } = lagging(seed);
    const first = sim.checkOneLeader();
    const seen = countChunks(sim, behind, () => true);
    sim.connect(behind);
    expect(sim.runUntil(() => seen.delivered >= 3, 5_000)).toBe(true);
    expect(sim.node(behind).raft!.snapshotIndex).toBe(0); // still assembling
    sim.disconnect(first);
    const index = sim.one('under-a-new-leader', 2);
    expect(sim.checkOneLeader()).not.toBe(first);
    expect(sim.node(behind).lastApplied).toBeGreaterThanOrEqual(index);
    sim.connect(first);
    expectCaughtUp(sim, first);
  });

  scenario('the follower restarts mid-transfer and takes it from the start', (seed) => {
    const { sim, behind } = lagging(seed);
    const seen = countChunks(sim, behind, () => true);
    sim.connect(behind);
    expect(sim.runUntil(() => seen.delivered >= 3, 5_000)).toBe(true);
    sim.crash(behind);
    sim.restart(behind);
    expect(sim.node(behind).raft!.snapshotIndex).toBe(0); // nothing half-installed survived
    expectCaughtUp(sim, behind);
  });

  scenario('a chunk window of one on a slow, lossy link still completes', (seed) => {
    const sim = new SimCluster({
      nodes: 3,
      seed,
      snapshotEvery: SNAPSHOT_EVERY,
      snapshotChunkBytes: 8,
      maxInflightSnapshotChunks: 1,
      faults: RELIABLE,
    });
    sim.one('first', 3);
    const behind = sim.ids.find((id) => id !== sim.checkOneLeader())!;
    sim.disconnect(behind);
    for (let i = 0; i < 30; i++) sim.one(`away-${i}`, 2);
    sim.setFaults({ ...RELIABLE, maxDelayMs: 40, dropRate: 0.1 });
    sim.connect(behind);
    expectCaughtUp(sim, behind);
  });
});
