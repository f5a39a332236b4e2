import { SeededRandom, deriveSeed } from '@/core/ports/seeded-random';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { RaftNode, type Ready } from '@/core/raft/raft-node';
import type { LogEntry, NodeId, ProposeResult, ReadIndexResult } from '@/core/raft/raft.types';
import { entrySize } from '@/core/raft/raft.types';
import { FakeClock, type TimerHandle } from '../../../fakes/fake-clock';
import { FakeNetwork, type NetworkFaults, RELIABLE } from '../../../fakes/fake-network';
import { KvStateMachine, encodeKv } from '../../../fakes/kv-state-machine';
import { MemoryRaftStorage } from '../../../fakes/memory-raft-storage';
import { SafetyChecker } from './safety-checker';

/**
 * A deterministic Raft cluster: N RaftNodes, each with an in-memory "disk"
 * that survives crashes, a KV state machine, a seeded fake network and one
 * fake clock. It plays the host's part exactly as README.md prescribes
 * (persist → send → apply → advance) and checks the safety properties after
 * every event. Everything — timeouts, delays, drops, fault schedules — comes
 * from the seed, so a failure replays with RAFT_SEED=<seed>.
 */
export interface SimOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly faults?: NetworkFaults;
  /** simulated ms per tick (default 10; with the core's default 100/10 ticks: election timeout 1–2 s, heartbeat 100 ms) */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** compact the log after this many applied entries past the last snapshot (0 = never) */
  readonly snapshotEvery?: number;
  readonly maxInflightMessages?: number;
  readonly maxEntriesPerMessage?: number;
  /** InstallSnapshot chunk size (default 64 bytes, so every install takes many chunks) */
  readonly snapshotChunkBytes?: number;
  /** chunks in flight per follower (default 4 here, so the window and reordering are searched) */
  readonly maxInflightSnapshotChunks?: number;
  /**
   * Clock drift: each node's tick interval is tickMs * (1 ± up to this
   * fraction), drawn per boot. Raft's safety must not depend on timing.
   */
  readonly tickDrift?: number;
  /**
   * Simulated fsync time: each write takes a seeded draw from [0, this] ms
   * (default 3), while the node keeps stepping messages and taking Readys;
   * Readys that queue behind a write share the next one (group commit). A
   * crash loses every write not yet finished. 0 makes writes synchronous.
   */
  readonly diskMs?: number;
  /** a deliberately broken host, to show the checks catch it (see mutations.spec.ts) */
  readonly mutation?: HostMutation;
}

/**
 * Host bugs the simulation must catch:
 * - `ack-before-fsync`: a proposal is acknowledged to its client once its
 *   Ready is handed to storage, before the fsync (and the commit);
 * - `follower-ack-before-persist`: a follower's AppendEntries acknowledgements
 *   leave before its write is durable.
 * (The third, counting the leader before its write is durable, is a core
 * mutation patched in by the spec.)
 */
export type HostMutation = 'ack-before-fsync' | 'follower-ack-before-persist';

export type ProposalAckListener = (node: SimNode, entries: readonly LogEntry[]) => void;

interface PendingRead {
  readonly index: number;
  readonly serve: () => void;
}

export class SimNode {
  raft: RaftNode | null = null;
  sm = new KvStateMachine();
  /** applied index of the current incarnation */
  lastApplied = 0;
  incarnation = 0;
  tickTimer: TimerHandle | null = null;
  readonly storage = new MemoryRaftStorage();
  /** everything this node ever applied, across incarnations: index -> data */
  readonly applied = new Map<number, string>();
  readonly readWaiters = new Map<string, (index: number) => void>();
  pendingReads: PendingRead[] = [];
  /** Readys handed to the disk and not yet fsynced, oldest first */
  diskQueue: Ready[] = [];
  /** the write in progress (the Readys it covers), if any */
  writing: Ready[] | null = null;
  diskTimer: TimerHandle | null = null;
  /** a fixed fsync time for this node's writes, overriding SimOptions.diskMs */
  diskMs: number | null = null;

  constructor(readonly id: NodeId) {}

  get alive(): boolean {
    return this.raft !== null;
  }
}

export type ApplyListener = (node: SimNode, entry: LogEntry) => void;
export type CrashListener = (node: SimNode) => void;

export class SimCluster {
  readonly clock = new FakeClock();
  readonly random: SeededRandom;
  readonly net: FakeNetwork<RaftMessage>;
  readonly ids: NodeId[];
  readonly safety: SafetyChecker;
  readonly tickMs: number;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly nodeList: SimNode[] = [];
  private readonly applyListeners: ApplyListener[] = [];
  private readonly crashListeners: CrashListener[] = [];
  private readonly ackListeners: ProposalAckListener[] = [];
  private readonly disk: SeededRandom;
  /** counts every Ready processed, for RPC/persistence accounting */
  readies = 0;
  /** disk writes (one fsync each; a write covers every Ready queued behind the previous one) */
  diskWrites = 0;

