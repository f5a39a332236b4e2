import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Debug timeline of writes (RAFT_TRACE_DIR): each node appends
 * `<stage> <index> <wall ms>` lines to <dir>/<pid>.trace, stamped with
 * performance.timeOrigin + performance.now() so the nodes of one machine share
 * a clock. bench/support/write-timeline.ts folds them into a per-stage breakdown.
 * Without a directory every stamp is a no-op.
 */

export type TraceStage =
  /** leader: the client's write arrived at the kv route */
  | 'request'
  /** leader: proposed into the log */
  | 'proposed'
  /** leader: an AppendEntries carrying the entry went to the socket */
  | 'sent'
  /** follower: the AppendEntries was authenticated and stepped */
  | 'received'
  /** either: the entry is fsynced */
  | 'durable'
  /** follower: its ack went to the socket */
  | 'acked'
  /** leader: a follower's ack for the entry was stepped */
  | 'ack-received'
  /** leader: applied (committed) */
  | 'applied'
  /** leader: the client's answer was written */
  | 'answered';

const FLUSH_LINES = 4_096;

export class WriteTrace {
  private lines: string[] = [];
  private readonly file?: string;

  constructor(dir: string | undefined) {
    if (dir) this.file = join(dir, `${process.pid}.trace`);
  }

  get on(): boolean {
    return this.file !== undefined;
  }

  stamp(stage: TraceStage, index: number): void {
    if (this.file) this.stampAt(stage, index, performance.now());
  }

  /** A stamp for a moment already taken (performance.now()). */
  stampAt(stage: TraceStage, index: number, at: number): void {
    if (!this.file) return;
    this.lines.push(`${stage} ${index} ${(performance.timeOrigin + at).toFixed(3)}`);
    if (this.lines.length >= FLUSH_LINES) this.flush();
  }

  flush(): void {
    if (!this.file || this.lines.length === 0) return;
    appendFileSync(this.file, this.lines.join('\n') + '\n');
    this.lines = [];
  }
}
