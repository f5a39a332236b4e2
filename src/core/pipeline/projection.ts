/**
 * The leader's projection of the committed log into the database, as a pure state
 * machine driven like RaftNode: the host asks next(), performs the step, reports back.
 * Invariants: the cursor moves only after the write that covers it succeeded; a batch
 * is retried unchanged until it is written; a new leadership starts again from the stored
 * cursor with a status machine rebuilt from the log's snapshot, so it resumes exactly there.
 */
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import type { CommittedLog, ProjectedDecision, ProjectionBatch } from './projection.ports';

/** decisions per written batch (and per transaction): at most a few DecisionBatch entries */
export const MAX_WRITE_DECISIONS = 2_000;
/** entries read from the log per step */
export const MAX_READ_ENTRIES = 64;
/** entries replayed per step while the status machine catches up to the cursor */
export const REPLAY_CHUNK = 16;
export const MIN_BACKOFF_MS = 200;
export const MAX_BACKOFF_MS = 10_000;
/** how often a follower reads the stored cursor: its compaction floor */
export const FLOOR_POLL_MS = 5_000;

export type ProjectionStep =
  /** nothing to project: wait for a commit or a leadership change */
  | { readonly kind: 'idle' }
  /** call next() again (after yielding to the event loop) */
  | { readonly kind: 'continue' }
  | { readonly kind: 'read-cursor'; readonly epoch: number }
  /** call next() again at `until` (a retry after a failure, a follower's next floor read) */
  | { readonly kind: 'sleep'; readonly until: number }
  /** entries the log no longer holds were never projected (the floor did not hold) */
  | { readonly kind: 'lost'; readonly from: number; readonly to: number }
  /** publish every alert of the batch, then report published() */
  | { readonly kind: 'publish'; readonly epoch: number; readonly batch: ProjectionBatch }
  /** write the batch (rows and cursor, one transaction), then report written() */
  | { readonly kind: 'write'; readonly epoch: number; readonly batch: ProjectionBatch };

export interface ProjectionStats {
  /** decisions written */
  projected: number;
  batches: number;
  failures: number;
  /** the cursor as this leader last wrote or read it */
  lastIndex: number | null;
  /** entries that were committed but not projected (floor not held) */
  lost: { from: number; to: number }[];
}

interface Pending {
  readonly batch: ProjectionBatch;
  alerted: boolean;
}

export class Projection {
  private leading = false;
  /** bumped per leadership: a report from an older one is ignored */
  private epoch = 0;
  /** the stored cursor; null: read it first */
  private cursor: number | null = null;
  /** status machine rebuilt for this leadership, and the last index it applied */
  private machine: SiteStatusMachine | null = null;
  private position = 0;
  private pending: Pending | null = null;
  private busy = false;
  private failuresInRow = 0;
  private retryAt = 0;
  /** the highest cursor this node read or wrote: the stored one is at least this */
  private known = 0;
  private nextPoll = 0;
  readonly stats: ProjectionStats = {
    projected: 0,
    batches: 0,
    failures: 0,
    lastIndex: null,
    lost: [],
  };

  constructor(private readonly log: CommittedLog) {}

  /** This node leads now: start over from the stored cursor. */
  lead(): void {
    this.leading = true;
    this.reset();
  }

