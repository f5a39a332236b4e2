import type { SeededRandom } from '@/core/ports/seeded-random';
import type { NodeId } from '@/core/raft/raft.types';
import { RELIABLE, UNRELIABLE } from '../../../fakes/fake-network';
import { encodeKv } from '../../../fakes/kv-state-machine';
import type { KvInput, KvOperation, KvOutput } from '../../../fakes/linearizability';
import type { SimCluster, SimNode } from './sim-cluster';

/**
 * A randomized client workload and fault schedule for a SimCluster, recording
 * a history for the linearizability checker.
 *
 * Clients run one operation at a time: writes (put/append) are proposed to
 * whoever they think leads and complete when the proposing node applies the
 * entry (same index and term); reads go through ReadIndex on any node and
 * complete when that node has applied up to the read index. Instants are a
 * logical counter bumped at every call and return, which follows simulated
 * real-time order exactly. A write whose outcome is unknown (timeout, crash)
 * stays in the history as possibly-happened (return = Infinity); a write no
 * node accepted, or whose slot was taken by another term's entry, did not
 * happen and is dropped; a read without an answer is dropped.
 */
const KEYS = ['x', 'y', 'z'];
const OP_TIMEOUT_MS = 1_000;

interface Recorded {
  readonly clientId: number;
  readonly input: KvInput;
  output: KvOutput | undefined;
  readonly call: number;
  ret: number;
  dropped: boolean;
}

interface PendingWrite {
  readonly rec: Recorded;
  readonly index: number;
  readonly term: number;
  readonly done: () => void;
}

export class KvHistory {
  private stamp = 0;
  private readonly ops: Recorded[] = [];

  now(): number {
    return ++this.stamp;
  }

  begin(clientId: number, input: KvInput): Recorded {
    const rec: Recorded = {
      clientId,
      input,
      output: undefined,
      call: this.now(),
      ret: Infinity,
      dropped: false,
    };
    this.ops.push(rec);
    return rec;
  }

  operations(): KvOperation[] {
    return this.ops
      .filter((o) => !o.dropped && !(o.input.op === 'get' && o.output === undefined))
      .map((o) => ({
        clientId: o.clientId,
        input: o.input,
        output: o.output,
        call: o.call,
        return: o.ret,
      }));
  }

  get size(): number {
    return this.ops.length;
  }

  counts(): { completed: number; unknown: number; dropped: number } {
    let completed = 0;
    let unknown = 0;
    let dropped = 0;
    for (const o of this.ops) {
      if (o.dropped || (o.input.op === 'get' && o.output === undefined)) dropped++;
      else if (Number.isFinite(o.ret)) completed++;
      else unknown++;
    }
    return { completed, unknown, dropped };
  }
}

/** Routes applied entries and crashes to the clients waiting on them. */
class WriteTracker {
  private readonly byNode = new Map<NodeId, Map<number, PendingWrite>>();

  constructor(
    sim: SimCluster,
    private readonly history: KvHistory,
  ) {
    sim.onApply((node, entry) => {
      const pending = this.byNode.get(node.id);
      const w = pending?.get(entry.index);
      if (!w) return;
      pending!.delete(entry.index);
      if (entry.term === w.term) {
        w.rec.output = {};
        w.rec.ret = this.history.now();
      } else {
        w.rec.dropped = true; // another leader's entry took the slot: ours can never commit
      }
      w.done();
    });
    // Only with the ack-before-fsync mutation: the host tells the client too early.
    sim.onProposalAck((node, entries) => {
      const pending = this.byNode.get(node.id);
      for (const e of entries) {
        const w = pending?.get(e.index);
        if (!w || w.term !== e.term) continue;
        pending!.delete(e.index);
        w.rec.output = {};
        w.rec.ret = this.history.now();
        w.done();
      }
    });
    sim.onCrash((node) => {
      const pending = this.byNode.get(node.id);
      if (!pending) return;
      this.byNode.delete(node.id);
      for (const w of pending.values()) w.done(); // outcome unknown: stays possibly-happened
    });
  }

  add(node: NodeId, w: PendingWrite): void {
    let m = this.byNode.get(node);
    if (!m) this.byNode.set(node, (m = new Map()));
    m.set(w.index, w);
  }

  forget(node: NodeId, index: number): void {
    this.byNode.get(node)?.delete(index);
  }
}

class KvClient {
  private stopped = false;
  private leaderGuess: NodeId | null = null;
  private n = 0;
  busy = false;

  constructor(
    private readonly sim: SimCluster,
    private readonly id: number,
    private readonly rng: SeededRandom,
    private readonly history: KvHistory,
    private readonly writes: WriteTracker,
  ) {}

  start(): void {
    this.sim.clock.schedule(this.rng.int(0, 20), () => this.next());
  }

  stop(): void {
    this.stopped = true;
  }

  private next(): void {
    if (this.stopped) return;
    this.busy = true;
    const key = this.rng.pick(KEYS);
    const roll = this.rng.next();
    const value = `${this.id}.${this.n++};`;
    const input: KvInput =
      roll < 0.5
        ? { op: 'get', key }
        : roll < 0.75
          ? { op: 'put', key, value }
          : { op: 'append', key, value };
    const rec = this.history.begin(this.id, input);
    const deadline = this.sim.clock.now() + OP_TIMEOUT_MS;
    if (input.op === 'get') this.read(rec, key, deadline, 0);
    else this.write(rec, encodeKv(input), deadline);
  }

