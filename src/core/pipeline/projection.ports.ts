/**
 * What the projection reads and writes, as values and interfaces. Invariant: a
 * batch is a pure function of the committed log from the projection's starting
 * snapshot, so any leader that builds the batch ending at index i builds the same rows.
 */
import type { Decision } from '@/core/consensus/decision';
import type { SiteStatus, StatusTransition } from '@/core/consensus/site-status.machine';

/** One committed log entry as the projection sees it. */
export interface CommittedEntry {
  readonly index: number;
  readonly term: number;
  /** the `decisions` part's command (SiteStatusMachine input); null for any other entry */
  readonly command: string | Uint8Array | null;
}

/** The node's Raft log, read-only: its snapshot and the committed entries after it. */
export interface CommittedLog {
  /** The snapshot the log starts after: its index (0: none) and the decisions part's image. */
  snapshot(): { readonly index: number; readonly image: Uint8Array };
  /**
   * Up to `max` committed entries from index `from` on, in order; [] when none is
   * committed yet; undefined when `from` is at or below the snapshot (compacted away).
   */
  committedFrom(from: number, max: number): readonly CommittedEntry[] | undefined;
}

/** One applied decision, with what the status machine made of it. */
export interface ProjectedDecision {
  readonly index: number;
  readonly term: number;
  /** position in its entry's DecisionBatch: (index, pos) is the row's key */
  readonly pos: number;
  readonly decision: Decision;
  /** the site's status after this decision */
  readonly status: SiteStatus;
  readonly transitions: readonly StatusTransition[];
}

/** Consecutive committed entries, written in one transaction together with the cursor. */
export interface ProjectionBatch {
  /** the cursor once written: every entry up to this index is projected */
  readonly through: number;
  readonly decisions: readonly ProjectedDecision[];
}

/** The database side. Both calls may fail or time out; a timed-out write may have committed. */
export interface ProjectionStore {
  /** The stored cursor (0: nothing projected yet). */
  readCursor(): Promise<number>;
  /** Rows and cursor in one transaction; a batch at or below the stored cursor changes nothing. */
  write(batch: ProjectionBatch): Promise<void>;
}

/** Records and publishes the alert of every transition in the batch, in order; idempotent by dedup key. */
export interface AlertSink {
  publish(batch: ProjectionBatch): Promise<void>;
}
