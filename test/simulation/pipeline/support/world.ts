import { encodeCommand, type Decision, type Verdict } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import { FlooredCompaction } from '@/core/pipeline/floored-compaction';
import { Projection, type ProjectionStep } from '@/core/pipeline/projection';
import type {
  CommittedEntry,
  CommittedLog,
  ProjectionBatch,
} from '@/core/pipeline/projection.ports';
import { SeededRandom } from '@/core/ports/seeded-random';
import { FakeClock } from '../../../fakes/fake-clock';

/**
 * One seeded run of the projection: a committed log that grows (DecisionBatch entries
 * among other parts' entries), three nodes that each apply it, compact behind their floor
 * and run a Projection, leadership that moves (the deposed leader's write may still land),
 * and a database and an alert broker that fail, time out (having committed) and go away
 * for whole outages. At the end every fault stops and the last leader catches up.
 */

export interface WorldOptions {
  /** Projection as the nodes run it; a mutation swaps in a broken one */
  projection?: (log: CommittedLog) => Projection;
  /** compaction ignores the floor (a mutation) */
  ignoreFloor?: boolean;
}

export const CHANNELS = ['email', 'webhook'] as const;
const SITES = 5;
const RUN_MS = 15_000;
const SNAPSHOT_EVERY = 8;

/** What the fake database and broker hold, and what went wrong in them. */
export interface Stored {
  cursor: number;
  rows: Map<string, { round: number; verdict: Verdict; siteId: string }>;
  status: Map<string, { lastLogIndex: number; verdict: Verdict; lastRound: number }>;
  /** outbox: one row per dedup key, and its deliveries per channel */
  alerts: Map<string, number>;
  deliveries: Map<string, number>;
  violations: string[];
}

interface SimNode {
  id: number;
  commit: number;
  snapshot: { index: number; image: Uint8Array };
  compaction: FlooredCompaction;
  projection: Projection;
  /** what the node's driver waits for */
  waiting: 'idle' | 'sleep' | 'io' | null;
  sleepTimer: { cancel(): void } | null;
}

