import { ProposalTable } from '@/core/raft/proposal-table';
import type { NodeId } from '@/core/raft/raft.types';
import { scenario } from './support/scenario';
import { SimCluster } from './support/sim-cluster';

/**
 * The host's proposal bookkeeping (RaftHost keeps one ProposalTable) under a
 * leader change that hands a log slot back to the same node: a proposal cut
 * from the log and a newer one at the same index must each get their own
 * answer. Before the table, a timed-out proposal deleted whatever waited at
 * its index, so the newer proposal committed and its client was told "unknown".
 */
const TIMEOUT_MS = 5_000;

type Outcome = 'committed' | 'lost' | 'unknown';

class Waiter {
  outcome: Outcome | null = null;

  settle(o: Outcome): void {
    if (this.outcome !== null) throw new Error(`settled twice: ${this.outcome}, then ${o}`);
    this.outcome = o;
  }
}

describe('Raft proposals as the host tracks them', () => {
  scenario('a timed-out proposal never settles a newer one at the same index', (seed) => {
    const sim = new SimCluster({ nodes: 3, seed });
    const tables = new Map<NodeId, ProposalTable<Waiter>>(
      sim.ids.map((id) => [id, new ProposalTable<Waiter>(TIMEOUT_MS)]),
    );
    sim.onApply((node, e) => {
      const r = tables.get(node.id)!.applied(e.index, e.term);
      r?.waiter.settle(r.outcome);
    });
    // The host's tick: deadlines pass on every node every 10 ms.
    sim.clock.every(10, () => {
      for (const t of tables.values())
        for (const w of t.expire(sim.clock.now())) w.settle('unknown');
    });
    const propose = (id: NodeId, value: string) => {
      const r = sim.propose(id, sim.commandFor(value));
      if (!r.ok) throw new Error(`${id} should lead`);
      const w = new Waiter();
      tables.get(id)!.track(r.index, r.term, sim.clock.now(), w)?.settle('lost');
      return { ...r, w };
    };
    const leads = (id: NodeId) => sim.node(id).raft?.currentRole === 'leader';
    const [n1, n2, n3] = sim.ids;

    sim.campaign(n1);
    expect(sim.runUntil(() => leads(n1), 1_000)).toBe(true);
    sim.one('base', 3);

    // n1 appends three proposals nobody else sees.
    sim.partition([n1], [n2, n3]);
    const proposedAt = sim.clock.now();
    const [a1, a2, a3] = ['a1', 'a2', 'a3'].map((v) => propose(n1, v));

    // n2 or n3 wins the next term; its no-op takes a1's slot and commits.
    expect(sim.runUntil(() => leads(n2) || leads(n3), 5_000)).toBe(true);
    const l2 = leads(n2) ? n2 : n3;
    expect(sim.runUntil(() => sim.node(l2).raft!.commitIndex >= a1.index, 1_000)).toBe(true);

    // n1 rejoins and is cut back to that no-op: a1 is settled (lost), a2 and a3 wait on empty slots.
    sim.heal();
    expect(sim.runUntil(() => sim.node(n1).applied.has(a1.index), 1_000)).toBe(true);
    expect(sim.node(n1).raft!.lastIndex).toBe(a1.index);
    expect(a1.w.outcome).toBe('lost');

    // Leadership goes back to n1 (a transfer): its no-op takes a2's slot, a3's slot is free.
    sim.transferLeadership(l2, n1);
    expect(sim.runUntil(() => leads(n1) && sim.node(n1).applied.has(a2.index), 1_000)).toBe(true);
    expect(a2.w.outcome).toBe('lost');

    // Shortly before a3's deadline, n1 proposes b into a3's slot; b commits only after that deadline.
    const deadline = proposedAt + TIMEOUT_MS;
    expect(sim.clock.now()).toBeLessThan(deadline - 200);
    sim.runFor(deadline - 100 - sim.clock.now());
    expect(leads(n1)).toBe(true);
    const b = propose(n1, 'b');
    expect(b.index).toBe(a3.index);
    expect(a3.w.outcome).toBe('lost'); // its entry is gone from n1's log: it can never commit
    sim.disconnect(n1);
    sim.runFor(200);
    sim.connect(n1);
    expect(sim.runUntil(() => sim.node(n1).applied.has(b.index), 2_000)).toBe(true);
    expect(b.w.outcome).toBe('committed');
    expect(tables.get(n1)!.size).toBe(0);
  });
});
