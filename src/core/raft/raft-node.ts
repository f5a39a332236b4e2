import { Leader } from './leader';
import { VoteTally, shouldGrant } from './election';
import {
  receiveAppendEntries,
  receiveHeartbeat,
  receiveSnapshotChunk,
  replyToStaleTerm,
} from './follower';
import { IncomingSnapshot } from './snapshot-transfer';
import { type MutableReady, type Ready, sameHardState, sameSoftState } from './ready';

export type { Ready } from './ready';
import { type RaftConfig, type ResolvedRaftConfig, resolveConfig } from './raft.config';
import { RaftLog } from './raft-log';
import {
  type PreVoteRequest,
  type RaftMessage,
  type RequestVoteRequest,
  isFromLeader,
} from './raft.messages';
import {
  type Command,
  EMPTY_STATE,
  type HardState,
  type LogEntry,
  type NodeId,
  type PersistentState,
  type ProposeResult,
  type RaftStatus,
  type ReadIndexResult,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
} from './raft.types';

/**
 * One Raft peer as a pure state machine: inputs are tick(), step(message),
 * propose(), readIndex(); outputs are collected into a Ready batch. Invariants:
 * at most one vote per term (Election Safety); the term never decreases; no
 * message leaves before the state it depends on is in a Ready the host
 * persists first; committed entries are handed out once, in order.
 */

type CampaignKind = 'pre-election' | 'election' | 'transfer';

export class RaftNode {
  readonly id: NodeId;
  private readonly cfg: ResolvedRaftConfig;
  private readonly log: RaftLog;
  private term: number;
  private vote: NodeId | null;
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;
  /** ticks since we last heard from a leader (follower) or since the last quorum check (leader) */
  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private tally: VoteTally | null = null;
  private leader: Leader | null = null;
  private outbox: RaftMessage[] = [];
  private readStates: ReadState[] = [];
  /** proposals since the last Ready, sent together (batching) */
  private broadcastPending = false;
  private lastHardState: HardState;
  /** the hard state storage has confirmed durable (a leader's term must be, before it sends early) */
  private durableHardState: HardState;
  private lastSoftState: SoftState;
  private inFlight: Ready | null = null;
  /** a leader's snapshot arriving in chunks (one at a time, dropped when the term changes) */
  private readonly incomingSnapshot: IncomingSnapshot;