  private finish(): void {
    this.busy = false;
    if (!this.stopped) this.sim.clock.schedule(this.rng.int(0, 30), () => this.next());
  }

  private target(): NodeId {
    if (this.leaderGuess && this.sim.node(this.leaderGuess).alive && this.rng.chance(0.9))
      return this.leaderGuess;
    return this.rng.pick(this.sim.ids);
  }

  private write(rec: Recorded, data: string, deadline: number): void {
    if (this.stopped || this.sim.clock.now() >= deadline) {
      rec.dropped = true; // no node ever accepted it
      this.finish();
      return;
    }
    const node = this.target();
    const r = this.sim.propose(node, data);
    if (!r.ok) {
      this.leaderGuess = r.leader;
      this.sim.clock.schedule(this.rng.int(5, 30), () => this.write(rec, data, deadline));
      return;
    }
    this.leaderGuess = node;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      this.finish();
    };
    this.writes.add(node, { rec, index: r.index, term: r.term, done });
    this.sim.clock.schedule(deadline - this.sim.clock.now(), () => {
      if (settled) return;
      this.writes.forget(node, r.index); // unknown: possibly happened
      done();
    });
  }

  private read(rec: Recorded, key: string, deadline: number, attempt: number): void {
    if (this.stopped || this.sim.clock.now() >= deadline) {
      this.finish(); // unanswered reads are dropped
      return;
    }
    // Mostly the leader; sometimes a follower (exercises ReadIndex forwarding).
    const node = this.rng.chance(0.7) ? this.target() : this.rng.pick(this.sim.ids);
    let settled = false;
    const r = this.sim.read(node, `c${this.id}-${this.n}-${attempt}`, (n: SimNode) => {
      if (settled || rec.output !== undefined) return;
      settled = true;
      rec.output = { value: n.sm.get(key) };
      rec.ret = this.history.now();
      this.finish();
    });
    if (!r.ok) {
      this.sim.clock.schedule(this.rng.int(5, 30), () =>
        this.read(rec, key, deadline, attempt + 1),
      );
      return;
    }
    // Retry elsewhere if this node does not answer soon (leader change, partition).
    this.sim.clock.schedule(Math.min(300, deadline - this.sim.clock.now()), () => {
      if (settled || rec.output !== undefined) return;
      settled = true;
      this.read(rec, key, deadline, attempt + 1);
    });
  }
}

export interface WorkloadOptions {
  readonly clients: number;
  /** simulated ms of faults */
  readonly chaosMs: number;
  /** simulated ms between two fault events, drawn from [min, max] (default 200–1000) */
  readonly faultEveryMs?: readonly [number, number];
}

export interface WorkloadResult {
  readonly history: KvOperation[];
  readonly counts: { completed: number; unknown: number; dropped: number };
  /** simulated ms from healing until a leader was seen (the liveness bound) */
  readonly recoveryMs: number;
}

/** Runs clients under random faults, then heals everything and checks liveness. */
export function runKvWorkload(sim: SimCluster, options: WorkloadOptions): WorkloadResult {
  const rng = sim.random.fork('workload');
  const history = new KvHistory();
  const writes = new WriteTracker(sim, history);
  const clients = Array.from(
    { length: options.clients },
    (_, i) => new KvClient(sim, i, rng.fork(`client${i}`), history, writes),
  );
  for (const c of clients) c.start();

  const end = sim.clock.now() + options.chaosMs;
  while (sim.clock.now() < end) {
    const [lo, hi] = options.faultEveryMs ?? [200, 1_000];
    sim.runFor(rng.int(lo, hi));
    nemesis(sim, rng);
  }

  // Heal: everyone up, one network, reliable. A leader must follow within 5 s.
  sim.heal();
  sim.setFaults(RELIABLE);
  for (const id of sim.ids) sim.restart(id);
  const healedAt = sim.clock.now();
  const led = sim.runUntil(
    () => sim.allNodes().some((n) => n.raft!.currentRole === 'leader'),
    5_000,
  );
  if (!led) sim.fail('no leader within 5 s of healing the cluster');
  const recoveryMs = sim.clock.now() - healedAt;

  // Let the clients' operations run to completion, then stop them.
  sim.runFor(1_500);
  for (const c of clients) c.stop();
  sim.runUntil(() => clients.every((c) => !c.busy), 3_000);
  sim.one(`final-${sim.seed}`, sim.ids.length);

  return { history: history.operations(), counts: history.counts(), recoveryMs };
}

function nemesis(sim: SimCluster, rng: SeededRandom): void {
  const roll = rng.next();
  if (roll < 0.25) {
    const order = rng.shuffle(sim.ids);
    const cut = rng.int(1, order.length);
    sim.partition(order.slice(0, cut), order.slice(cut));
  } else if (roll < 0.4) {
    sim.heal();
  } else if (roll < 0.55) {
    sim.crash(rng.pick(sim.ids));
  } else if (roll < 0.75) {
    for (const id of rng.shuffle(sim.ids)) {
      if (!sim.node(id).alive) {
        sim.restart(id);
        break;
      }
    }
  } else if (roll < 0.85) {
    sim.setFaults(sim.net.currentFaults === RELIABLE ? UNRELIABLE : RELIABLE);
  } else {
    const leader = sim.allNodes().find((n) => n.raft?.currentRole === 'leader');
    if (leader)
      sim.transferLeadership(leader.id, rng.pick(sim.ids.filter((id) => id !== leader.id)));
  }
}
