/**
 * The vocabulary every Raft file shares. Invariant: entries and snapshots are
 * immutable values once created, so the log, outgoing messages and storage can
 * share them without copying, and a duplicated message can never alias state.
 */

export type NodeId = string;

/** An opaque command; the core never looks inside. */
export type Command = Uint8Array | string;

/** `noop` is the entry a leader appends at the start of its term (§8 of the paper). */
export type EntryType = 'command' | 'noop';

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Command;
}

/** What must be on disk before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: number;
  /** the candidate voted for in `term`, or null */
  readonly vote: NodeId | null;
  /** a lower bound of the commit index (volatile in Figure 2; persisted to re-apply faster) */
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** A state-machine image covering every entry up to and including `index`. */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/** What storage hands back on restart. */
export interface PersistentState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** the entries after the snapshot, contiguous, in index order */
  readonly entries: readonly LogEntry[];
}

export const EMPTY_STATE: PersistentState = {
  hardState: EMPTY_HARD_STATE,
  snapshot: null,
  entries: [],
};

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile, observable state; hosts use it for redirects and metrics. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: number;
}

/**
 * A confirmed ReadIndex: once this node has applied `index`, a read tagged
 * `context` may be served from the local state machine and is linearizable.
 */
export interface ReadState {
  readonly context: string;
  readonly index: number;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      readonly reason: 'not-leader' | 'transferring';
      /** the leader this node knows of, for a redirect */
      readonly leader: NodeId | null;
    };

export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'no-leader'; readonly leader: null };

/** The replicated state machine a host plugs in (a key-value map in tests, decisions later). */
export interface StateMachine<Result = unknown> {
  /** Applies one committed `command` entry; called once per index, in index order. */
  apply(entry: LogEntry): Result;
  /** An image of every entry applied so far. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with an image made by `snapshot()`. */
  restore(data: Uint8Array): void;
}

/** Per-follower replication state as the leader sees it (for status pages and tests). */
export interface FollowerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly inflight: number;
  /** leader ticks at this follower's last answer */
  readonly lastHeardTick: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly snapshotIndex: number;
  readonly transferee: NodeId | null;
  /** only on the leader */
  readonly progress: Readonly<Record<NodeId, FollowerStatus>> | null;
}

/** Approximate wire size of an entry, for the bytes-per-message cap. */
export function entrySize(entry: LogEntry): number {
  const data = entry.data;
  return 24 + (typeof data === 'string' ? data.length * 2 : data.byteLength);
}

/** Thrown when the core detects a state that Raft's invariants rule out (a bug or corrupted storage). */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RaftInvariantError';
  }
}
