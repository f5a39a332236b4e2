import type { RaftLog } from './raft-log';
import type { PreVoteRequest, RequestVoteRequest } from './raft.messages';
import type { NodeId } from './raft.types';

/**
 * Voting rules (§5.2, §5.4.1, §9.6). Invariants: a node grants at most one
 * vote per term (a pre-vote binds nothing); only a candidate whose log is at
 * least as up-to-date as the voter's gets a vote, so a winner holds every
 * committed entry (Leader Completeness); a quorum is a strict majority.
 */
export interface VoterState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
}

export function shouldGrant(
  voter: VoterState,
  log: RaftLog,
  m: PreVoteRequest | RequestVoteRequest,
): boolean {
  const canVote =
    voter.vote === m.from ||
    (voter.vote === null && voter.leader === null) ||
    // A pre-vote for a future term promises nothing, so a follower may give it freely.
    (m.type === 'PreVote' && m.term > voter.term);
  return canVote && log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
}

/** Counts votes in one (pre-)election. */
export class VoteTally {
  private readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly quorum: number) {}

  record(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
  }

  result(): 'won' | 'lost' | 'pending' {
    let granted = 0;
    let rejected = 0;
    for (const g of this.votes.values()) {
      if (g) granted++;
      else rejected++;
    }
    if (granted >= this.quorum) return 'won';
    if (rejected >= this.quorum) return 'lost';
    return 'pending';
  }
}