  follow(): void {
    this.leading = false;
    this.reset();
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /**
   * The highest index known to be projected (0 when unknown): this node must not compact
   * its log past it, or a leader it becomes could not rebuild what follows the cursor.
   */
  floor(): number {
    return this.known;
  }

  next(now: number): ProjectionStep {
    if (this.busy) return { kind: 'idle' };
    if (!this.leading) {
      // A follower only keeps its floor fresh.
      if (now < this.nextPoll) return { kind: 'sleep', until: this.nextPoll };
      return this.start({ kind: 'read-cursor', epoch: this.epoch });
    }
    if (now < this.retryAt) return { kind: 'sleep', until: this.retryAt };
    if (this.cursor === null) return this.start({ kind: 'read-cursor', epoch: this.epoch });
    if (!this.machine) {
      const lost = this.restore(this.cursor);
      if (lost) return lost;
    }
    if (this.position < this.cursor) return this.replay(this.cursor);
    if (!this.pending) {
      const batch = this.collect();
      if (batch === 'reset') return { kind: 'continue' };
      if (!batch) return { kind: 'idle' };
      this.pending = { batch, alerted: false };
    }
    const p = this.pending;
    if (!p.alerted && p.batch.decisions.some((d) => d.transitions.length > 0))
      return this.start({ kind: 'publish', epoch: this.epoch, batch: p.batch });
    return this.start({ kind: 'write', epoch: this.epoch, batch: p.batch });
  }

  cursorRead(epoch: number, cursor: number, now: number): void {
    if (epoch !== this.epoch) return;
    this.known = Math.max(this.known, cursor);
    if (!this.leading) {
      this.busy = false;
      this.nextPoll = now + FLOOR_POLL_MS;
      return;
    }
    this.cursor = cursor;
    this.stats.lastIndex = cursor;
    this.succeeded();
  }

  published(epoch: number): void {
    if (!this.current(epoch) || !this.pending) return;
    this.pending.alerted = true;
    this.succeeded();
  }

  /** The batch is committed: only now does the cursor move. */
  written(epoch: number): void {
    if (!this.current(epoch) || !this.pending) return;
    const { batch } = this.pending;
    this.pending = null;
    this.cursor = batch.through;
    this.known = Math.max(this.known, batch.through);
    this.stats.lastIndex = batch.through;
    this.stats.projected += batch.decisions.length;
    this.stats.batches++;
    this.succeeded();
  }

  /** The step failed (or timed out): the same step again after a backoff. Returns the delay. */
  failed(epoch: number, now: number): number {
    if (epoch !== this.epoch) return 0;
    this.busy = false;
    if (!this.leading) {
      this.nextPoll = now + FLOOR_POLL_MS;
      return FLOOR_POLL_MS;
    }
    this.stats.failures++;
    this.failuresInRow++;
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.failuresInRow - 1));
    this.retryAt = now + delay;
    return delay;
  }

  private current(epoch: number): boolean {
    return epoch === this.epoch && this.leading;
  }

  private start(step: ProjectionStep): ProjectionStep {
    this.busy = true;
    return step;
  }

  private succeeded(): void {
    this.busy = false;
    this.failuresInRow = 0;
    this.retryAt = 0;
  }

  private reset(): void {
    this.epoch++;
    this.cursor = null;
    this.machine = null;
    this.position = 0;
    this.pending = null;
    this.busy = false;
    this.failuresInRow = 0;
    this.retryAt = 0;
    this.nextPoll = 0;
  }

  /** A status machine as of the log's snapshot; a snapshot past the cursor means lost entries. */
  private restore(cursor: number): ProjectionStep | null {
    const snap = this.log.snapshot();
    const machine = new SiteStatusMachine();
    if (snap.image.length > 0) machine.restore(snap.image);
    this.machine = machine;
    this.position = snap.index;
    if (snap.index <= cursor) return null;
    const lost = { from: cursor + 1, to: snap.index };
    this.stats.lost.push(lost);
    // Carry on from the snapshot: what follows it is still projected exactly once.
    this.cursor = snap.index;
    return { kind: 'lost', ...lost };
  }

  /** Applies entries up to the cursor without projecting them (already written). */
  private replay(cursor: number): ProjectionStep {
    const want = Math.min(REPLAY_CHUNK, cursor - this.position);
    const entries = this.log.committedFrom(this.position + 1, want);
    if (entries === undefined) {
      this.machine = null; // compacted under us: rebuild from the newer snapshot
      return { kind: 'continue' };
    }
    if (entries.length === 0) return { kind: 'idle' }; // the cursor is ahead of this log's commit
    for (const e of entries) {
      if (e.index > cursor) break;
      this.applyEntry(e.index, e.term, e.command);
    }
    return { kind: 'continue' };
  }

  private collect(): ProjectionBatch | 'reset' | null {
    const entries = this.log.committedFrom(this.position + 1, MAX_READ_ENTRIES);
    if (entries === undefined) {
      this.machine = null;
      return 'reset';
    }
    if (entries.length === 0) return null;
    const decisions: ProjectedDecision[] = [];
    for (const e of entries) {
      // A batch holds whole entries: stop before one that would overflow it.
      if (decisions.length > 0 && decisions.length >= MAX_WRITE_DECISIONS) break;
      decisions.push(...this.applyEntry(e.index, e.term, e.command));
    }
    return { through: this.position, decisions };
  }

  private applyEntry(
    index: number,
    term: number,
    command: string | Uint8Array | null,
  ): ProjectedDecision[] {
    this.position = index;
    if (command === null) return [];
    const r = this.machine!.apply({ index, term, type: 'command', data: command });
    const all = r.kind === 'batch' ? r.results : r.kind === 'decision' ? [r] : [];
    const out: ProjectedDecision[] = [];
    all.forEach((x, pos) => {
      if (x.kind !== 'decision') return;
      out.push({
        index,
        term,
        pos,
        decision: x.decision,
        status: x.status,
        transitions: x.transitions,
      });
    });
    return out;
  }
}
