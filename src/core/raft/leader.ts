import type { ResolvedRaftConfig } from './raft.config';
import type { RaftLog } from './raft-log';
import type {
  AppendEntriesResponse,
  HeartbeatResponse,
  InstallSnapshotResponse,
  RaftMessage,
} from './raft.messages';
import type { Command, EntryType, FollowerStatus, NodeId, ReadState } from './raft.types';
import { RaftInvariantError } from './raft.types';
import type { Progress } from './progress';
import { ProgressTracker } from './progress-tracker';
import { ReadIndexQueue } from './read-index';
import { OutgoingSnapshot } from './snapshot-transfer';

/**
 * Everything only a leader does: replication with pipelining and batching,
 * fast backtracking, commit by counting current-term replicas (Figure 8),
 * snapshots for followers behind the log, heartbeats, ReadIndex, transfer.
 * Invariant: one Leader object lives for exactly one term of one node; it
 * never overwrites or deletes entries in its own log (Leader Append-Only).
 */
export interface LeaderHost {
  readonly id: NodeId;
  readonly config: ResolvedRaftConfig;
  readonly log: RaftLog;
  send(m: RaftMessage): void;
  emitReadState(rs: ReadState): void;
  /** the transfer target is caught up: tell it to campaign (and step down) */
  handOver(to: NodeId): void;
}

interface WaitingRead {
  readonly context: string;
  readonly from: NodeId;
}

export class Leader {
  readonly tracker: ProgressTracker;
  private readonly reads: ReadIndexQueue;
  /** reads that arrived before this term's first commit (the no-op); served once it commits */
  private waitingReads: WaitingRead[] = [];
  private committedInTerm = false;
  private heartbeatElapsed = 0;
  /** ticks since this node became leader: the clock for check-quorum */
  private ticks = 0;
  /** the target of a leadership transfer in progress; proposals are refused meanwhile */
  transferee: NodeId | null = null;

  constructor(
    private readonly host: LeaderHost,
    readonly term: number,
  ) {
    const { id, config, log } = host;
    this.tracker = new ProgressTracker(
      id,
      config.voters,
      config.quorum,
      log.lastIndex() + 1,
      config.maxInflightMessages,
    );
    const self = this.tracker.get(id)!;
    // The leader is a replica of what its own disk holds, no more (§10.2.1).
    self.maybeUpdate(log.durableIndex());
    self.becomeReplicate();
    this.reads = new ReadIndexQueue(id);
  }

  /** §8: a new leader commits a no-op so it learns what is committed, then announces itself. */
  start(): void {
    this.appendLocal([{ type: 'noop', data: '' }]);
    this.broadcastAppend(true);
  }

  /**
   * Appends client commands to the leader's log; they are sent at the next
   * Ready (batching) while the host writes them (thesis §10.2.1). The leader
   * counts itself as a replica only once its disk holds them (selfDurable).
   */
  appendLocal(items: readonly { type: EntryType; data: Command }[]): {
    index: number;
    term: number;
  } {
    const created = this.host.log.appendNew(this.term, items);
    const last = created[created.length - 1];
    return { index: last.index, term: this.term };
  }

  /** The leader's own log is fsynced up to `index`: count it (a cluster of one commits here). */
  selfDurable(index: number): void {
    if (!this.tracker.get(this.host.id)!.maybeUpdate(index)) return;
    if (this.maybeCommit()) this.broadcastAppend(true);
  }

