import type { RaftMessage } from './raft.messages';
import type { HardState, LogEntry, ReadState, Snapshot, SoftState } from './raft.types';

/**
 * One batch of work the node hands its host. Invariant: the host persists
 * `snapshot`, `entries` and `hardState` (fsync, in Ready order) before sending
 * any of `messages`, which may promise them (a vote, an acknowledgement), and
 * then reports persisted(rd); `earlyMessages` (a leader's replication) may
 * leave at once. It restores `snapshot`, applies `committedEntries` (already
 * durable here) and calls advance() without waiting for the write.
 */
export interface Ready {
  /** role/leader/term changed (observability; nothing to persist) */
  readonly softState?: SoftState;
  /** persist (after `entries`) when present */
  readonly hardState?: HardState;
  /** persist: a snapshot from the leader that replaces the whole log; then restore the state machine from it */
  readonly snapshot?: Snapshot;
  /** persist: append, discarding any stored entry at or after entries[0].index */
  readonly entries: readonly LogEntry[];
  /** send now, in parallel with the write (a leader's AppendEntries, heartbeats, snapshots) */
  readonly earlyMessages: readonly RaftMessage[];
  /** send only after the above (and every earlier Ready) is durable */
  readonly messages: readonly RaftMessage[];
  /** apply in order (after restoring `snapshot`, if any) */
  readonly committedEntries: readonly LogEntry[];
  /** confirmed reads: serve each once `applied >= index` */
  readonly readStates: readonly ReadState[];
}

export type MutableReady = { -readonly [K in keyof Ready]: Ready[K] };

export function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}
