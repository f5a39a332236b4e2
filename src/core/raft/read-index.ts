import type { NodeId } from './raft.types';

/**
 * Pending ReadIndex requests on the leader (§6.4 of the Raft thesis).
 * Invariant: a request is released only after a majority acknowledged a
 * heartbeat sent after the request was registered, so the leader was still
 * the leader when the read arrived and its recorded commit index covers
 * every write that completed before the read started.
 */
export interface PendingRead {
  readonly context: string;
  /** the leader's commit index when the request arrived */
  readonly index: number;
  /** the node whose client asked (the leader itself or a follower) */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];
  private readonly byContext = new Map<string, PendingRead>();

  constructor(private readonly self: NodeId) {}

  /** Registers a request; a context already pending is ignored (contexts must be unique). */
  add(context: string, index: number, from: NodeId): boolean {
    if (this.byContext.has(context)) return false;
    const req: PendingRead = { context, index, from, acks: new Set([this.self]) };
    this.queue.push(req);
    this.byContext.set(context, req);
    return true;
  }

  /** Records an acknowledgement; returns the ack count for that context (0 if unknown). */
  ack(from: NodeId, context: string): number {
    const req = this.byContext.get(context);
    if (!req) return 0;
    req.acks.add(from);
    return req.acks.size;
  }

  /** Releases `context` and every request queued before it (they are confirmed by the same acks). */
  release(context: string): PendingRead[] {
    const at = this.queue.findIndex((r) => r.context === context);
    if (at < 0) return [];
    const out = this.queue.splice(0, at + 1);
    for (const r of out) this.byContext.delete(r.context);
    return out;
  }

  /** The newest pending context, carried by the next heartbeat. */
  lastContext(): string | null {
    return this.queue.length > 0 ? this.queue[this.queue.length - 1].context : null;
  }

  get size(): number {
    return this.queue.length;
  }
}
