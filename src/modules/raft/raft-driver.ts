import type { RaftStorage, StorageUpdate } from '@/core/raft/raft-storage.port';
import type { RaftMessage } from '@/core/raft/raft.messages';
import type { RaftNode, Ready } from '@/core/raft/raft-node';
import type { LogEntry, ReadState, Snapshot, SoftState } from '@/core/raft/raft.types';

/**
 * Runs the Ready loop of one RaftNode against real storage, pipelined:
 * a Ready's early messages (the leader's replication) leave at once, its
 * writes join the disk queue, its committed entries are applied and the node
 * advances without waiting for the disk. Every Ready that queued while the
 * previous write ran goes into one append and one fsync (group commit); only
 * then are its messages (acks, votes) sent and persisted() reported, in order.
 * Invariant: no message that promises state leaves before that state is
 * fsynced, and writes reach storage in Ready order.
 */

export interface DriverHooks {
  softState(ss: SoftState): void;
  /** the state machine takes a leader's snapshot (before the entries after it) */
  restore(snapshot: Snapshot): void;
  apply(entry: LogEntry): void;
  readStates(states: readonly ReadState[]): void;
  /** after each advance: a snapshot to persist if the host compacts the log now */
  compact(): Snapshot | null;
  fail(e: Error): void;
}

export interface DriverStats {
  readies: number;
  /** storage writes of entries or a snapshot (one fsync each), and the Readys and entries they carried */
  writes: number;
  readiesWritten: number;
  entriesWritten: number;
  largestWrite: number;
}

export class RaftDriver {
  private queue: Ready[] = [];
  private writing = false;
  private running = false;
  private again = false;
  private stopped = false;
  private failed = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: DriverStats = {
    readies: 0,
    writes: 0,
    readiesWritten: 0,
    entriesWritten: 0,
    largestWrite: 0,
  };

  constructor(
    private readonly node: RaftNode,
    private readonly storage: RaftStorage,
    private readonly send: (m: RaftMessage) => void,
    private readonly hooks: DriverHooks,
  ) {}

  /** Processes every pending Ready now; safe to call from anywhere, re-entrantly. */
  kick(): void {
    if (this.failed || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        while (this.node.hasReady() && !this.failed) this.handle(this.node.ready());
      } while (this.again && !this.failed);
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.running = false;
    }
  }

  /** Stops taking Readys; resolves once the write in progress (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.writing) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private handle(rd: Ready): void {
    this.stats.readies++;
    if (rd.softState) this.hooks.softState(rd.softState);
    for (const m of rd.earlyMessages) this.send(m);
    if (rd.snapshot) this.hooks.restore(rd.snapshot);
    for (const e of rd.committedEntries) this.hooks.apply(e);
    if (rd.readStates.length > 0) this.hooks.readStates(rd.readStates);
    this.node.advance();
    const snap = this.hooks.compact();
    // Queued behind the writes in progress, so it only drops entries already on disk.
    if (snap) this.storage.compact(snap).catch((e: unknown) => this.fail(e as Error));
    const writes = rd.snapshot !== undefined || rd.entries.length > 0 || rd.hardState;
    if (writes || this.writing || this.queue.length > 0) {
      // Even a Ready with nothing to write waits: its acks may promise an earlier write.
      this.queue.push(rd);
      this.startWrite();
    } else {
      this.finish(rd);
    }
  }

  private startWrite(): void {
    if (this.writing || this.queue.length === 0 || this.failed) return;
    // A snapshot replaces the log, so it never shares a write with entries before it.
    let n = 1;
    while (n < this.queue.length && !this.queue[n].snapshot) n++;
    const batch = this.queue.splice(0, n);
    const update = merge(batch);
    this.writing = true;
    const empty = !update.snapshot && update.entries.length === 0 && !update.hardState;
    const write = empty ? Promise.resolve() : this.storage.save(update);
    write.then(
      () => {
        this.writing = false;
        if (update.snapshot || update.entries.length > 0) {
          this.stats.writes++;
          this.stats.readiesWritten += batch.length;
          this.stats.entriesWritten += update.entries.length;
          this.stats.largestWrite = Math.max(this.stats.largestWrite, update.entries.length);
        }
        if (this.failed) {
          for (const w of this.idleWaiters.splice(0)) w(); // stop() must not wait forever
          return;
        }
        for (const rd of batch) this.finish(rd);
        if (this.stopped) {
          for (const w of this.idleWaiters.splice(0)) w();
          return;
        }
        this.startWrite();
        this.kick();
      },
      (e: unknown) => {
        this.writing = false;
        this.fail(e as Error);
        for (const w of this.idleWaiters.splice(0)) w();
      },
    );
  }

  private finish(rd: Ready): void {
    if (!this.stopped) for (const m of rd.messages) this.send(m);
    this.node.persisted(rd);
  }

  /** A node that cannot persist must not take part any more: nothing queued is sent. */
  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.queue = [];
    this.hooks.fail(e);
  }
}

/** One storage update for consecutive Readys: later entries replace any stored suffix they overlap. */
export function merge(batch: readonly Ready[]): StorageUpdate {
  let entries: LogEntry[] = [];
  let hardState: StorageUpdate['hardState'];
  const snapshot = batch[0]?.snapshot;
  for (const rd of batch) {
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index;
      if (entries.length > 0 && entries[0].index >= first) entries = [];
      else if (entries.length > 0)
        entries.length = Math.min(entries.length, first - entries[0].index);
      for (const e of rd.entries) entries.push(e);
    }
    if (rd.hardState) hardState = rd.hardState;
  }
  return { snapshot, entries, hardState };
}
