import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RaftStorage, StorageUpdate } from '@/core/raft/raft-storage.port';
import type { HardState, LogEntry, PersistentState, Snapshot } from '@/core/raft/raft.types';
import { HARD_STATE_FILE, HardStateFile } from './hard-state.file';
import { SegmentedLog, type TornTail } from './segmented-log';
import { SnapshotStore } from './snapshot.store';
import { RaftStorageCorruptionError } from './storage.errors';

/**
 * Raft's durable state under one directory: the hard state file, the
 * segmented log and the snapshot files. Invariants: every promise resolves
 * only once its data is fsynced; calls run one at a time in arrival order;
 * after a crash at any point `load()` returns a state the node could have
 * acknowledged (an interrupted snapshot install or compaction is finished or
 * undone, a torn log tail is cut), or refuses to start on real corruption.
 * A write the disk refuses for lack of space is retried, whole, until it
 * succeeds (its promise stays pending meanwhile, so nothing that depends on it
 * is acknowledged); listeners hear when the disk fills and when it takes
 * writes again.
 */
export interface DiskRaftStorageOptions {
  readonly dir: string;
  /** roll to a new segment file past this size (default 64 MiB) */
  readonly segmentBytes?: number;
  /** snapshot files kept, newest first (default 2) */
  readonly retainSnapshots?: number;
  /** first wait before retrying a write refused for lack of space (default 100 ms, doubling to 2 s) */
  readonly retryFullMs?: number;
}

/** The disk refused a write (full, over quota, or over a file size limit) or takes writes again. */
export type DiskFullListener = (full: boolean, error: Error | null) => void;

const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const MAX_RETRY_WAIT_MS = 2_000;

function isOutOfSpace(e: unknown): boolean {
  return OUT_OF_SPACE.has((e as NodeJS.ErrnoException).code ?? '');
}

export interface RecoveryReport {
  /** a partial last record that was cut off */
  readonly tornTail: TornTail | null;
  /** entries dropped because a snapshot install was interrupted before the old log was removed */
  readonly discardedEntries: number;
}

export class DiskRaftStorage implements RaftStorage {
  private log: SegmentedLog | null = null;
  private readonly snapshots: SnapshotStore;
  private snapshotIndex = 0;
  /** the hard state as last written to disk */
  private written: HardState | null = null;
  private readonly hardStateFile: HardStateFile;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fullListeners: DiskFullListener[] = [];
  /** aborts the wait of a write retried on a full disk: close() must not hang on it */
  private readonly closing = new AbortController();
  recovery: RecoveryReport = { tornTail: null, discardedEntries: 0 };

  private constructor(private readonly options: Required<DiskRaftStorageOptions>) {
    this.snapshots = new SnapshotStore(options.dir, options.retainSnapshots);
    this.hardStateFile = new HardStateFile(options.dir);
  }

  static async open(options: DiskRaftStorageOptions): Promise<DiskRaftStorage> {
    const resolved = {
      dir: options.dir,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      retainSnapshots: Math.max(1, options.retainSnapshots ?? 2),
      retryFullMs: Math.max(1, options.retryFullMs ?? 100),
    };
    await mkdir(resolved.dir, { recursive: true });
    return new DiskRaftStorage(resolved);
  }

  get dir(): string {
    return this.options.dir;
  }

  onDiskFull(listener: DiskFullListener): void {
    this.fullListeners.push(listener);
  }

  load(): Promise<PersistentState> {
    return this.serial(async () => {
      await this.snapshots.removeTemporaries();
      const hardState = await this.hardStateFile.read();
      const snapshot = await this.snapshots.latest();
      const { log, entries, tornTail } = await SegmentedLog.open(
        this.dir,
        this.options.segmentBytes,
      );
      await this.log?.close();
      this.log = log;
      this.written = hardState;
      this.snapshotIndex = snapshot?.index ?? 0;
      const kept = await this.reconcile(snapshot, entries);
      this.recovery = {
        tornTail,
        discardedEntries: entries.filter((e) => e.index > this.snapshotIndex).length - kept.length,
      };
      const lastIndex = kept.length > 0 ? kept[kept.length - 1].index : this.snapshotIndex;
      if (hardState.commit > lastIndex) {
        throw new RaftStorageCorruptionError(
          join(this.dir, HARD_STATE_FILE),
          0,
          `commit index ${hardState.commit} is past the last stored entry ${lastIndex}`,
        );
      }
      return { hardState, snapshot, entries: kept };
    });
  }