  step(m: RaftMessage): void {
    const pr = this.tracker.get(m.from);
    if (!pr || m.from === this.host.id) return;
    switch (m.type) {
      case 'AppendEntriesResponse':
        pr.lastHeardTick = this.ticks;
        this.handleAppendResponse(m, pr);
        return;
      case 'HeartbeatResponse':
        pr.lastHeardTick = this.ticks;
        this.handleHeartbeatResponse(m, pr);
        return;
      case 'InstallSnapshotResponse':
        pr.lastHeardTick = this.ticks;
        this.handleSnapshotResponse(m, pr);
        return;
      case 'ReadIndex':
        pr.lastHeardTick = this.ticks;
        this.readIndex(m.context, m.from);
        return;
      case 'PreVote':
      case 'PreVoteResponse':
      case 'RequestVote':
      case 'RequestVoteResponse':
      case 'AppendEntries':
      case 'Heartbeat':
      case 'InstallSnapshot':
      case 'TimeoutNow':
      case 'ReadIndexResponse':
        // Votes are handled by the node; the others are only ever sent by a
        // leader of this term, which is us (Election Safety), or are stale.
        return;
    }
  }

  /**
   * Check-quorum: false once no majority has answered within the last
   * election timeout (the leader must then step down). Checked every tick, so
   * a leader cut off from its quorum notices within one election timeout.
   */
  quorumActive(): boolean {
    return this.tracker.quorumActive(this.ticks, this.host.config.electionTicks);
  }

