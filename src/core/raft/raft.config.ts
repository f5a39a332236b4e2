import type { Random } from '../ports/random.port';
import type { NodeId } from './raft.types';

/**
 * Node configuration. Invariant: after `resolveConfig` the voter set contains
 * this node, ids are unique, and timing/flow limits are positive, so the rest
 * of the core never re-checks them.
 */
export interface RaftConfig {
  readonly id: NodeId;
  /** every voting member, this node included (fixed: membership changes are not implemented) */
  readonly voters: readonly NodeId[];
  /** randomized election timeouts come from here */
  readonly random: Random;
  /**
   * Election timeout in ticks; each timeout is drawn from [electionTicks,
   * 2*electionTicks). Defaults (100 / 10) assume a 10 ms tick: 1–2 s election
   * timeouts randomized in 10 ms steps (coarser steps make split votes
   * repeat), 100 ms heartbeats.
   */
  readonly electionTicks?: number;
  /** heartbeat interval in ticks; must be well below electionTicks */
  readonly heartbeatTicks?: number;
  /** §9.6 pre-vote (default true) */
  readonly preVote?: boolean;
  /** leader steps down without a quorum; followers ignore disruptive votes while in lease (default true) */
  readonly checkQuorum?: boolean;
  /** max AppendEntries messages in flight per follower in the replicate state */
  readonly maxInflightMessages?: number;
  /** max entries per AppendEntries */
  readonly maxEntriesPerMessage?: number;
  /** max approximate bytes of entries per AppendEntries (always at least one entry) */
  readonly maxBytesPerMessage?: number;
  /** bytes of snapshot per InstallSnapshot chunk (default 1 MiB) */
  readonly snapshotChunkBytes?: number;
  /**
   * unacknowledged snapshot chunks per follower (default 1: a follower takes
   * chunks only in offset order, and a transport that runs requests in
   * parallel reorders them, so a wider window mostly buys resends)
   */
  readonly maxInflightSnapshotChunks?: number;
  /** a follower ignores a snapshot declared larger than this (default 1 GiB): its buffer is allocated up front */
  readonly maxSnapshotBytes?: number;
}

export interface ResolvedRaftConfig {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly random: Random;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMessages: number;
  readonly maxEntriesPerMessage: number;
  readonly maxBytesPerMessage: number;
  readonly snapshotChunkBytes: number;
  readonly maxInflightSnapshotChunks: number;
  readonly maxSnapshotBytes: number;
  /** majority of voters */
  readonly quorum: number;
}

export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const voters = [...c.voters];
  if (new Set(voters).size !== voters.length)
    throw new Error(`duplicate voter ids: ${voters.join(',')}`);
  if (!voters.includes(c.id))
    throw new Error(`node ${c.id} is not among the voters ${voters.join(',')}`);
  const resolved: ResolvedRaftConfig = {
    id: c.id,
    voters,
    random: c.random,
    electionTicks: c.electionTicks ?? 100,
    heartbeatTicks: c.heartbeatTicks ?? 10,
    preVote: c.preVote ?? true,
    checkQuorum: c.checkQuorum ?? true,
    maxInflightMessages: c.maxInflightMessages ?? 64,
    maxEntriesPerMessage: c.maxEntriesPerMessage ?? 512,
    maxBytesPerMessage: c.maxBytesPerMessage ?? 1024 * 1024,
    snapshotChunkBytes: c.snapshotChunkBytes ?? 1024 * 1024,
    maxInflightSnapshotChunks: c.maxInflightSnapshotChunks ?? 1,
    maxSnapshotBytes: c.maxSnapshotBytes ?? 1024 * 1024 * 1024,
    quorum: Math.floor(voters.length / 2) + 1,
  };
  const positive: (keyof ResolvedRaftConfig)[] = [
    'electionTicks',
    'heartbeatTicks',
    'maxInflightMessages',
    'maxEntriesPerMessage',
    'maxBytesPerMessage',
    'snapshotChunkBytes',
    'maxInflightSnapshotChunks',
    'maxSnapshotBytes',
  ];
  for (const k of positive) {
    const v = resolved[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new Error('heartbeatTicks must be smaller than electionTicks');
  }
  return resolved;
}
