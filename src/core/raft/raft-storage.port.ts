import type { HardState, LogEntry, PersistentState, Snapshot } from './raft.types';

/**
 * What a host needs from durable storage. Invariant: when a returned promise
 * resolves, the data is on stable media (fsynced), so a message sent after it
 * can never promise something a crash would take back.
 */
export interface RaftStorage {
  /** Everything needed to rebuild a node after a restart. */
  load(): Promise<PersistentState>;

  /**
   * Persists one Ready, in this order: `snapshot` (an InstallSnapshot from the
   * leader: it replaces the whole log), then `entries` (any stored entry at or
   * after entries[0].index is discarded first: a conflicting suffix), then
   * `hardState`. Entries go before the hard state so that a persisted commit
   * index never points past the persisted log.
   */
  save(update: StorageUpdate): Promise<void>;

  /**
   * Local log compaction: persists `snapshot` atomically, then drops every
   * entry up to snapshot.index. The entries after it are kept.
   */
  compact(snapshot: Snapshot): Promise<void>;

  close(): Promise<void>;
}

export interface StorageUpdate {
  readonly hardState?: HardState;
  readonly entries: readonly LogEntry[];
  readonly snapshot?: Snapshot;
}
