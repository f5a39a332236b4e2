import type { RaftStorage } from '@/core/raft/raft-storage.port';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FlooredCompaction } from '@/core/pipeline/floored-compaction';
import { SeededRandom } from '@/core/ports/seeded-random';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { ProposalTable } from '@/core/raft/proposal-table';
import { RaftNode } from '@/core/raft/raft-node';
import type { LogEntry, ReadState, Role, Snapshot, StateMachine } from '@/core/raft/raft.types';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { ClusterStreams } from '@/infra/cluster/cluster-stream';
import { ClusterStatus, ClusterStatusSnapshot } from './cluster-status';
import { KvStateMachine } from './kv.state-machine';
import { RaftDriver } from './raft-driver';
import { WriteTrace } from './raft-trace';
import { RaftTransport } from './raft-transport';
import { encodeCommand, encodeJsonCommand, partImage, ReplicatedState } from './replicated-state';
import { DiskRaftStorage } from './storage/disk-raft-storage';

/**
 * Hosts the pure Raft core with real time, disk and HTTP: the RaftDriver runs
 * its Ready loop (group commit, the leader's parallel write); this class owns
 * proposals, reads, commit and leadership listeners and the shutdown handover.
 */

const TICK_MS = 10;
/** after a long stall (GC, a blocked loop), at most this many ticks are replayed at once */
const MAX_CATCH_UP_TICKS = 20;
const PROPOSAL_TIMEOUT_MS = 5_000;
const READ_TIMEOUT_MS = 3_000;
const LOST = () => new DomainError('UNAVAILABLE', 'proposal lost to a leader change; retry');
/** client writes waiting for leadership to settle (proposeWhenSettled) */
const MAX_HELD = 4_096;
const notLeader = (leader: string | null) =>
  new DomainError('NOT_LEADER', `not the leader; leader: ${leader ?? 'unknown'}`);

interface ProposalWaiter {
  resolve(result: unknown): void;
  reject(e: Error): void;
}

interface PendingRead {
  index: number | null;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export type CommitListener = (entry: LogEntry, result: unknown, replay: boolean) => void;

@Injectable()
export class RaftHost
  extends ClusterStatus
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  readonly self: string;
  readonly voters: string[];
  readonly kv = new KvStateMachine();
  private readonly state = new ReplicatedState();
  private readonly log = new Logger('Raft');
  private readonly transport: RaftTransport;
  /** debug timeline of each write (RAFT_TRACE_DIR); a no-op without it */
  readonly trace: WriteTrace;
  private node: RaftNode | null = null;
  private storage: DiskRaftStorage | null = null;
  private driver: RaftDriver | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private kickQueued = false;
  private failure: Error | null = null;
  private applied = 0;
  /** the term of the last applied entry (a new leader logs its first commit) */
  private appliedTerm = 0;
  /** commit index at boot: entries up to it are replays of what was applied before the restart */
  private bootCommit = 0;
  private readonly proposals = new ProposalTable<ProposalWaiter>(PROPOSAL_TIMEOUT_MS);
  private readonly reads = new Map<string, PendingRead>();
  private readonly listeners: CommitListener[] = [];
  private readonly roleListeners: (() => void)[] = [];
  private role: Role = 'follower';
  private knownLeader: string | null = null;
  private badFrames = 0;
  /** the disk refuses writes: led by others, refusing peers' messages until it takes them again */
  private diskFull = false;
  private readonly requests = new Map<string, number>();
  private readonly held = new Set<() => void>();
  /** a leadership transfer in progress (SIGTERM): settled by the role change */
  private handover: {
    target: string;
    timer: NodeJS.Timeout;
    resolve(to: string | null): void;
  } | null = null;
  // ---- projection support (pipeline): committed-log reads and a compaction floor ----
  /** the snapshot the log currently starts after */
  private latest: Snapshot | null = null;
  /** no compaction past this index (the projection cursor); none registered: no floor */
  private floor: () => number = () => Number.POSITIVE_INFINITY;
  private readonly compaction: FlooredCompaction;
  // ---- end projection support ----