  constructor(config: RaftConfig, initial: PersistentState = EMPTY_STATE) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.incomingSnapshot = new IncomingSnapshot(this.cfg.maxSnapshotBytes);
    this.log = new RaftLog(initial);
    this.term = initial.hardState.term;
    this.vote = initial.hardState.vote;
    this.lastHardState = this.hardState();
    this.durableHardState = this.lastHardState;
    this.lastSoftState = this.softState();
    this.resetElectionTimer();
  }

  // ---- inputs ----

  /** Advances logical time by one tick (the host calls it every tick interval, e.g. 100 ms). */
  tick(): void {
    if (this.role === 'leader') {
      this.tickLeader();
      return;
    }
    if (++this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign(this.cfg.preVote ? 'pre-election' : 'election');
    }
  }

  /**
   * Starts an election now (e.g. a cluster of one at boot); a no-op on a leader.
   * `grantedBy`: a transfer's old leader that already voted for us in the new term.
   */
  campaign(
    kind: CampaignKind = this.cfg.preVote ? 'pre-election' : 'election',
    grantedBy: NodeId | null = null,
  ): void {
    if (this.role === 'leader') return;
    this.resetElectionTimer();
    if (kind === 'pre-election') this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === 'pre-election' ? this.term + 1 : this.term;
    this.tally!.record(this.id, true);
    if (kind === 'transfer' && grantedBy !== null) this.tally!.record(grantedBy, true);
    if (this.tallyVotes()) return; // a cluster of one wins alone (or with a transfer's vote)
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const to of this.cfg.voters) {
      if (to === this.id) continue;
      if (kind === 'pre-election') {
        this.send({
          type: 'PreVote',
          from: this.id,
          to,
          term: voteTerm,
          lastLogIndex,
          lastLogTerm,
        });
      } else {
        const transfer = kind === 'transfer';
        this.send({
          type: 'RequestVote',
          from: this.id,
          to,
          term: voteTerm,
          lastLogIndex,
          lastLogTerm,
          transfer,
        });
      }
    }
  }

  /** Handles one message from a peer. Unknown senders and misrouted messages are dropped. */
  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id || !this.cfg.voters.includes(m.from)) return;
    if (m.term > this.term) {
      if (m.type === 'PreVote' || m.type === 'RequestVote') {
        // Check-quorum's other half: while we hear from a live leader, a
        // candidate with a higher term is a disruption (e.g. a node coming
        // back from a partition), not a successor. A transfer is invited.
        const transfer = m.type === 'RequestVote' && m.transfer;
        if (!transfer && this.inLease()) return;
      }
      if (m.type === 'PreVote') {
        // a pre-vote never changes the receiver's term
      } else if (m.type === 'PreVoteResponse' && m.granted) {
        // granted pre-votes carry the proposed term; the tally below counts them
      } else {
        this.becomeFollower(m.term, isFromLeader(m) ? m.from : null);
      }
    } else if (m.term < this.term) {
      const reply = replyToStaleTerm(this.cfg, this.id, this.term, m);
      if (reply) this.send(reply);
      return;
    }

    if (m.type === 'PreVote' || m.type === 'RequestVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.leader!.step(m);
        return;
      case 'pre-candidate':
      case 'candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /** Appends a command if this node leads; the caller learns its (index, term) to match on apply. */
  propose(data: Command): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leader: this.leaderId };
    const leader = this.leader!;
    if (leader.transferee !== null) return { ok: false, reason: 'transferring', leader: this.id };
    const at = leader.appendLocal([{ type: 'command', data }]);
    this.broadcastPending = true;
    return { ok: true, ...at };
  }

  /**
   * Asks for a linearizable read point. A ReadState with this `context`
   * (unique per request) appears in a later Ready once the leader confirmed
   * it; serve the read after applying up to its index. Requests can be lost
   * (leader change, partition): hosts time them out and retry with a new context.
   */
  readIndex(context: string): ReadIndexResult {
    if (this.role === 'leader') {
      this.leader!.readIndex(context, this.id);
      return { ok: true };
    }
    if (this.leaderId === null) return { ok: false, reason: 'no-leader', leader: null };
    this.send({ type: 'ReadIndex', from: this.id, to: this.leaderId, term: this.term, context });
    return { ok: true };
  }

  /** Hands leadership to `to` (leader only); proposals are refused until it completes or times out. */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') return;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leader!.transfer(to);
  }

  /**
   * A leader that cannot persist (its disk refuses writes) gives up its term's
   * leadership at once rather than collecting proposals it can never make
   * durable: it becomes a follower, and the others elect a leader that can.
   */
  stepDown(): void {
    if (this.role !== 'leader') return;
    this.becomeFollower(this.term, null);
    this.resetElectionTimer();
  }

  /**
   * Compacts the log behind a snapshot of the state machine taken at `index`
   * (<= applied). The host persists the returned snapshot (RaftStorage.compact).
   * Call between advance() and the next ready().
   */
  compact(index: number, data: Uint8Array): Snapshot {
    return this.log.compact(index, data);
  }

  // ---- outputs ----

  hasReady(): boolean {
    if (this.inFlight) return false;
    const hs = this.lastHardState;
    const ss = this.lastSoftState;
    return (
      this.broadcastPending ||
      this.outbox.length > 0 ||
      this.readStates.length > 0 ||
      this.log.hasUnstable() ||
      this.log.unstableSnapshot() !== null ||
      this.log.hasNextCommitted() ||
      this.term !== hs.term ||
      this.vote !== hs.vote ||
      this.log.committed !== hs.commit ||
      this.role !== ss.role ||
      this.leaderId !== ss.leader ||
      this.term !== ss.term
    );
  }

  /** Takes the pending batch. The host must call advance() before the next ready(). */
  ready(): Ready {
    if (this.inFlight) throw new Error('ready() called again before advance()');
    if (this.broadcastPending) {
      this.broadcastPending = false;
      this.leader?.broadcastAppend(false);
    }
    const hs = this.hardState();
    const ss = this.softState();
    const snapshot = this.log.unstableSnapshot();
    const { early, late } = this.splitOutbox();
    const rd: MutableReady = {
      entries: this.log.unstableEntries(),
      earlyMessages: early,
      messages: late,
      committedEntries: this.log.nextCommitted(),
      readStates: this.readStates,
    };
    if (!sameSoftState(ss, this.lastSoftState)) rd.softState = ss;
    if (!sameHardState(hs, this.lastHardState)) rd.hardState = hs;
    if (snapshot) rd.snapshot = snapshot;
    this.outbox = [];
    this.readStates = [];
    this.lastSoftState = ss;
    this.inFlight = rd;
    return rd;
  }

  /**
   * Thesis §10.2.1: a leader's replication messages do not depend on its own
   * disk, so they may leave while its write is in progress — provided its
   * term and vote are durable (they are: it asked for votes only after
   * persisting them). Everything else waits for the Ready's write.
   */
  private splitOutbox(): { early: RaftMessage[]; late: RaftMessage[] } {
    const out = this.outbox;
    const d = this.durableHardState;
    if (this.role !== 'leader' || this.term !== d.term || this.vote !== d.vote)
      return { early: [], late: out };
    const early: RaftMessage[] = [];
    const late: RaftMessage[] = [];
    for (const m of out) (isFromLeader(m) ? early : late).push(m);
    return { early, late };
  }

  /**
   * The host handed the last Ready's writes to storage (in order), sent its
   * early messages and applied its committed entries. Its `messages` wait for
   * persisted(rd); the next Ready may be taken meanwhile (pipelining).
   */
  advance(): void {
    const rd = this.inFlight;
    if (!rd) throw new Error('advance() without ready()');
    this.inFlight = null;
    if (rd.hardState) this.lastHardState = rd.hardState;
    if (rd.snapshot) {
      this.log.stableSnapshot(rd.snapshot);
      this.log.appliedTo(rd.snapshot.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
    }
  }

  /**
   * Storage fsynced `rd` (and every Ready before it): its entries now count
   * as this node's replica (a leader counts itself in the quorum only now)
   * and may be applied once committed. Call in Ready order, after advance().
   */
  persisted(rd: Ready): void {
    if (rd.hardState) this.durableHardState = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.durableTo(last.index, last.term);
    }
    if (this.role === 'leader') this.leader!.selfDurable(this.log.durableIndex());
  }

  get currentTerm(): number {
    return this.term;
  }

  get currentRole(): Role {
    return this.role;
  }

  /** The leader this node follows (itself when leading), or null. */
  get knownLeader(): NodeId | null {
    return this.leaderId;
  }

  get commitIndex(): number {
    return this.log.committed;
  }

  get appliedIndex(): number {
    return this.log.applied;
  }

  get snapshotIndex(): number {
    return this.log.snapshotIndex();
  }

  get lastIndex(): number {
    return this.log.lastIndex();
  }

  status(): RaftStatus {
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.leaderId,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      snapshotIndex: this.log.snapshotIndex(),
      transferee: this.leader?.transferee ?? null,
      progress: this.leader?.status() ?? null,
    };
  }

  /** The entries in [lo, hi] still in the log (for tests and diagnostics). */
  entries(lo: number, hi: number): LogEntry[] {
    return this.log.slice(Math.max(lo, this.log.firstIndex()), Math.min(hi, this.log.lastIndex()));
  }

  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  // ---- role transitions (§5.2) ----

  /**
   * Does not restart the election timer: per Figure 2 only a message from the
   * current leader or a granted vote does. (Restarting it whenever a higher
   * term shows up would let a candidate that can never win, e.g. one with an
   * empty log, keep the nodes that could win from ever timing out.)
   */
  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
      this.incomingSnapshot.reset();
    }
    this.role = 'follower';
    this.leaderId = leader;
    this.leader = null;
    this.tally = null;
    this.broadcastPending = false;
  }

  private becomePreCandidate(): void {
    // §9.6: no term change and no vote yet; only a poll of would-be voters.
    this.role = 'pre-candidate';
    this.leaderId = null;
    this.leader = null;
    this.tally = new VoteTally(this.cfg.quorum);
  }

  private becomeCandidate(): void {
    this.term += 1;
    this.vote = this.id;
    this.incomingSnapshot.reset();
    this.role = 'candidate';
    this.leaderId = null;
    this.leader = null;
    this.tally = new VoteTally(this.cfg.quorum);
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.id;
    this.tally = null;
    this.electionElapsed = 0;
    this.leader = new Leader(
      {
        id: this.id,
        config: this.cfg,
        log: this.log,
        send: (m) => this.send(m),
        emitReadState: (rs) => this.readStates.push(rs),
        handOver: (to) => this.handOver(to),
      },
      this.term,
    );
    this.leader.start();
  }

  /**
   * The transfer target holds every entry of this leader's log, so this node
   * can give it its vote for the next term right away: it steps down into
   * that term having voted for the target, and TimeoutNow (sent, like any
   * vote, only once that vote is durable) carries the vote along. In a
   * cluster of three the target then wins with its own vote, without a
   * RequestVote round trip. If TimeoutNow is lost, the next election (one
   * timeout later) picks a leader as usual.
   */
  private handOver(to: NodeId): void {
    const term = this.term;
    this.becomeFollower(term + 1, null);
    this.vote = to;
    this.resetElectionTimer();
    this.send({ type: 'TimeoutNow', from: this.id, to, term, vote: true });
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const t = this.cfg.electionTicks;
    this.randomizedElectionTimeout = this.cfg.random.int(t, 2 * t);
  }

  private tickLeader(): void {
    const leader = this.leader!;
    leader.tickHeartbeat();
    // A leader cut off from a majority steps down instead of leading nobody.
    if (this.cfg.checkQuorum && !leader.quorumActive()) {
      this.becomeFollower(this.term, null);
      this.resetElectionTimer();
      return;
    }
    if (++this.electionElapsed >= this.cfg.electionTicks) {
      // Also the window a leadership transfer has to complete in.
      this.electionElapsed = 0;
      leader.abortTransfer();
    }
  }

  /** Heard from a leader less than an election timeout ago. */
  private inLease(): boolean {
    return (
      this.cfg.checkQuorum &&
      this.leaderId !== null &&
      this.electionElapsed < this.cfg.electionTicks
    );
  }

  // ---- elections (§5.2, §5.4.1, §9.6) ----

  private handleVoteRequest(m: PreVoteRequest | RequestVoteRequest): void {
    const voter = { term: this.term, vote: this.vote, leader: this.leaderId };
    const granted = shouldGrant(voter, this.log, m);
    const type = m.type === 'PreVote' ? 'PreVoteResponse' : 'RequestVoteResponse';
    // A grant answers at the requested term; a refusal carries ours so a stale candidate catches up.
    this.send({ type, from: this.id, to: m.from, term: granted ? m.term : this.term, granted });
    if (granted && m.type === 'RequestVote') {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
  }

  private stepCandidate(m: RaftMessage): void {
    switch (m.type) {
      case 'AppendEntries':
      case 'Heartbeat':
      case 'InstallSnapshot':
        // Another node won this term.
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case 'PreVoteResponse':
        if (this.role !== 'pre-candidate') return;
        if (m.granted ? m.term !== this.term + 1 : m.term !== this.term) return;
        this.tally!.record(m.from, m.granted);
        this.tallyVotes();
        return;
      case 'RequestVoteResponse':
        if (this.role !== 'candidate') return;
        this.tally!.record(m.from, m.granted);
        this.tallyVotes();
        return;
      case 'ReadIndexResponse':
        this.readStates.push({ context: m.context, index: m.index });
        return;
      case 'PreVote':
      case 'RequestVote':
      case 'AppendEntriesResponse':
      case 'HeartbeatResponse':
      case 'InstallSnapshotResponse':
      case 'TimeoutNow':
      case 'ReadIndex':
        return;
    }
  }

  /** Returns true when the election is decided. */
  private tallyVotes(): boolean {
    switch (this.tally!.result()) {
      case 'won':
        if (this.role === 'pre-candidate') this.campaign('election');
        else this.becomeLeader();
        return true;
      case 'lost':
        this.becomeFollower(this.term, null);
        return true;
      case 'pending':
        return false;
    }
  }

  // ---- follower (§5.3, §7) ----

  private stepFollower(m: RaftMessage): void {
    switch (m.type) {
      case 'AppendEntries':
        this.heardFromLeader(m.from);
        this.send(receiveAppendEntries(this.log, this.id, this.term, m));
        return;
      case 'Heartbeat':
        this.heardFromLeader(m.from);
        this.send(receiveHeartbeat(this.log, this.id, this.term, m));
        return;
      case 'InstallSnapshot': {
        this.heardFromLeader(m.from);
        const reply = receiveSnapshotChunk(this.log, this.incomingSnapshot, this.id, this.term, m);
        if (reply) this.send(reply);
        return;
      }
      case 'TimeoutNow':
        // The leader of this term hands over: campaign at once, skipping
        // pre-vote and the voters' lease (only that leader sends TimeoutNow).
        this.campaign('transfer', m.vote ? m.from : null);
        return;
      case 'ReadIndexResponse':
        this.readStates.push({ context: m.context, index: m.index });
        return;
      case 'PreVote':
      case 'RequestVote':
      case 'PreVoteResponse':
      case 'RequestVoteResponse':
      case 'AppendEntriesResponse':
      case 'HeartbeatResponse':
      case 'InstallSnapshotResponse':
      case 'ReadIndex':
        return;
    }
  }

  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.leaderId = leader;
  }

  private send(m: RaftMessage): void {
    this.outbox.push(m);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leaderId, term: this.term };
  }
}
