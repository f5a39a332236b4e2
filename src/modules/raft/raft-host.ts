import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SeededRandom } from '@/core/ports/seeded-random';
import type { RaftMessage } from '@/core/raft/raft.messages';
import { RaftNode, Ready } from '@/core/raft/raft-node';
import type { LogEntry, ReadState, Role, StateMachine } from '@/core/raft/raft.types';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import { ClusterClient } from '@/infra/cluster/cluster-client';
import { ClusterStatus, ClusterStatusSnapshot } from './cluster-status';
import { KvStateMachine } from './kv.state-machine';
import { RaftTransport } from './raft-transport';
import { encodeCommand, ReplicatedState } from './replicated-state';
import { DiskRaftStorage } from './storage/disk-raft-storage';

/**
 * Drives the pure Raft core with real time, disk and HTTP. Each Ready is
 * handled in the contract's order: persist (fsync) → send → apply → advance,
 * one at a time, so no message promises state a crash could take back.
 */

const TICK_MS = 10;
const PROPOSAL_TIMEOUT_MS = 5_000;
const READ_TIMEOUT_MS = 3_000;

interface PendingProposal {
  term: number;
  resolve(result: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
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
  private node: RaftNode | null = null;
  private storage: DiskRaftStorage | null = null;
  private timer: NodeJS.Timeout | null = null;
  private processing = false;
  private again = false;
  private stopped = false;
  private failure: Error | null = null;
  private applied = 0;
  /** commit index at boot: entries up to it are replays of what was applied before the restart */
  private bootCommit = 0;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly listeners: CommitListener[] = [];
  private readonly roleListeners: (() => void)[] = [];
  private role: Role = 'follower';

  constructor(
    private readonly config: AppConfig,
    client: ClusterClient,
  ) {
    super();
    this.self = config.node.advertiseAddress;
    this.voters = [this.self, ...config.node.peers.map((p) => p.address)].sort();
    this.state.register('kv', this.kv);
    const messageMs = Math.max(200, Math.min(2_000, config.raft.electionTimeoutMs));
    this.transport = new RaftTransport(client, { messageMs, snapshotMs: 30_000 });
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

  /** Called after this node's role or known leader changed (read them from snapshot()). */
  onLeadershipChange(listener: () => void): void {
    this.roleListeners.push(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    const dir = join(this.config.dataDir, 'raft');
    this.storage = await DiskRaftStorage.open({ dir });
    const initial = await this.storage.load();
    if (this.storage.recovery.tornTail)
      this.log.warn(`cut a torn log tail: ${JSON.stringify(this.storage.recovery.tornTail)}`);
    if (initial.snapshot) {
      this.state.restore(initial.snapshot.data);
      this.applied = initial.snapshot.index;
    }
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
    if (this.voters.length === 1) this.node.campaign();
    this.log.log(
      `node ${this.self} of [${this.voters.join(', ')}]: term ${initial.hardState.term}, ` +
        `${initial.entries.length} entries after snapshot ${initial.snapshot?.index ?? 0}`,
    );
    this.timer = setInterval(() => {
      this.node?.tick();
      this.kick();
    }, TICK_MS);
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const waitIdle = async () => {
      for (let i = 0; i < 200 && this.processing; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await waitIdle();
    for (const p of this.proposals.values())
      p.reject(new DomainError('UNAVAILABLE', 'node shutting down'));
    for (const r of this.reads.values())
      r.reject(new DomainError('UNAVAILABLE', 'node shutting down'));
    await this.storage?.close();
  }

  /** Handles one validated message from a peer. */
  receive(m: RaftMessage): void {
    if (!this.node || this.stopped || this.failure)
      throw new DomainError('UNAVAILABLE', 'raft not running');
    if (m.to !== this.self)
      throw new DomainError('VALIDATION_FAILED', `message for ${m.to}, this is ${this.self}`);
    if (!this.voters.includes(m.from))
      throw new DomainError('FORBIDDEN', `${m.from} is not a member`);
    this.node.step(m);
    this.kick();
  }

  /** Appends a command for `machine`; resolves with its apply result once committed. */
  propose<T>(machine: string, command: unknown): Promise<T> {
    const node = this.running();
    const r = node.propose(encodeCommand(machine, command));
    if (!r.ok)
      throw new DomainError('NOT_LEADER', `not the leader; leader: ${r.leader ?? 'unknown'}`);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.proposals.delete(r.index);
        reject(
          new DomainError('UNAVAILABLE', 'proposal not committed in time; its outcome is unknown'),
        );
      }, PROPOSAL_TIMEOUT_MS);
      this.proposals.set(r.index, {
        term: r.term,
        resolve: resolve,
        reject,
        timer,
      });
      this.kick();
    });
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
    return this.transport.stats();
  }

  private running(): RaftNode {
    if (!this.node || this.stopped) throw new DomainError('UNAVAILABLE', 'raft not running');
    if (this.failure) throw new DomainError('UNAVAILABLE', `raft stopped: ${this.failure.message}`);
    return this.node;
  }

  private kick(): void {
    if (this.processing) {
      this.again = true;
      return;
    }
    if (!this.node || this.failure) return;
    this.processing = true;
    this.drain()
      .catch((e: unknown) => this.fail(e as Error))
      .finally(() => {
        this.processing = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    const node = this.node!;
    while (node.hasReady() && !this.failure) {
      this.again = false;
      await this.handle(node.ready());
      node.advance();
      await this.maybeCompact();
    }
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.softState) this.onRole(rd.softState.role, rd.softState.term, rd.softState.leader);
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
      await this.storage!.save({
        hardState: rd.hardState,
        entries: rd.entries,
        snapshot: rd.snapshot,
      });
    }
    if (rd.snapshot) {
      this.state.restore(rd.snapshot.data);
      this.applied = rd.snapshot.index;
    }
    if (!this.stopped) for (const m of rd.messages) this.transport.send(m);
    for (const e of rd.committedEntries) this.apply(e);
    for (const rs of rd.readStates) this.confirmRead(rs);
    this.serveReads();
  }

  private apply(e: LogEntry): void {
    const result = e.type === 'command' ? this.state.apply(e) : undefined;
    this.applied = e.index;
    const p = this.proposals.get(e.index);
    if (p) {
      this.proposals.delete(e.index);
      clearTimeout(p.timer);
      if (p.term === e.term) p.resolve(result);
      else p.reject(new DomainError('UNAVAILABLE', 'proposal lost to a leader change; retry'));
    }
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
    if (role !== this.role)
      this.log.log(`${this.role} → ${role} in term ${term} (leader ${leader ?? 'none'})`);
    this.role = role;
  }

  private async maybeCompact(): Promise<void> {
    const node = this.node!;
    if (this.applied - node.snapshotIndex < this.config.raft.snapshotEvery) return;
    const snap = node.compact(this.applied, this.state.snapshot());
    await this.storage!.compact(snap);
    this.log.log(`snapshot at index ${snap.index} (term ${snap.term}), ${snap.data.length} bytes`);
  }

  /** A node that cannot persist must not take part any more: it stops and reports not ready. */
  private fail(e: Error): void {
    this.failure = e;
    if (this.timer) clearInterval(this.timer);
    this.log.error(`raft stopped: ${e.stack ?? e.message}`);
    for (const p of this.proposals.values())
      p.reject(new DomainError('UNAVAILABLE', 'raft stopped'));
    this.proposals.clear();
  }
}

export type { RaftMessage };
