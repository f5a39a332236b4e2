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

export abstract class ClusterStatus {
  abstract snapshot(): ClusterStatusSnapshot;
}
