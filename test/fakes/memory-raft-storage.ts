import type { RaftStorage, StorageUpdate } from '@/core/raft/raft-storage.port';
import {
  EMPTY_HARD_STATE,
  type HardState,
  type LogEntry,
  type PersistentState,
  type Snapshot,
} from '@/core/raft/raft.types';

/**
 * RaftStorage in memory: the "disk" of a simulated node, which survives the
 * node's crash. Writes are atomic and durable the moment they return, so a
 * simulated crash loses exactly what was never handed to storage. The sync
 * methods let the simulator stay synchronous; the async ones satisfy the port.
 */
export class MemoryRaftStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot | null = null;
  private log: LogEntry[] = [];
  writes = 0;

  loadSync(): PersistentState {
    return { hardState: this.hardState, snapshot: this.snap, entries: this.log.slice() };
  }

  saveSync(update: StorageUpdate): void {
    this.writes++;
    if (update.snapshot) {
      this.snap = update.snapshot;
      this.log = [];
    }
    if (update.entries.length > 0) this.appendSync(update.entries);
    if (update.hardState) this.hardState = update.hardState;
  }

  compactSync(snapshot: Snapshot): void {
    if (this.snap && snapshot.index <= this.snap.index) return;
    this.log = this.log.filter((e) => e.index > snapshot.index);
    this.snap = snapshot;
  }

  /** The stored entry at `index`, if any. */
  entry(index: number): LogEntry | undefined {
    const first = this.firstIndex();
    return index >= first ? this.log[index - first] : undefined;
  }

  firstIndex(): number {
    return (this.snap?.index ?? 0) + 1;
  }

  lastIndex(): number {
    return (this.snap?.index ?? 0) + this.log.length;
  }

  termAt(index: number): number | undefined {
    if (this.snap && index === this.snap.index) return this.snap.term;
    if (index === 0) return 0;
    return this.entry(index)?.term;
  }

  get snapshot(): Snapshot | null {
    return this.snap;
  }

  get storedHardState(): HardState {
    return this.hardState;
  }

  async load(): Promise<PersistentState> {
    return this.loadSync();
  }

  async save(update: StorageUpdate): Promise<void> {
    this.saveSync(update);
  }

  async compact(snapshot: Snapshot): Promise<void> {
    this.compactSync(snapshot);
  }

  async close(): Promise<void> {}

  private appendSync(entries: readonly LogEntry[]): void {
    const first = entries[0].index;
    const base = this.firstIndex();
    if (first < base)
      throw new Error(`append at ${first} is inside the snapshot (first index ${base})`);
    if (first > this.lastIndex() + 1)
      throw new Error(`append at ${first} leaves a gap after ${this.lastIndex()}`);
    this.log.length = first - base;
    for (const e of entries) this.log.push(e);
  }
}