  constructor(
    private readonly config: AppConfig,
    client: ClusterClient,
    streams: ClusterStreams,
  ) {
    super();
    this.self = config.node.advertiseAddress;
    this.voters = [this.self, ...config.node.peers.map((p) => p.address)].sort();
    this.state.register('kv', this.kv);
    this.compaction = new FlooredCompaction(config.raft.snapshotEvery);
    // A reply that comes late still tells the leader its follower is alive (check-quorum)
    // and still acks entries; cutting requests at the election timeout turned a busy event
    // loop (thousands of sites, a loaded machine) into lost acks, step-downs and elections.
    // Failure detection is the election timer's job, not the request timeout's.
    const messageMs = Math.max(2_000, 4 * config.raft.electionTimeoutMs);
    this.trace = new WriteTrace(config.raft.traceDir);
    this.transport = new RaftTransport(
      client,
      { messageMs, snapshotMs: 30_000 },
      (peer, ms) => this.receiveReply(peer, ms),
      this.trace,
      streams,
    );
  }

  /** Plugs a named state machine into the log; call before the application boots. */
  register(name: string, sm: StateMachine<unknown>): void {
    if (this.node) throw new Error('register state machines before the Raft host starts');
    this.state.register(name, sm);
  }

  /** Called for every applied command entry, in log order, on every node. */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  // ---- projection support (pipeline) ----
  /**
   * Up to `max` committed entries from `from` on, straight from the Raft log (the
   * in-memory image of the persisted log, rebuilt from disk at boot); undefined when
   * `from` is at or below the snapshot.
   */
  committedEntries(from: number, max: number): LogEntry[] | undefined {
    const node = this.node;
    if (!node) return [];
    if (from <= node.snapshotIndex) return undefined;
    return node.entries(from, Math.min(node.commitIndex, from + max - 1));
  }

  /** The snapshot the log starts after, as one part's image (empty: no snapshot or no such part). */
  snapshotOf(part: string): { index: number; image: Uint8Array } {
    const snap = this.latest;
    return snap
      ? { index: snap.index, image: partImage(snap.data, part) }
      : { index: 0, image: new Uint8Array() };
  }

  /** Compaction never passes floor() (re-read before every compaction). */
  setCompactionFloor(floor: () => number): void {
    this.floor = floor;
  }
  // ---- end projection support ----