export class World {
  readonly rng: SeededRandom;
  readonly clock = new FakeClock(0);
  readonly log: CommittedEntry[] = [];
  readonly nodes: SimNode[] = [];
  readonly db: Stored = {
    cursor: 0,
    rows: new Map(),
    status: new Map(),
    alerts: new Map(),
    deliveries: new Map(),
    violations: [],
  };
  leader = 0;
  leaderChanges = 0;
  /** faults are off after the run: everything must then converge */
  private faulty = true;
  private dbDownUntil = 0;
  private brokerDownUntil = 0;
  private round = 0;
  /** every node applies the same log: one machine, and its image after each index */
  private readonly applied = new SiteStatusMachine();
  private readonly images: Uint8Array[] = [new Uint8Array()];
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    readonly seed: number,
    private readonly opts: WorldOptions = {},
  ) {
    this.rng = new SeededRandom(seed);
    for (let id = 0; id < 3; id++) {
      const node: SimNode = {
        id,
        commit: 0,
        snapshot: { index: 0, image: new Uint8Array() },
        compaction: new FlooredCompaction(SNAPSHOT_EVERY),
        projection: null as unknown as Projection,
        waiting: null,
        sleepTimer: null,
      };
      const view = this.viewOf(node);
      node.projection = opts.projection ? opts.projection(view) : new Projection(view);
      this.nodes.push(node);
    }
  }

  run(): void {
    this.nodes[this.leader].projection.lead();
    for (const n of this.nodes) this.drive(n);
    const commits = this.clock.every(this.rng.int(80, 300), () => this.commitSomething());
    this.scheduleLeaderChange();
    this.scheduleOutages();
    this.clock.schedule(RUN_MS, () => {
      this.faulty = false;
      this.dbDownUntil = 0;
      this.brokerDownUntil = 0;
      commits.cancel();
      // The last leader has every committed entry; nothing new is proposed.
      const last = this.nodes[this.leader];
      this.advance(last, this.log.length);
      for (const n of this.nodes) this.drive(n);
    });
    this.clock.runUntil(RUN_MS + 60_000);
  }

  // ---- the committed log ----

  private commitSomething(): void {
    const kind = this.rng.int(0, 10);
    const index = this.log.length + 1;
    const term = this.leaderChanges + 1;
    if (kind === 0) {
      this.log.push({ index, term, command: null }); // another part's entry or a no-op
    } else {
      this.round++;
      const decisions: Decision[] = [];
      for (let s = 0; s < SITES; s++) {
        if (!this.rng.chance(0.7)) continue;
        decisions.push(this.decision(s));
      }
      this.log.push({ index, term, command: encodeCommand({ t: 'batch', decisions }) });
      for (const d of decisions) this.applied.applyDecision(d);
    }
    this.images.push(this.applied.snapshot());
    // The leader knows the commit at once; followers learn it a little later.
    for (const n of this.nodes) {
      const lag = n.id === this.leader ? 0 : this.rng.int(0, 4);
      this.advance(n, Math.max(n.commit, this.log.length - lag));
    }
  }

  private decision(s: number): Decision {
    const siteId = `site-${s}`;
    const flip = this.rng.chance(0.25);
    const before = this.verdicts.get(siteId) ?? 'UP';
    const verdict: Verdict = flip ? (before === 'UP' ? 'DOWN' : 'UP') : before;
    this.verdicts.set(siteId, verdict);
    const region: Verdict = this.rng.chance(0.2) ? 'DOWN' : 'UP';
    const down = verdict === 'DOWN' ? 2 : 0;
    return {
      siteId,
      url: `http://s${s}.example/`,
      round: this.round,
      verdict,
      regionVerdicts: { eu: verdict === 'DOWN' ? 'DOWN' : region, us: verdict },
      tally: { up: 2 - down, down, total: 2, quorum: 2, byRegion: {} },
      voters: ['v1', 'v2'],
      decidedAt: 1_700_000_000_000 + this.round * 1_000,
    };
  }

  /** A node learns the commit index, applies up to it and compacts behind its floor. */
  private advance(n: SimNode, commit: number): void {
    n.commit = commit;
    const floor = this.opts.ignoreFloor ? Number.POSITIVE_INFINITY : n.projection.floor();
    const due = n.compaction.next(n.commit, n.snapshot.index, floor, () => this.images[commit]);
    if (due) n.snapshot = { index: due.index, image: due.data };
    if (n.waiting === 'idle') this.interrupt(n);
  }

  private viewOf(n: SimNode): CommittedLog {
    return {
      snapshot: () => n.snapshot,
      committedFrom: (from, max) => {
        if (from <= n.snapshot.index) return undefined;
        return this.log.slice(from - 1, Math.min(n.commit, from + max - 1));
      },
    };
  }

  // ---- faults ----

  private scheduleLeaderChange(): void {
    this.clock.schedule(this.rng.int(1_000, 5_000), () => {
      if (!this.faulty) return;
      const old = this.nodes[this.leader];
      old.projection.follow();
      this.leader = (this.leader + this.rng.int(1, 3)) % 3;
      this.leaderChanges++;
      const next = this.nodes[this.leader];
      // Raft: a new leader holds every committed entry.
      this.advance(next, this.log.length);
      next.projection.lead();
      for (const n of [old, next]) this.interrupt(n);
      this.scheduleLeaderChange();
    });
  }

  private scheduleOutages(): void {
    this.clock.schedule(this.rng.int(500, 4_000), () => {
      if (!this.faulty) return;
      const until = this.clock.now() + this.rng.int(200, 8_000);
      if (this.rng.chance(0.7)) this.dbDownUntil = until;
      else this.brokerDownUntil = until;
      this.scheduleOutages();
    });
  }

  /** An IO call: latency, then it fails, times out (after doing its work) or succeeds. */
  private io<T>(
    n: SimNode,
    down: () => boolean,
    work: () => T,
    done: (ok: boolean, value?: T) => void,
  ): void {
    n.waiting = 'io';
    this.clock.schedule(this.rng.int(1, 80), () => {
      if (down()) return done(false);
      const fate = this.faulty ? this.rng.int(0, 20) : 19;
      if (fate === 0) return done(false); // refused before doing anything
      const value = work();
      if (fate === 1) return this.clock.schedule(this.rng.int(0, 500), () => done(false)); // timed out
      done(true, value);
    });
  }

  private dbDown = (): boolean => this.clock.now() < this.dbDownUntil;
  private brokerDown = (): boolean => this.clock.now() < this.brokerDownUntil;

  // ---- the fake database and broker, with the semantics of the real ones ----

  private write(batch: ProjectionBatch): void {
    const db = this.db;
    if (db.cursor >= batch.through) return;
    for (const d of batch.decisions) {
      if (d.index <= db.cursor) continue;
      const key = `${d.index}:${d.pos}`;
      if (db.rows.has(key)) db.violations.push(`row ${key} written twice`);
      db.rows.set(key, {
        round: d.decision.round,
        verdict: d.decision.verdict,
        siteId: d.decision.siteId,
      });
      const st = db.status.get(d.decision.siteId);
      if (!st || st.lastLogIndex < d.index)
        db.status.set(d.decision.siteId, {
          lastLogIndex: d.index,
          verdict: d.status.verdict,
          lastRound: d.status.lastRound,
        });
    }
    db.cursor = batch.through;
  }

  private publish(batch: ProjectionBatch): void {
    for (const d of batch.decisions)
      for (const t of d.transitions) {
        // insertIfAbsent: one outbox row per dedup key; the consumer delivers once per channel.
        if (this.db.alerts.has(t.dedupKey)) continue;
        this.db.alerts.set(t.dedupKey, 1);
        for (const c of CHANNELS) {
          const k = `${t.dedupKey}|${c}`;
          this.db.deliveries.set(k, (this.db.deliveries.get(k) ?? 0) + 1);
        }
      }
  }

  // ---- each node's driver: what DecisionProjector does with real IO ----

  /** A commit or a leadership change: an idle or sleeping driver looks again (IO finishes first). */
  private interrupt(n: SimNode): void {
    if (n.waiting === 'io' || n.waiting === null) return;
    n.sleepTimer?.cancel();
    n.sleepTimer = null;
    n.waiting = null;
    this.clock.schedule(0, () => this.drive(n));
  }

  private drive(n: SimNode): void {
    if (n.waiting !== null) return;
    const step: ProjectionStep = n.projection.next(this.clock.now());
    const again = () => {
      n.waiting = null;
      this.drive(n);
    };
    switch (step.kind) {
      case 'idle':
        n.waiting = 'idle';
        return;
      case 'sleep':
        n.waiting = 'sleep';
        n.sleepTimer = this.clock.schedule(step.until - this.clock.now(), () => {
          n.sleepTimer = null;
          again();
        });
        return;
      case 'continue':
      case 'lost':
        n.waiting = 'io';
        this.clock.schedule(0, again);
        return;
      case 'read-cursor':
        return this.io(
          n,
          this.dbDown,
          () => this.db.cursor,
          (ok, c) => {
            if (ok) n.projection.cursorRead(step.epoch, c!, this.clock.now());
            else n.projection.failed(step.epoch, this.clock.now());
            again();
          },
        );
      case 'publish':
        return this.io(
          n,
          this.brokerDown,
          () => this.publish(step.batch),
          (ok) => {
            if (ok) n.projection.published(step.epoch);
            else n.projection.failed(step.epoch, this.clock.now());
            again();
          },
        );
      case 'write':
        return this.io(
          n,
          this.dbDown,
          () => this.write(step.batch),
          (ok) => {
            if (ok) n.projection.written(step.epoch);
            else n.projection.failed(step.epoch, this.clock.now());
            again();
          },
        );
    }
  }
}
