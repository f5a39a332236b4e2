/**
 * The `beats` part of the replicated state: site → time of its last committed beat.
 * Invariant: apply reads nothing but the entry (and the forgotten-site predicate, itself
 * replicated state at the same log position), so every node holds the same map at the
 * same index; the snapshot image carries it, and deleted sites leave it (forget).
 *
 * The time is the leader's clock when it proposed the batch, written into the entry:
 * replicas never read their own clock at apply. A validator then compares that time with
 * its own clock when it checks; see push-rule.ts for what clock skew does to that.
 */
import type { LogEntry, StateMachine } from '@/core/raft/raft.types';

export const BEATS_MACHINE = 'beats';
/** sites per beat entry (a follower's forwarded batch is bounded the same) */
export const MAX_SITES_PER_ENTRY = 10_000;

/** One committed batch of beats: every site in it beat at `at` (epoch ms, the leader's clock). */
export interface BeatCommand {
  at: number;
  sites: string[];
}

export interface BeatApplyResult {
  kind: 'beats';
  applied: number;
  ignored: number;
}

export interface BeatReader {
  /** epoch ms of the site's last committed beat, undefined before the first */
  lastBeat(siteId: string): number | undefined;
}

const SNAPSHOT_VERSION = 1;

export class BeatLedger implements StateMachine<BeatApplyResult>, BeatReader {
  private last = new Map<string, number>();

  constructor(private readonly isForgotten: (siteId: string) => boolean = () => false) {}

  apply(entry: LogEntry): BeatApplyResult {
    const text = typeof entry.data === 'string' ? entry.data : Buffer.from(entry.data).toString();
    const cmd = parseCommand(JSON.parse(text));
    if (!cmd) return { kind: 'beats', applied: 0, ignored: 0 };
    let applied = 0;
    let ignored = 0;
    for (const site of cmd.sites) {
      if (this.isForgotten(site)) {
        ignored++;
        continue;
      }
      // A batch proposed by an old leader with a clock behind the new one's never moves time back.
      this.last.set(site, Math.max(this.last.get(site) ?? 0, cmd.at));
      applied++;
    }
    return { kind: 'beats', applied, ignored };
  }

  lastBeat(siteId: string): number | undefined {
    return this.last.get(siteId);
  }

  /** A deleted site leaves the map (called in log order, as its forget-site entry applies). */
  forget(siteId: string): void {
    this.last.delete(siteId);
  }

  get size(): number {
    return this.last.size;
  }

  snapshot(): Uint8Array {
    return new Uint8Array(
      Buffer.from(JSON.stringify({ v: SNAPSHOT_VERSION, last: [...this.last.entries()] })),
    );
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.last = new Map();
      return;
    }
    const image = JSON.parse(Buffer.from(data).toString()) as { v?: unknown; last?: unknown };
    if (image.v !== SNAPSHOT_VERSION || !Array.isArray(image.last))
      throw new Error('beats snapshot: unknown image');
    this.last = new Map(
      (image.last as unknown[]).filter(
        (p): p is [string, number] =>
          Array.isArray(p) && typeof p[0] === 'string' && Number.isFinite(p[1]),
      ),
    );
  }
}

/** The command as the log holds it, or null for anything else (skipped alike on every node). */
export function parseCommand(raw: unknown): BeatCommand | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { at, sites } = raw as { at?: unknown; sites?: unknown };
  if (typeof at !== 'number' || !Number.isFinite(at) || !Array.isArray(sites)) return null;
  if (sites.length > MAX_SITES_PER_ENTRY || !sites.every((s) => typeof s === 'string')) return null;
  return { at, sites: sites };
}