  save(update: StorageUpdate): Promise<void> {
    return this.serialRetried(async () => {
      const log = this.opened();
      if (update.snapshot) {
        // Snapshot first: if we crash before the old log is gone, load() sees
        // that the log does not continue this snapshot and drops it.
        await this.snapshots.save(update.snapshot);
        await log.clear();
        this.snapshotIndex = update.snapshot.index;
      }
      if (update.entries.length > 0) {
        const first = update.entries[0].index;
        if (log.lastIndex() === undefined && first !== this.snapshotIndex + 1) {
          throw new Error(
            `first entry ${first} does not follow the snapshot at ${this.snapshotIndex}`,
          );
        }
        await log.append(update.entries);
      }
      // Term and vote must be durable before any reply; commit is only a
      // hint (volatile in the paper), so it is written along, not on its own.
      const hs = update.hardState;
      if (hs && (!this.written || hs.term !== this.written.term || hs.vote !== this.written.vote)) {
        await this.hardStateFile.write(hs);
        this.written = hs;
      }
    });
  }

  compact(snapshot: Snapshot): Promise<void> {
    return this.serialRetried(async () => {
      const log = this.opened();
      if (snapshot.index <= this.snapshotIndex) return;
      await this.snapshots.save(snapshot);
      this.snapshotIndex = snapshot.index;
      await log.dropThrough(snapshot.index);
    });
  }

  close(): Promise<void> {
    this.closing.abort();
    return this.serial(async () => {
      await this.log?.close();
      this.log = null;
      await this.hardStateFile.close();
    });
  }

  /** Number of log segment files (for tests and metrics). */
  segmentCount(): number {
    return this.log?.segmentCount() ?? 0;
  }

  /**
   * Keeps the entries that continue `snapshot`. Entries that do not (the
   * snapshot was installed from a leader and a crash came before the old log
   * was deleted) belong to another history and are removed for good.
   */
  private async reconcile(snapshot: Snapshot | null, entries: LogEntry[]): Promise<LogEntry[]> {
    if (!snapshot || entries.length === 0)
      return entries.filter((e) => e.index > (snapshot?.index ?? 0));
    const first = entries[0].index;
    const last = entries[entries.length - 1].index;
    if (first > snapshot.index + 1) {
      throw new RaftStorageCorruptionError(
        this.dir,
        0,
        `log starts at ${first}, after a gap behind the snapshot at ${snapshot.index}`,
      );
    }
    const atSnapshot = entries[snapshot.index - first];
    const continues =
      last >= snapshot.index && (snapshot.index < first || atSnapshot.term === snapshot.term);
    if (!continues) {
      await this.opened().clear();
      return [];
    }
    return entries.slice(Math.max(0, snapshot.index - first + 1));
  }

  private opened(): SegmentedLog {
    if (!this.log) throw new Error('raft storage used before load() or after close()');
    return this.log;
  }

  /**
   * A write, retried from the start while the disk is out of space. Each try
   * rewrites its data rather than re-syncing (after a failed write or fsync the
   * kernel may have dropped the dirty pages), and every step of save() and
   * compact() may be repeated: the log rolls a failed append back, files are
   * replaced atomically.
   */
  private serialRetried(op: () => Promise<void>): Promise<void> {
    return this.serial(async () => {
      let wait = this.options.retryFullMs;
      let full = false;
      for (;;) {
        try {
          await op();
          if (full) this.tellFull(false, null);
          return;
        } catch (e) {
          if (!isOutOfSpace(e) || this.closing.signal.aborted) throw e;
          if (!full) this.tellFull(true, e as Error);
          full = true;
          await sleep(wait, undefined, { signal: this.closing.signal }).catch(() => undefined);
          if (this.closing.signal.aborted) throw e;
          wait = Math.min(MAX_RETRY_WAIT_MS, wait * 2);
        }
      }
    });
  }

  private tellFull(full: boolean, error: Error | null): void {
    for (const l of this.fullListeners) l(full, error);
  }

  /** Runs storage operations one at a time; a failed one does not block the next. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