  constructor(readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    this.tickMs = options.tickMs ?? 10;
    this.disk = this.random.fork('disk');
    this.ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.safety = new SafetyChecker(() => this.where());
    this.net = new FakeNetwork<RaftMessage>(
      this.clock,
      this.random.fork('network'),
      (_from, to, m) => this.deliver(to, m),
      describeMessage,
    );
    this.net.setFaults(options.faults ?? RELIABLE);
    for (const id of this.ids) {
      const node = new SimNode(id);
      this.nodes.set(id, node);
      this.nodeList.push(node);
    }
    for (const node of this.nodeList) this.boot(node);
  }

  get seed(): number {
    return this.options.seed;
  }

  where(): string {
    return `seed=${this.seed} t=${this.clock.now()}ms; replay with RAFT_SEED=${this.seed}`;
  }

  fail(what: string): never {
    throw new Error(`${what} (${this.where()})`);
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  allNodes(): readonly SimNode[] {
    return this.nodeList;
  }

  onApply(listener: ApplyListener): void {
    this.applyListeners.push(listener);
  }

  onCrash(listener: CrashListener): void {
    this.crashListeners.push(listener);
  }

  /** Only with the `ack-before-fsync` mutation: entries a leader handed to storage. */
  onProposalAck(listener: ProposalAckListener): void {
    this.ackListeners.push(listener);
  }

  // ---- time ----

  runFor(ms: number): void {
    this.clock.runUntil(this.clock.now() + ms);
  }

  /** Runs until `done()` holds (checked after every event) or `timeoutMs` passes; true if it held. */
  runUntil(done: () => boolean, timeoutMs: number): boolean {
    if (done()) return true;
    let met = false;
    this.clock.runUntil(this.clock.now() + timeoutMs, () => (met = done()));
    return met || done();
  }

  // ---- faults ----

  /** Kills a node: everything not in its storage is lost. */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.raft) return;
    node.tickTimer?.cancel();
    node.tickTimer = null;
    node.diskTimer?.cancel();
    node.diskTimer = null;
    node.diskQueue = [];
    node.writing = null; // never reached the disk
    node.raft = null;
    node.readWaiters.clear();
    node.pendingReads = [];
    for (const l of this.crashListeners) l(node);
  }

  /** Boots a crashed node from its storage (it keeps its network connectivity). */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.raft) return;
    this.boot(node);
  }

  disconnect(id: NodeId): void {
    this.net.disconnect(id);
  }

  connect(id: NodeId): void {
    this.net.connect(id);
  }

  partition(...groups: NodeId[][]): void {
    this.net.partition(...groups);
  }

  heal(): void {
    this.net.heal();
  }

  setFaults(faults: NetworkFaults): void {
    this.net.setFaults(faults);
  }

  // ---- client side ----

  /** A unique KV command for a test value, spread over a few keys. */
  commandFor(value: string): string {
    return encodeKv({ op: 'put', key: `k${hash(value) % 8}`, value });
  }

  propose(id: NodeId, data: string): ProposeResult {
    const node = this.node(id);
    if (!node.raft) return { ok: false, reason: 'not-leader', leader: null };
    const r = node.raft.propose(data);
    this.process(node);
    return r;
  }

  /** Starts a ReadIndex read on `id`; `serve` runs once the node applied up to the read index. */
  read(id: NodeId, context: string, serve: (node: SimNode) => void): ReadIndexResult {
    const node = this.node(id);
    if (!node.raft) return { ok: false, reason: 'no-leader', leader: null };
    node.readWaiters.set(context, (index) =>
      node.pendingReads.push({ index, serve: () => serve(node) }),
    );
    const r = node.raft.readIndex(context);
    if (!r.ok) node.readWaiters.delete(context);
    this.process(node);
    return r;
  }

  /** Makes `id` start an election now (pre-vote first, if enabled) instead of waiting for its timeout. */
  campaign(id: NodeId): void {
    const node = this.node(id);
    if (!node.raft) return;
    node.raft.campaign();
    this.process(node);
  }

  transferLeadership(from: NodeId, to: NodeId): void {
    const node = this.node(from);
    if (!node.raft) return;
    node.raft.transferLeadership(to);
    this.process(node);
  }

  // ---- observations (the classic lab helpers) ----

  /** Live leaders among nodes that are not disconnected. */
  connectedLeaders(): SimNode[] {
    return this.allNodes().filter(
      (n) => n.raft?.currentRole === 'leader' && this.net.isConnected(n.id),
    );
  }

  /**
   * Polls for ~5 s of simulated time until exactly one connected leader holds
   * the newest term; fails if a term has two leaders or none appears (the
   * liveness bound: election timeout 1–2 s, so 5 s allows a split vote or two).
   */
  checkOneLeader(): NodeId {
    for (let iter = 0; iter < 10; iter++) {
      this.runFor(this.random.int(450, 551));
      const byTerm = new Map<number, NodeId[]>();
      for (const n of this.connectedLeaders()) {
        const t = n.raft!.currentTerm;
        byTerm.set(t, [...(byTerm.get(t) ?? []), n.id]);
      }
      let lastTerm = -1;
      for (const [term, leaders] of byTerm) {
        if (leaders.length > 1)
          this.fail(`term ${term} has ${leaders.length} leaders: ${leaders.join(',')}`);
        lastTerm = Math.max(lastTerm, term);
      }
      if (lastTerm >= 0) return byTerm.get(lastTerm)![0];
    }
    this.fail('expected one leader within 5 s, got none');
  }

  checkNoLeader(): void {
    const leaders = this.connectedLeaders();
    if (leaders.length > 0)
      this.fail(`expected no leader among connected nodes, but ${leaders[0].id} claims to be one`);
  }

  /** All connected live nodes agree on the term; returns it. */
  checkTerms(): number {
    let term = -1;
    for (const n of this.allNodes()) {
      if (!n.raft || !this.net.isConnected(n.id)) continue;
      if (term === -1) term = n.raft.currentTerm;
      else if (n.raft.currentTerm !== term) this.fail('servers disagree on term');
    }
    return term;
  }

  /** How many nodes applied `index`, and what (all that did must agree). */
  nCommitted(index: number): { count: number; data: string | undefined } {
    let count = 0;
    let data: string | undefined;
    for (const n of this.allNodes()) {
      const d = n.applied.get(index);
      if (d === undefined) continue;
      if (count > 0 && d !== data)
        this.fail(`committed values do not match: index ${index}, ${d} vs ${data}`);
      count++;
      data = d;
    }
    return { count, data };
  }

  /**
   * Submits a command and waits for `expected` nodes to apply it: tries each
   * node until one accepts as leader, waits 2 s for agreement, and (if
   * `retry`) starts over with another leader, for up to 10 s.
   */
  one(value: string, expected: number, retry = true): number {
    const data = this.commandFor(value);
    const t0 = this.clock.now();
    let start = 0;
    while (this.clock.now() - t0 < 10_000) {
      let index = -1;
      for (let k = 0; k < this.ids.length; k++) {
        start = (start + 1) % this.ids.length;
        const id = this.ids[start];
        if (!this.node(id).alive || !this.net.isConnected(id)) continue;
        const r = this.propose(id, data);
        if (r.ok) {
          index = r.index;
          break;
        }
      }
      if (index !== -1) {
        const agreed = this.runUntil(() => {
          const c = this.nCommitted(index);
          return c.count > 0 && c.count >= expected && c.data === data;
        }, 2_000);
        if (agreed) return index;
        if (!retry) this.fail(`one(${value}) failed to reach agreement`);
      } else {
        this.runFor(50);
      }
    }
    this.fail(`one(${value}) failed to reach agreement within 10 s`);
  }

  // ---- the host loop ----

  private boot(node: SimNode): void {
    node.incarnation++;
    const state = node.storage.loadSync();
    node.sm = new KvStateMachine();
    node.lastApplied = 0;
    if (state.snapshot) {
      node.sm.restore(state.snapshot.data);
      node.lastApplied = state.snapshot.index;
      this.safety.onState(node.id, state.snapshot.index, node.sm.stateHash);
    }
    const o = this.options;
    node.raft = new RaftNode(
      {
        id: node.id,
        voters: this.ids,
        random: new SeededRandom(deriveSeed(this.seed, `${node.id}#${node.incarnation}`)),
        electionTicks: o.electionTicks,
        heartbeatTicks: o.heartbeatTicks,
        preVote: o.preVote,
        checkQuorum: o.checkQuorum,
        maxInflightMessages: o.maxInflightMessages,
        maxEntriesPerMessage: o.maxEntriesPerMessage,
        snapshotChunkBytes: o.snapshotChunkBytes ?? 64,
        maxInflightSnapshotChunks: o.maxInflightSnapshotChunks ?? 4,
      },
      state,
    );
    const drift = o.tickDrift ?? 0;
    const interval = Math.max(
      1,
      Math.round(this.tickMs * (1 + drift * (2 * this.random.next() - 1))),
    );
    node.tickTimer = this.clock.every(
      interval,
      () => {
        node.raft?.tick();
        this.process(node);
      },
      this.random.int(1, this.tickMs + 1),
    );
    this.process(node);
  }

  private deliver(to: NodeId, m: RaftMessage): void {
    const node = this.node(to);
    if (!node.raft) return; // a dead node loses what arrives
    node.raft.step(m);
    this.process(node);
  }

  /**
   * README.md's loop, pipelined: take a Ready, send its early messages, queue
   * its writes, apply, advance; when the write is durable, send its messages
   * and report persisted(). Safety checks follow every step.
   */
  private process(node: SimNode): void {
    const raft = node.raft;
    if (!raft) return;
    while (raft.hasReady()) {
      const rd = raft.ready();
      this.readies++;
      const mutation = this.options.mutation;
      for (const m of rd.earlyMessages) this.net.send(m.from, m.to, m);
      if (mutation === 'follower-ack-before-persist') {
        for (const m of rd.messages)
          if (m.type === 'AppendEntriesResponse') this.net.send(m.from, m.to, m);
      }
      if (
        mutation === 'ack-before-fsync' &&
        raft.currentRole === 'leader' &&
        rd.entries.length > 0
      ) {
        // Right after this event (the proposer learns its index first), before the fsync.
        const entries = rd.entries;
        const incarnation = node.incarnation;
        this.clock.schedule(0, () => {
          if (node.incarnation === incarnation && node.writing !== null)
            for (const l of this.ackListeners) l(node, entries);
        });
      }
      if (rd.snapshot) {
        node.sm.restore(rd.snapshot.data);
        node.lastApplied = rd.snapshot.index;
        this.safety.onState(node.id, rd.snapshot.index, node.sm.stateHash);
      }
      for (const e of rd.committedEntries) {
        this.safety.onApply(node.id, e, node.lastApplied, raft.currentTerm);
        node.sm.apply(e);
        node.lastApplied = e.index;
        node.applied.set(e.index, typeof e.data === 'string' ? e.data : String(e.data));
        this.safety.onState(node.id, e.index, node.sm.stateHash);
        for (const l of this.applyListeners) l(node, e);
      }
      for (const rs of rd.readStates) {
        const waiter = node.readWaiters.get(rs.context);
        if (waiter) {
          node.readWaiters.delete(rs.context);
          waiter(rs.index);
        }
      }
      raft.advance();
      this.serveReads(node);
      this.maybeCompact(node, raft);
      const busy = node.writing !== null || node.diskQueue.length > 0;
      if (busy || rd.snapshot || rd.entries.length > 0 || rd.hardState) {
        node.diskQueue.push(rd); // its messages may promise what an earlier write holds
        this.startWrite(node);
      } else {
        this.finishReady(node, raft, rd);
      }
    }
    this.safety.onLeaders(this.allNodes());
  }

  /** Starts a write of everything queued, unless one is running (group commit). */
  private startWrite(node: SimNode): void {
    if (node.writing || node.diskQueue.length === 0 || !node.raft) return;
    const batch = node.diskQueue;
    node.diskQueue = [];
    node.writing = batch;
    const max = node.diskMs ?? this.options.diskMs ?? 3;
    const complete = () => {
      node.diskTimer = null;
      if (node.writing !== batch || !node.raft) return;
      this.diskWrites++;
      const raft = node.raft;
      for (const rd of batch) {
        node.storage.saveSync({
          hardState: rd.hardState,
          entries: rd.entries,
          snapshot: rd.snapshot,
        });
        this.safety.onPersisted(node.id, rd.entries, rd.snapshot, node.storage);
      }
      node.writing = null;
      for (const rd of batch) this.finishReady(node, raft, rd);
      this.startWrite(node);
      this.process(node);
    };
    const ms = node.diskMs ?? this.disk.int(0, max + 1);
    if (ms <= 0) complete();
    else node.diskTimer = this.clock.schedule(ms, complete);
  }

  private finishReady(node: SimNode, raft: RaftNode, rd: Ready): void {
    const skip = this.options.mutation === 'follower-ack-before-persist';
    for (const m of rd.messages) {
      if (skip && m.type === 'AppendEntriesResponse') continue;
      this.net.send(m.from, m.to, m);
    }
    raft.persisted(rd);
  }

  private serveReads(node: SimNode): void {
    if (node.pendingReads.length === 0) return;
    const ready = node.pendingReads.filter((r) => r.index <= node.lastApplied);
    node.pendingReads = node.pendingReads.filter((r) => r.index > node.lastApplied);
    for (const r of ready) r.serve();
  }

  private maybeCompact(node: SimNode, raft: RaftNode): void {
    const every = this.options.snapshotEvery ?? 0;
    if (every <= 0 || node.lastApplied - raft.snapshotIndex < every) return;
    const snap = raft.compact(node.lastApplied, node.sm.snapshot());
    node.storage.compactSync(snap);
  }
}

function describeMessage(m: RaftMessage): { type: string; bytes: number } {
  let bytes = 32;
  if (m.type === 'AppendEntries') for (const e of m.entries) bytes += entrySize(e);
  if (m.type === 'InstallSnapshot') bytes += m.data.byteLength;
  return { type: m.type, bytes };
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