  /** Called after this node's role or known leader changed (read them from snapshot()). */
  onLeadershipChange(listener: () => void): void {
    this.roleListeners.push(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    const dir = join(this.config.dataDir, 'raft');
    this.storage = await DiskRaftStorage.open({ dir });
    this.storage.onDiskFull((full, e) => this.onDiskFull(full, e));
    const initial = await this.storage.load();
    if (this.storage.recovery.tornTail)
      this.log.warn(`cut a torn log tail: ${JSON.stringify(this.storage.recovery.tornTail)}`);
    if (initial.snapshot) {
      this.state.restore(initial.snapshot.data);
      this.applied = initial.snapshot.index;
    }
    this.latest = initial.snapshot;
    this.bootCommit = initial.hardState.commit;
    const electionTicks = Math.max(2, Math.round(this.config.raft.electionTimeoutMs / TICK_MS));
    const heartbeatTicks = Math.max(
      1,
      Math.min(electionTicks - 1, Math.round(this.config.raft.heartbeatMs / TICK_MS)),
    );
    this.node = new RaftNode(
      {
        id: this.self,
        voters: this.voters,
        random: new SeededRandom(randomBytes(4).readUInt32LE(0)),
        electionTicks,
        heartbeatTicks,
      },
      initial,
    );
    this.driver = new RaftDriver(
      this.node,
      this.timed(this.storage),
      (m) => {
        if (m.type === 'TimeoutNow') this.log.log(`TimeoutNow to ${m.to} in term ${m.term}`);
        this.transport.send(m);
      },
      {
        softState: (ss) => this.onRole(ss.role, ss.term, ss.leader),
        restore: (snap) => {
          this.state.restore(snap.data);
          this.applied = snap.index;
          this.latest = snap;
        },
        apply: (e) => this.apply(e),
        readStates: (states) => {
          for (const rs of states) this.confirmRead(rs);
        },
        // after every Ready's applies and confirmations: reads due now, then compaction
        compact: () => {
          this.serveReads();
          return this.maybeCompact();
        },
        fail: (e) => this.fail(e),
      },
    );
    if (this.voters.length === 1) this.node.campaign();
    this.log.log(
      `node ${this.self} of [${this.voters.join(', ')}]: term ${initial.hardState.term}, ` +
        `${initial.entries.length} entries after snapshot ${initial.snapshot?.index ?? 0}`,
    );
    // Logical time follows the wall clock: a busy event loop fires the interval late,
    // and counting callbacks instead of elapsed time would stretch every timeout.
    let ticked = performance.now();
    this.timer = setInterval(() => {
      const due = Math.min(MAX_CATCH_UP_TICKS, Math.floor((performance.now() - ticked) / TICK_MS));
      ticked = due === MAX_CATCH_UP_TICKS ? performance.now() : ticked + due * TICK_MS;
      for (let i = 0; i < due; i++) this.node?.tick();
      // The core abandons a transfer after an election timeout: a handover keeps asking.
      if (this.handover && this.node?.status().transferee === null)
        this.node.transferLeadership(this.handover.target);
      if (due > 0) this.kick();
      for (const p of this.proposals.expire(performance.now()))
        p.reject(
          new DomainError('UNAVAILABLE', 'proposal not committed in time; its outcome is unknown'),
        );
    }, TICK_MS);
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.transport.close();
    if (this.timer) clearInterval(this.timer);
    this.wakeHeld(); // held writes are refused (not running)
    // A write waiting for disk space would hold stop() forever: give it up (it acknowledged nothing).
    const closing = this.diskFull ? this.storage?.close() : undefined;
    await this.driver?.stop();
    await closing;
    for (const p of this.proposals.drain())
      p.reject(new DomainError('UNAVAILABLE', 'node shutting down'));
    for (const r of this.reads.values())
      r.reject(new DomainError('UNAVAILABLE', 'node shutting down'));
    await this.storage?.close();
    this.trace.flush();
  }

  /**
   * Before a graceful stop (SIGTERM): hands leadership to the most caught-up
   * live follower, which the core sends TimeoutNow (with this node's vote for
   * the next term) only once its log matches ours, so a rolling restart costs
   * a few round trips of writes instead of an election timeout. Resolves once
   * another node leads, with its id, or null (not leading, alone, or no new
   * leader within `timeoutMs`; then the others elect one).
   */
  async handOverLeadership(timeoutMs: number): Promise<string | null> {
    const node = this.node;
    if (!node || this.stopped || this.failure || node.currentRole !== 'leader') return null;
    const progress = node.status().progress ?? {};
    const now = Math.max(...Object.values(progress).map((p) => p.lastHeardTick));
    const electionTicks = Math.max(2, Math.round(this.config.raft.electionTimeoutMs / TICK_MS));
    const candidates = Object.entries(progress)
      .filter(([id, p]) => id !== this.self && now - p.lastHeardTick < electionTicks)
      .sort((a, b) => b[1].match - a[1].match);
    if (candidates.length === 0) return null;
    const target = candidates[0][0];
    const t0 = performance.now();
    this.log.log(`handing leadership to ${target}`);
    const handedTo = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => this.endHandover(null), timeoutMs);
      this.handover = { target, timer, resolve };
      node.transferLeadership(target);
      this.kick();
    });
    const ms = (performance.now() - t0).toFixed(1);
    // warn: an operator reading a shutdown wants to see where leadership went
    if (handedTo) this.log.warn(`leadership handed to ${handedTo} in ${ms} ms`);
    else this.log.warn(`leadership transfer to ${target} did not finish in ${timeoutMs} ms`);
    return handedTo;
  }

  /** The handover ends when another node is known to lead (onRole) or its time is up. */
  private endHandover(to: string | null): void {
    const h = this.handover;
    if (!h) return;
    this.handover = null;
    clearTimeout(h.timer);
    h.resolve(to);
    this.wakeHeld();
  }

  /**
   * Handles a peer's decoded frame, sent by `sender` (the address its request
   * or reply was signed for, when known). All messages are checked before any
   * is stepped: each is for this node, from a member, and from the sender
   * itself, else the frame is refused whole and counted.
   */
  receiveBatch(messages: readonly RaftMessage[], sender: string | undefined): void {
    if (!this.node || this.stopped || this.failure)
      throw new DomainError('UNAVAILABLE', 'raft not running');
    if (this.diskFull) throw new DomainError('UNAVAILABLE', 'raft storage is full');
    const refusal = this.refusal(messages, sender);
    if (refusal) {
      this.badFrames += 1;
      throw refusal;
    }
    for (const m of messages) {
      if (m.type === 'TimeoutNow' || m.type === 'RequestVote')
        this.log.log(`${m.type} from ${m.from} in term ${m.term}`);
      if (this.trace.on) this.traceReceived(m);
      this.node.step(m);
    }
    this.kick();
  }

  private traceReceived(m: RaftMessage): void {
    if (m.type === 'AppendEntries' && m.entries.length > 0)
      this.trace.stamp('received', m.entries[m.entries.length - 1].index);
    else if (m.type === 'AppendEntriesResponse' && m.success)
      this.trace.stamp('ack-received', m.index);
  }

  private refusal(messages: readonly RaftMessage[], sender: string | undefined): Error | null {
    for (const m of messages) {
      if (m.to !== this.self)
        return new DomainError('VALIDATION_FAILED', `message for ${m.to}, this is ${this.self}`);
      if (!this.voters.includes(m.from))
        return new DomainError('FORBIDDEN', `${m.from} is not a member`);
      if (sender !== undefined && m.from !== sender)
        return new DomainError('FORBIDDEN', `${sender} may not send as ${m.from}`);
    }
    return null;
  }

  /** What this node has for `peer` within the reply window, for the response to its frame. */
  replyTo(peer: string): Promise<{ body: Buffer; headers: Record<string, string> }> {
    return this.transport.replyTo(peer);
  }

  /** Messages that came back in the (authenticated) response to our frame to `peer`. */
  private receiveReply(peer: string, messages: RaftMessage[]): void {
    try {
      this.receiveBatch(messages, peer);
    } catch (e) {
      if (this.badFrames <= 20 || this.badFrames % 1000 === 0)
        this.log.warn(`reply from ${peer} refused: ${(e as Error).message}`);
    }
  }

  /** A peer sent a frame that could not be decoded (reported in status). */
  countBadFrame(): void {
    this.badFrames += 1;
  }

  /** One request served by the bare handler (RaftHttpHandler), for /metrics and status. */
  countRequest(path: string, status: number): void {
    const key = `${path} ${Math.floor(status / 100)}xx`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.served(path, status);
  }

  /** Appends a command for `machine`; resolves with its apply result once committed. */
  propose<T>(machine: string, command: unknown): Promise<T> {
    return this.proposeEncoded<T>(encodeCommand(machine, command));
  }

  /** The same for a command already encoded by JSON.stringify (kept byte for byte). */
  proposeJson<T>(machine: string, json: string): Promise<T> {
    return this.proposeEncoded<T>(encodeJsonCommand(machine, json));
  }

  private proposeEncoded<T>(data: string): Promise<T> {
    const node = this.running();
    const r = node.propose(data);
    if (!r.ok) throw notLeader(r.leader);
    return this.track<T>(r.index, r.term);
  }

  /**
   * A client's write (the kv route): like propose, but where this node has no
   * leader to name (it is handing leadership over, or an election is running)
   * the write waits up to `waitMs` for leadership to settle instead of sending
   * the client around the cluster: then it is proposed here if this node leads,
   * else refused naming the leader. A handover ends once the successor leads, so
   * the writes held on the old leader are sent straight to it.
   * At most MAX_HELD writes wait; more are refused at once.
   */
  async proposeWhenSettled<T>(
    machine: string,
    command: unknown,
    waitMs = this.config.raft.electionTimeoutMs,
  ): Promise<T> {
    const data = encodeCommand(machine, command);
    const arrived = performance.now();
    const deadline = arrived + waitMs;
    for (;;) {
      const r = this.running().propose(data);
      if (r.ok && this.trace.on) return this.traced<T>(r.index, r.term, arrived);
      if (r.ok) return this.track<T>(r.index, r.term);
      const named = r.reason === 'not-leader' ? r.leader : null;
      const left = deadline - performance.now();
      if (named !== null || left <= 0 || this.held.size >= MAX_HELD) throw notLeader(named);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.held.delete(wake);
          resolve();
        }, left);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.held.add(wake);
      });
    }
  }

  private async traced<T>(index: number, term: number, arrived: number): Promise<T> {
    this.trace.stampAt('request', index, arrived);
    this.trace.stamp('proposed', index);
    const result = await this.track<T>(index, term);
    this.trace.stamp('answered', index);
    return result;
  }

  private track<T>(index: number, term: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: ProposalWaiter = { resolve, reject };
      this.proposals.track(index, term, performance.now(), waiter)?.reject(LOST());
      this.kickSoon();
    });
  }

  /** Held writes look again (leadership changed, or a handover ended). */
  private wakeHeld(): void {
    const held = [...this.held];
    this.held.clear();
    for (const wake of held) wake();
  }

  /** Runs `read` against local state once it is linearizable (ReadIndex, §6.4). */
  async linearizableRead<T>(read: () => T): Promise<T> {
    const node = this.running();
    const context = randomBytes(12).toString('hex');
    const r = node.readIndex(context);
    if (!r.ok) throw new DomainError('NOT_LEADER', 'no leader known');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(context);
        reject(new DomainError('UNAVAILABLE', 'read not confirmed in time'));
      }, READ_TIMEOUT_MS);
      this.reads.set(context, { index: null, resolve, reject, timer });
      this.kick();
    });
    return read();
  }

  snapshot(): ClusterStatusSnapshot {
    const n = this.node;
    return {
      nodeId: this.self,
      role: n ? n.currentRole : 'follower',
      term: n ? n.currentTerm : 0,
      leaderId: n && !this.failure ? n.knownLeader : null,
      commitIndex: n ? n.commitIndex : 0,
      appliedIndex: this.applied,
      voters: this.voters.length,
    };
  }

  isLeader(): boolean {
    return this.role === 'leader' && !this.failure;
  }

  transportStats() {
    return {
      peers: this.transport.stats(),
      badFrames: this.badFrames,
      requests: Object.fromEntries(this.requests),
      driver: this.driver ? { ...this.driver.stats } : null,
    };
  }

  private running(): RaftNode {
    if (!this.node || this.stopped) throw new DomainError('UNAVAILABLE', 'raft not running');
    if (this.failure) throw new DomainError('UNAVAILABLE', `raft stopped: ${this.failure.message}`);
    return this.node;
  }

  /** The storage as the driver sees it: each durable append is timed for /metrics (onAppend). */
  private timed(storage: RaftStorage): RaftStorage {
    return {
      load: () => storage.load(),
      save: async (update) => {
        const t0 = performance.now();
        await storage.save(update);
        this.appended(performance.now() - t0, update.entries.length);
        const last = update.entries[update.entries.length - 1];
        if (last) this.trace.stamp('durable', last.index);
      },
      compact: (snapshot) => storage.compact(snapshot),
      close: () => storage.close(),
    };
  }

  private kick(): void {
    if (!this.stopped) this.driver?.kick();
  }

  /**
   * Proposals kick once the event loop has run this turn's I/O callbacks: every
   * proposal that arrived in it shares one Ready, so one AppendEntries per
   * follower and one append carry them all (etcd batches the same way between
   * Ready calls). Alone, a proposal waits only for the rest of this turn.
   */
  private kickSoon(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private apply(e: LogEntry): void {
    if (e.term > this.appliedTerm) {
      this.appliedTerm = e.term;
      if (this.role === 'leader')
        this.log.log(`first commit of term ${e.term} at index ${e.index}`);
    }
    const result = e.type === 'command' ? this.state.apply(e) : undefined;
    this.applied = e.index;
    this.trace.stamp('applied', e.index);
    const p = this.proposals.applied(e.index, e.term);
    if (p?.outcome === 'committed') p.waiter.resolve(result);
    else if (p) p.waiter.reject(LOST());
    if (e.type !== 'command') return;
    for (const l of this.listeners) {
      try {
        l(e, result, e.index <= this.bootCommit);
      } catch (err) {
        this.log.error(`commit listener failed at index ${e.index}: ${(err as Error).message}`);
      }
    }
  }

  private confirmRead(rs: ReadState): void {
    const r = this.reads.get(rs.context);
    if (r) r.index = rs.index;
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index !== null && r.index <= this.applied) {
        this.reads.delete(ctx);
        clearTimeout(r.timer);
        r.resolve();
      }
    }
  }

  private onRole(role: Role, term: number, leader: string | null): void {
    const changed = role !== this.role || leader !== this.knownLeader;
    if (role !== this.role)
      this.log.log(`${this.role} → ${role} in term ${term} (leader ${leader ?? 'none'})`);
    this.role = role;
    this.knownLeader = leader;
    // The old leader steps down as it sends TimeoutNow (with its vote); the handover is
    // over once it hears from the new leader, which it then serves as a follower.
    if (role !== 'leader' && leader !== null) this.endHandover(leader);
    if (!changed) return;
    this.wakeHeld();
    for (const l of this.roleListeners) {
      try {
        l();
      } catch (e) {
        this.log.warn(`leadership listener failed: ${(e as Error).message}`);
      }
    }
  }

  /** A snapshot every snapshotEvery applied entries, never past the floor (FlooredCompaction). */
  private maybeCompact(): Snapshot | null {
    const node = this.node!;
    const due = this.compaction.next(this.applied, node.snapshotIndex, this.floor(), () =>
      this.state.snapshot(),
    );
    if (!due) return null;
    const snap = node.compact(due.index, due.data);
    this.latest = snap;
    this.log.log(`snapshot at index ${snap.index} (term ${snap.term}), ${snap.data.length} bytes`);
    return snap;
  }

  /**
   * Issue 12.3: a full disk is waited out, not fatal. The write stays pending
   * (so nothing it carries is acknowledged), the node steps down and refuses
   * peers' messages (no entries pile up in memory); once the storage's retry
   * succeeds it takes messages again and catches up as a follower.
   */
  private onDiskFull(full: boolean, e: Error | null): void {
    this.diskFull = full;
    if (!full) {
      this.log.warn('raft storage takes writes again: rejoining as a follower');
      return;
    }
    this.log.warn(`raft storage refuses writes (${e?.message}): stepping down until space returns`);
    this.node?.stepDown();
    this.kick();
  }

  /** A node that cannot persist must not take part any more: it stops and reports not ready. */
  private fail(e: Error): void {
    this.failure = e;
    if (this.timer) clearInterval(this.timer);
    this.log.error(`raft stopped: ${e.stack ?? e.message}`);
    this.wakeHeld();
    for (const p of this.proposals.drain())
      p.reject(new DomainError('UNAVAILABLE', 'raft stopped'));
  }
}

export type { RaftMessage };
