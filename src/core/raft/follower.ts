import type { ResolvedRaftConfig } from './raft.config';
import type { RaftLog } from './raft-log';
import type {
  AppendEntriesRequest,
  AppendEntriesResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  RaftMessage,
} from './raft.messages';
import type { NodeId } from './raft.types';
import type { IncomingSnapshot } from './snapshot-transfer';

/**
 * The receiving side of replication: Figure 2's AppendEntries receiver and
 * Figure 13's InstallSnapshot receiver, as functions from (log, request) to
 * the reply. Invariant: a success reply names only an index up to which this
 * log now matches the leader's (so the leader's matchIndex is never wrong),
 * and a rejection carries the hint for fast backtracking.
 */

export function receiveAppendEntries(
  log: RaftLog,
  self: NodeId,
  term: number,
  m: AppendEntriesRequest,
): AppendEntriesResponse {
  const reply = (
    success: boolean,
    index: number,
    hintIndex = 0,
    hintTerm = 0,
  ): AppendEntriesResponse => ({
    type: 'AppendEntriesResponse',
    from: self,
    to: m.from,
    term,
    success,
    index,
    hintIndex,
    hintTerm,
  });
  // Everything up to our commit index matches the leader's log already.
  if (m.prevLogIndex < log.committed) return reply(true, log.committed);
  const lastNew = log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.leaderCommit, m.entries);
  if (lastNew !== undefined) return reply(true, lastNew);
  // §5.3 optimization: point the leader at our last entry that might still
  // agree with its log, so it skips a whole term per round trip.
  const hintIndex = log.findConflictByTerm(
    Math.min(m.prevLogIndex, log.lastIndex()),
    m.prevLogTerm,
  );
  return reply(false, m.prevLogIndex, hintIndex, log.term(hintIndex) ?? 0);
}

/** leaderCommit is at most our matchIndex as the leader knows it, so committing to it is safe. */
export function receiveHeartbeat(
  log: RaftLog,
  self: NodeId,
  term: number,
  m: HeartbeatRequest,
): HeartbeatResponse {
  log.commitTo(m.leaderCommit);
  return { type: 'HeartbeatResponse', from: self, to: m.from, term, context: m.context };
}

/**
 * Figure 13, one chunk at a time: chunks are assembled in `incoming`; the
 * last one installs the whole snapshot. A snapshot this log is already past
 * (or holds the entry it ends at) needs no bytes: the reply says where the
 * log matches, which moves the leader on at once.
 */
export function receiveSnapshotChunk(
  log: RaftLog,
  incoming: IncomingSnapshot,
  self: NodeId,
  term: number,
  m: InstallSnapshotRequest,
): AppendEntriesResponse | InstallSnapshotResponse | null {
  const matched = (index: number): AppendEntriesResponse => ({
    type: 'AppendEntriesResponse',
    from: self,
    to: m.from,
    term,
    success: true,
    index,
    hintIndex: 0,
    hintTerm: 0,
  });
  if (m.snapshotIndex <= log.committed) {
    incoming.reset();
    return matched(log.committed);
  }
  if (log.matchTerm(m.snapshotIndex, m.snapshotTerm)) {
    incoming.reset();
    log.commitTo(m.snapshotIndex);
    return matched(log.committed);
  }
  const key = { term, index: m.snapshotIndex, snapshotTerm: m.snapshotTerm, size: m.size };
  const outcome = incoming.offer(key, m);
  switch (outcome.kind) {
    case 'ignored':
      return null;
    case 'partial':
      return {
        type: 'InstallSnapshotResponse',
        from: self,
        to: m.from,
        term,
        snapshotIndex: m.snapshotIndex,
        offset: outcome.offset,
      };
    case 'complete':
      log.restore(outcome.snapshot);
      return matched(log.lastIndex());
  }
}

/**
 * Figure 2: "reply false if term < currentTerm" — answered only where it
 * unblocks someone; other stale messages are dropped.
 */
export function replyToStaleTerm(
  cfg: ResolvedRaftConfig,
  self: NodeId,
  term: number,
  m: RaftMessage,
): RaftMessage | null {
  if ((cfg.checkQuorum || cfg.preVote) && (m.type === 'AppendEntries' || m.type === 'Heartbeat')) {
    // A leader of an older term: our higher term makes it step down. Without
    // this, a node whose term grew in a partition could never rejoin, since
    // pre-vote and leases keep it from winning or being heard.
    return {
      type: 'AppendEntriesResponse',
      from: self,
      to: m.from,
      term,
      success: false,
      index: 0,
      hintIndex: 0,
      hintTerm: 0,
    };
  }
  if (m.type === 'PreVote') {
    return { type: 'PreVoteResponse', from: self, to: m.from, term, granted: false };
  }
  return null;
}
