import type { LogEntry, Snapshot } from '@/core/raft/raft.types';
import type { RaftNode } from '@/core/raft/raft-node';
import type { MemoryRaftStorage } from '../../../fakes/memory-raft-storage';

/**
 * Raft's safety properties (Figure 3 of the paper), checked incrementally on
 * every step of a simulation so a violation is caught at the event that
 * caused it:
 *  - Election Safety: at most one leader per term;
 *  - Log Matching: all nodes agree on the data and predecessor term of every
 *    (index, term) pair, which by induction makes equal-(index, term) logs
 *    identical up to that index;
 *  - Leader Completeness: a new leader holds every entry applied anywhere;
 *  - State Machine Safety: no two nodes apply different entries at an index,
 *    no node applies an index twice or out of order, and replicas that applied
 *    the same prefix (or restored a snapshot of it) have the same state.
 */
export class SafetyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetyViolation';
  }
}

interface EntryFact {
  readonly prevTerm: number;
  readonly data: string;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, string>();
  private readonly entryFacts = new Map<string, EntryFact>();
  /**
   * index -> the entry applied there (by anyone), and an upper bound on the
   * term it was committed in: the lowest current term of a node applying it
   * (a node learns of a commit at its own term or later).
   */
  readonly committed = new Map<number, { term: number; data: string; committedBy: number }>();
  private readonly stateAt = new Map<number, number>();
  maxApplied = 0;

  constructor(private readonly where: () => string) {}

  fail(what: string): never {
    throw new SafetyViolation(`${what} (${this.where()})`);
  }

  /** After storage took a Ready: every newly stored entry must agree with what others stored. */
  onPersisted(
    node: string,
    entries: readonly LogEntry[],
    snapshot: Snapshot | undefined,
    storage: MemoryRaftStorage,
  ): void {
    if (snapshot) this.checkSnapshot(node, snapshot);
    for (const e of entries) {
      const prevTerm = storage.termAt(e.index - 1);
      if (prevTerm === undefined)
        this.fail(`${node} stored entry ${e.index} without its predecessor`);
      if (e.term < prevTerm)
        this.fail(`${node} stored entry ${e.index} of term ${e.term} after term ${prevTerm}`);
      const key = `${e.index}:${e.term}`;
      const fact = this.entryFacts.get(key);
      const data = dataKey(e);
      if (!fact) {
        this.entryFacts.set(key, { prevTerm, data });
      } else if (fact.prevTerm !== prevTerm || fact.data !== data) {
        this.fail(
          `Log Matching violated at ${key} on ${node}: prevTerm ${prevTerm} / ${data} vs ${fact.prevTerm} / ${fact.data}`,
        );
      }
    }
  }

  checkSnapshot(node: string, s: Snapshot): void {
    const c = this.committed.get(s.index);
    if (c && c.term !== s.term)
      this.fail(
        `${node} got snapshot (${s.index}, ${s.term}) but ${s.index} committed in term ${c.term}`,
      );
  }

  /** A node (now at `currentTerm`) applied `entry`; `lastApplied` is what that incarnation applied before it. */
  onApply(node: string, entry: LogEntry, lastApplied: number, currentTerm: number): void {
    if (entry.index !== lastApplied + 1) {
      this.fail(
        `${node} applied ${entry.index} after ${lastApplied} (an entry applied twice, or skipped)`,
      );
    }
    const data = dataKey(entry);
    const c = this.committed.get(entry.index);
    if (!c) {
      this.committed.set(entry.index, { term: entry.term, data, committedBy: currentTerm });
      if (entry.index > this.maxApplied) this.maxApplied = entry.index;
    } else if (c.term !== entry.term || c.data !== data) {
      this.fail(
        `State Machine Safety violated at ${entry.index} on ${node}: (${entry.term}, ${data}) vs (${c.term}, ${c.data})`,
      );
    } else if (currentTerm < c.committedBy) {
      c.committedBy = currentTerm;
    }
  }

  /** The replica's state digest after reaching `index` (by applying or restoring). */
  onState(node: string, index: number, hash: number): void {
    const known = this.stateAt.get(index);
    if (known === undefined) this.stateAt.set(index, hash);
    else if (known !== hash)
      this.fail(`${node} has state ${hash} at ${index}, another replica had ${known}`);
  }

  /** Election Safety for the current leaders; Leader Completeness for new ones. */
  onLeaders(nodes: readonly { id: string; raft: RaftNode | null }[]): void {
    for (const { id, raft } of nodes) {
      if (!raft || raft.currentRole !== 'leader') continue;
      const term = raft.currentTerm;
      const known = this.leaderOfTerm.get(term);
      if (known === id) continue;
      if (known !== undefined)
        this.fail(`Election Safety violated: ${known} and ${id} both lead term ${term}`);
      this.leaderOfTerm.set(term, id);
      this.checkLeaderCompleteness(id, raft);
    }
  }

  /**
   * Leader Completeness: an entry committed in term T is in the log of every
   * leader of a term after T. (A leader of an older term can still appear
   * late, e.g. when its vote replies were delayed; it will never commit.)
   */
  private checkLeaderCompleteness(id: string, raft: RaftNode): void {
    const term = raft.currentTerm;
    for (let i = raft.snapshotIndex + 1; i <= this.maxApplied; i++) {
      const c = this.committed.get(i);
      if (!c || c.committedBy >= term) continue;
      const t = raft.termAt(i);
      if (t !== c.term) {
        this.fail(
          `Leader Completeness violated: new leader ${id} (term ${raft.currentTerm}) has term ${t} at committed index ${i} (term ${c.term})`,
        );
      }
    }
    if (raft.snapshotIndex > 0) {
      const c = this.committed.get(raft.snapshotIndex);
      if (c && c.committedBy < term && raft.termAt(raft.snapshotIndex) !== c.term) {
        this.fail(`new leader ${id} snapshot disagrees with committed log`);
      }
    }
  }

  leaders(): ReadonlyMap<number, string> {
    return this.leaderOfTerm;
  }
}

function dataKey(e: LogEntry): string {
  const d = e.data;
  return `${e.type}:${typeof d === 'string' ? d : Array.from(d).join(',')}`;
}
