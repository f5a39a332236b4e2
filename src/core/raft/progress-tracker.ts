import type { NodeId } from './raft.types';
import { Progress } from './progress';

/**
 * Every voter's Progress plus the two majority computations Raft needs.
 * Invariant: the commit candidate is the highest index replicated on a
 * majority (the caller still applies Figure 8's current-term rule), and a
 * quorum is always a strict majority of the fixed voter set.
 */
export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();

  constructor(
    private readonly self: NodeId,
    readonly voters: readonly NodeId[],
    readonly quorum: number,
    next: number,
    maxInflight: number,
  ) {
    for (const id of voters) this.progress.set(id, new Progress(next, maxInflight));
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  peers(): NodeId[] {
    return this.voters.filter((v) => v !== this.self);
  }

  /** The largest index that a majority of voters hold (by matchIndex). */
  committedIndex(): number {
    const matches = this.voters.map((v) => this.progress.get(v)!.match).sort((a, b) => b - a);
    return matches[this.quorum - 1];
  }

  /** Did a majority (counting ourselves) answer within the last `window` ticks? */
  quorumActive(now: number, window: number): boolean {
    let active = 0;
    for (const [id, pr] of this.progress)
      if (id === this.self || now - pr.lastHeardTick < window) active++;
    return active >= this.quorum;
  }

  /** Did `id` answer within the last `window` ticks? */
  recentlyActive(id: NodeId, now: number, window: number): boolean {
    const pr = this.progress.get(id);
    return pr !== undefined && now - pr.lastHeardTick < window;
  }
}
