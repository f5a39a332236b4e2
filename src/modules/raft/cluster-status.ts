/**
 * What the rest of the node may know about Raft: this node's role and term.
 * Health checks and heartbeats read it; the Raft module keeps it current.
 */
export type RaftRole = 'leader' | 'follower' | 'candidate' | 'pre-candidate';

export interface ClusterStatusSnapshot {
  nodeId: string;
  role: RaftRole;
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
  voters: number;
}

/** One durable append: how long the write and fsync took, and how many entries it carried. */
export type AppendObserver = (ms: number, entries: number) => void;

/** One request to a Raft route served outside Express (no per-request log line): its path and status. */
export type RequestObserver = (path: string, status: number) => void;

export abstract class ClusterStatus {
  private readonly appendObservers = new Set<AppendObserver>();
  private readonly requestObservers = new Set<RequestObserver>();

  abstract snapshot(): ClusterStatusSnapshot;

  /** Hears every durable log append of this node (for the append latency histogram). */
  onAppend(observer: AppendObserver): () => void {
    this.appendObservers.add(observer);
    return () => this.appendObservers.delete(observer);
  }

  /** Hears every request the Raft module served itself (for the request counter). */
  onRequest(observer: RequestObserver): () => void {
    this.requestObservers.add(observer);
    return () => this.requestObservers.delete(observer);
  }

  protected served(path: string, status: number): void {
    for (const o of this.requestObservers) o(path, status);
  }

  /** The host reports each append it fsynced. */
  protected appended(ms: number, entries: number): void {
    for (const o of this.appendObservers) o(ms, entries);
  }
}
