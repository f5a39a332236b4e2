/**
 * The `decisions` part of the replicated state (the SiteStatusMachine) and the one way a
 * consensus command enters the log: encodeCommand's exact bytes, proposed on the leader.
 */
import { encodeCommand, type ConsensusCommand } from '@/core/consensus/decision';
import type { RaftHost } from '@/modules/raft/raft-host';

export const DECISIONS_MACHINE = 'decisions';

/** Proposes a consensus command; resolves once committed (throws NOT_LEADER on a follower). */
export async function proposeConsensus(raft: RaftHost, cmd: ConsensusCommand): Promise<unknown> {
  return raft.proposeJson(DECISIONS_MACHINE, encodeCommand(cmd));
}
