import type { LogEntry, NodeId } from './raft.types';

/**
 * The messages nodes exchange. Every message carries the sender's term; the
 * single term rule of Figure 2 ("if RPC request or response contains term
 * T > currentTerm: set currentTerm = T, convert to follower") is applied to
 * all of them in one place (RaftNode.step), before any role-specific handling.
 *
 * Requests and responses are separate one-way messages (as in etcd/raft), so
 * a transport may carry a response in the HTTP reply or as its own request.
 */

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** §9.6 pre-vote: "would you vote for me at `term`?" — changes no state on the receiver. */
export interface PreVoteRequest extends Envelope {
  readonly type: 'PreVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

/** `term` is the proposed term when granted, the voter's own term when refused. */
export interface PreVoteResponse extends Envelope {
  readonly type: 'PreVoteResponse';
  readonly granted: boolean;
}

export interface RequestVoteRequest extends Envelope {
  readonly type: 'RequestVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** set by a leadership transfer (TimeoutNow): voters skip the leader-lease check */
  readonly transfer: boolean;
}

export interface RequestVoteResponse extends Envelope {
  readonly type: 'RequestVoteResponse';
  readonly granted: boolean;
}

export interface AppendEntriesRequest extends Envelope {
  readonly type: 'AppendEntries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly LogEntry[];
  readonly leaderCommit: number;
}

/**
 * On success `index` is the highest index known to match the leader's log.
 * On failure `index` is the rejected prevLogIndex and (hintIndex, hintTerm)
 * name the follower's last entry at or before it whose term is <= the
 * leader's prevLogTerm — the fast-backtracking hint of §5.3.
 * Also the reply to a snapshot's last chunk (success, index = last index after install).
 */
export interface AppendEntriesResponse extends Envelope {
  readonly type: 'AppendEntriesResponse';
  readonly success: boolean;
  readonly index: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/**
 * The empty AppendEntries of Figure 2, split out so that it never carries a
 * log position: with pipelining a follower may legitimately be behind the
 * leader's `nextIndex`, and a heartbeat must not be rejected for it.
 * `leaderCommit` is min(commit, follower's matchIndex), so it is always safe.
 * `context` is the newest pending ReadIndex context, acknowledged in the response.
 */
export interface HeartbeatRequest extends Envelope {
  readonly type: 'Heartbeat';
  readonly leaderCommit: number;
  readonly context: string | null;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'HeartbeatResponse';
  readonly context: string | null;
}

/**
 * Figure 13: one chunk of the leader's snapshot at (snapshotIndex,
 * snapshotTerm), bytes [offset, offset + data.length) of `size`; `done` on
 * the last. The reply to a chunk is InstallSnapshotResponse; to the last one
 * (once installed), or to a snapshot the follower no longer needs, an
 * AppendEntriesResponse naming the index its log now matches up to.
 */
export interface InstallSnapshotRequest extends Envelope {
  readonly type: 'InstallSnapshot';
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly size: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/**
 * The follower holds bytes [0, offset) of that snapshot: the leader goes on
 * from there. An offset below what the leader sent reports a lost or
 * reordered chunk (0: start over, e.g. a chunk of a transfer it had dropped).
 */
export interface InstallSnapshotResponse extends Envelope {
  readonly type: 'InstallSnapshotResponse';
  readonly snapshotIndex: number;
  readonly offset: number;
}

/**
 * Leadership transfer (§3.10): "start an election now, skipping pre-vote".
 * `vote`: the sender stepped down and has already (durably) voted for the
 * receiver in the next term, so that vote need not be asked for.
 */
export interface TimeoutNowRequest extends Envelope {
  readonly type: 'TimeoutNow';
  readonly vote: boolean;
}

/** A follower asking the leader to confirm a read index for one of its clients. */
export interface ReadIndexRequest extends Envelope {
  readonly type: 'ReadIndex';
  readonly context: string;
}

export interface ReadIndexResponse extends Envelope {
  readonly type: 'ReadIndexResponse';
  readonly context: string;
  readonly index: number;
}

export type RaftMessage =
  | PreVoteRequest
  | PreVoteResponse
  | RequestVoteRequest
  | RequestVoteResponse
  | AppendEntriesRequest
  | AppendEntriesResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | InstallSnapshotRequest
  | InstallSnapshotResponse
  | TimeoutNowRequest
  | ReadIndexRequest
  | ReadIndexResponse;

export type RaftMessageType = RaftMessage['type'];

/** Messages only a leader sends; receiving one at the current term identifies the leader. */
export function isFromLeader(m: RaftMessage): boolean {
  return m.type === 'AppendEntries' || m.type === 'Heartbeat' || m.type === 'InstallSnapshot';
}