  /** Called on every tick while leader. */
  tickHeartbeat(): void {
    this.ticks++;
    for (const pr of this.tracker.progress.values()) {
      // A transfer that stopped moving (the follower went away) starts over from a probe.
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.host.config.electionTicks)
        pr.becomeProbe();
    }
    if (++this.heartbeatElapsed >= this.host.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.reads.lastContext());
    }
  }

  // ---- replication ----

  /** Sends what each follower lacks, as far as its flow-control window allows. */
  broadcastAppend(sendIfEmpty: boolean): void {
    for (const peer of this.tracker.peers()) this.fillWindow(peer, sendIfEmpty);
  }

  private fillWindow(to: NodeId, sendIfEmpty: boolean): void {
    let sent = this.sendAppend(to, sendIfEmpty);
    while (sent) sent = this.sendAppend(to, false);
  }

  /** One AppendEntries (or InstallSnapshot) to `to`; false if nothing was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.get(to)!;
    if (pr.isPaused()) return false;
    const { log, config } = this.host;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = log.term(prevLogIndex);
    const entries = log.entriesFrom(
      pr.next,
      config.maxEntriesPerMessage,
      config.maxBytesPerMessage,
    );
    if (prevLogTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.host.send({
      type: 'AppendEntries',
      from: this.host.id,
      to,
      term: this.term,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: log.committed,
    });
    pr.sentEntries(prevLogIndex + entries.length);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Snapshots are large: do not push one at a follower that is not answering.
    if (!this.tracker.recentlyActive(to, this.ticks, this.host.config.electionTicks)) return false;
    const snapshot = this.host.log.snapshot();
    if (!snapshot)
      throw new RaftInvariantError(`log compacted below ${pr.next} without a snapshot`);
    const { snapshotChunkBytes, maxInflightSnapshotChunks } = this.host.config;
    // The transfer keeps this snapshot even if the log is compacted again meanwhile.
    pr.becomeSnapshot(
      new OutgoingSnapshot(snapshot, snapshotChunkBytes, maxInflightSnapshotChunks),
    );
    this.sendChunks(to, pr);
    return true;
  }

  /** As many chunks as the transfer's window allows. */
  private sendChunks(to: NodeId, pr: Progress): void {
    const t = pr.transfer!;
    for (let c = t.next(); c !== null; c = t.next()) {
      this.host.send({
        type: 'InstallSnapshot',
        from: this.host.id,
        to,
        term: this.term,
        snapshotIndex: t.snapshot.index,
        snapshotTerm: t.snapshot.term,
        size: t.size,
        ...c,
      });
    }
  }

  private handleSnapshotResponse(m: InstallSnapshotResponse, pr: Progress): void {
    if (pr.state !== 'snapshot' || m.snapshotIndex !== pr.pendingSnapshot) return;
    if (pr.transfer!.ack(m.offset)) pr.snapshotTicks = 0;
    this.sendChunks(m.from, pr);
  }

  private handleAppendResponse(m: AppendEntriesResponse, pr: Progress): void {
    const { log } = this.host;
    if (!m.success) {
      // Fast backtracking: jump to the last index where the logs may agree.
      const hint = m.hintTerm > 0 ? log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'snapshot':
        // An older snapshot than the log now starts at: the next probe sends the newest.
        if (pr.match + 1 >= log.firstIndex()) pr.becomeReplicate();
        else pr.becomeProbe();
        break;
      case 'replicate':
        pr.inflights.freeTo(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.broadcastAppend(true); // tell followers the new commit index
    } else if (wasPaused) {
      this.sendAppend(m.from, true);
    }
    this.fillWindow(m.from, false);
    if (m.from === this.transferee && pr.match === log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse, pr: Progress): void {
    pr.probeSent = false;
    // A full window with a live follower means some AppendEntries were lost: make room to retry.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
    // A live follower whose transfer made no progress for three heartbeats: a chunk was lost
    // (sooner would resend chunks that are only slow on a loaded machine).
    if (pr.state === 'snapshot' && pr.snapshotTicks >= 3 * this.host.config.heartbeatTicks) {
      pr.transfer!.resend();
      this.sendChunks(m.from, pr);
    }
    if (pr.match < this.host.log.lastIndex()) this.sendAppend(m.from, true);
    if (m.context !== null && this.reads.ack(m.from, m.context) >= this.host.config.quorum) {
      for (const r of this.reads.release(m.context)) this.deliverRead(r.context, r.from, r.index);
    }
  }

  /** Figure 8: commit the majority-replicated index only if it holds an entry of this term. */
  private maybeCommit(): boolean {
    const { log } = this.host;
    if (!log.maybeCommit(this.tracker.committedIndex(), this.term)) return false;
    if (!this.committedInTerm) {
      this.committedInTerm = true;
      const waiting = this.waitingReads;
      this.waitingReads = [];
      for (const w of waiting) this.readIndex(w.context, w.from);
    }
    return true;
  }

  private broadcastHeartbeat(context: string | null): void {
    const { log, id } = this.host;
    for (const peer of this.tracker.peers()) {
      const pr = this.tracker.get(peer)!;
      this.host.send({
        type: 'Heartbeat',
        from: id,
        to: peer,
        term: this.term,
        leaderCommit: Math.min(pr.match, log.committed),
        context,
      });
    }
  }

  // ---- ReadIndex (linearizable reads without writing to the log) ----

  /**
   * Registers a read for `from`'s client: its read index is the current
   * commit index, confirmed by a round of heartbeats acknowledged by a
   * majority. Before this term's no-op commits, the leader's commit index may
   * lag what earlier leaders committed, so reads wait for it.
   */
  readIndex(context: string, from: NodeId): void {
    if (!this.committedInTerm) {
      this.waitingReads.push({ context, from });
      return;
    }
    const index = this.host.log.committed;
    if (this.host.config.quorum === 1) {
      this.deliverRead(context, from, index);
      return;
    }
    if (this.reads.add(context, index, from)) this.broadcastHeartbeat(context);
  }

  private deliverRead(context: string, from: NodeId, index: number): void {
    if (from === this.host.id) {
      this.host.emitReadState({ context, index });
    } else {
      this.host.send({
        type: 'ReadIndexResponse',
        from: this.host.id,
        to: from,
        term: this.term,
        context,
        index,
      });
    }
  }

  // ---- leadership transfer (§3.10 of the thesis) ----

  /** Starts a transfer to `to`: bring its log up to date, then tell it to campaign. */
  transfer(to: NodeId): void {
    if (to === this.host.id || !this.tracker.get(to) || this.transferee === to) return;
    this.transferee = to;
    const pr = this.tracker.get(to)!;
    if (pr.match === this.host.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  abortTransfer(): void {
    this.transferee = null;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.host.handOver(to);
  }

  status(): Record<NodeId, FollowerStatus> {
    const out: Record<NodeId, FollowerStatus> = {};
    for (const [id, pr] of this.tracker.progress) out[id] = pr.status();
    return out;
  }
}
