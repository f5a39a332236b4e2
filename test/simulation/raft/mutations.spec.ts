import { Leader } from '@/core/raft/leader';
import type { WorkloadOptions } from './support/kv-workload';
import { SimCluster, type SimOptions } from './support/sim-cluster';
import { runSearchSeed } from './support/search-seed';

/**
 * Mutation checks: three ways a host or the core could cut corners on
 * durability to go faster, each of which must be caught by the randomized
 * search (a safety violation or a non-linearizable history) within a small
 * seed budget — and the same seeds pass once the mutation is removed.
 * Disks are slower than the network here (fsync up to 20 ms), which is when
 * these bugs bite; 3 nodes, so one lost replica is a lost majority.
 *
 *   RAFT_MUTATION_SEEDS=<n>   seed budget per mutation (default 200)
 */
const BUDGET = Number(process.env.RAFT_MUTATION_SEEDS ?? '200');
const SHAPE: Partial<SimOptions> = { nodes: 3, diskMs: 20 };
/** faults every 30–150 ms instead of 200–1000: more crashes land inside a write */
const FAULTS: Partial<WorkloadOptions> = { faultEveryMs: [30, 150] };

function firstCaught(overrides: Partial<SimOptions>): { seed: number; error: string } | null {
  for (let seed = 1; seed <= BUDGET; seed++) {
    const o = runSearchSeed(seed, { ...SHAPE, ...overrides }, FAULTS);
    if (!o.ok) return { seed, error: o.error ?? '' };
  }
  return null;
}

function expectCaught(name: string, overrides: Partial<SimOptions>): void {
  const caught = firstCaught(overrides);
  if (!caught) throw new Error(`mutation "${name}" survived ${BUDGET} seeds`);
  console.log(
    `mutation "${name}" caught at seed ${caught.seed}: ${caught.error.split('\n')[0].slice(0, 240)}`,
  );
  // Without the mutation the same seed is fine: the bug is the mutation, not the harness.
  restoreLeader();
  const control = runSearchSeed(caught.seed, SHAPE, FAULTS);
  expect(control.error).toBeUndefined();
  expect(control.ok).toBe(true);
}

const appendLocal = Leader.prototype.appendLocal;
function restoreLeader(): void {
  Leader.prototype.appendLocal = appendLocal;
}

describe('Raft durability mutations are caught by the simulation', () => {
  afterEach(restoreLeader);

  it('acking a proposal before its fsync', () => {
    expectCaught('ack-before-fsync', { mutation: 'ack-before-fsync' });
  }, 300_000);

  it('a follower acking AppendEntries before persisting the batch', () => {
    expectCaught('follower-ack-before-persist', { mutation: 'follower-ack-before-persist' });
  }, 300_000);

  /**
   * The story: the leader's disk is slow (100 ms) and one follower is cut
   * off. A proposal reaches the other follower, which persists and acks it.
   * Counting itself before its own fsync, the leader calls the entry
   * committed and says so; the follower applies it. The leader dies before
   * its write lands, comes back without the entry and, with the cut-off
   * follower, elects a leader that overwrites it: a committed entry is lost.
   * The correct leader never counted itself, so nothing was committed.
   */
  function slowLeaderDisk(seed: number): void {
    const sim = new SimCluster({ nodes: 3, seed, diskMs: 0 });
    const leader = sim.checkOneLeader();
    sim.one('a', 3);
    const [acker, cutOff] = sim.ids.filter((id) => id !== leader);
    sim.disconnect(cutOff);
    sim.node(leader).diskMs = 100;
    const r = sim.propose(leader, sim.commandFor('x'));
    expect(r.ok).toBe(true);
    sim.runFor(30); // the acker has it durably; the leader's write is still running
    sim.disconnect(acker);
    sim.crash(leader);
    sim.node(leader).diskMs = null;
    sim.restart(leader);
    sim.connect(cutOff);
    expect(sim.runUntil(() => sim.connectedLeaders().length > 0, 5_000)).toBe(true);
    sim.one('b', 2); // the new leader commits over the slot of x
    sim.connect(acker);
    sim.one('c', 3);
  }

  it('counting the leader in the quorum before its own write is durable', () => {
    slowLeaderDisk(7); // control: the correct core keeps every committed entry
    Leader.prototype.appendLocal = function (this: Leader, items) {
      const at = appendLocal.call(this, items);
      this.selfDurable(at.index); // the mutation: counted at append time
      return at;
    };
    let caught: unknown;
    try {
      slowLeaderDisk(7);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    console.log(`mutation "leader-counted-before-durable" caught: ${(caught as Error).message}`);
    expect((caught as Error).message).toMatch(/committed|State Machine Safety|Leader Completeness/);
  });
});
