import type { SeededRandom } from '@/core/ports/seeded-random';
import type { FakeClock } from './fake-clock';

/**
 * A seeded network between named nodes: it drops, delays, duplicates and
 * reorders messages and partitions any subset. Every choice comes from the
 * seeded Random and every delivery is a FakeClock timer, so a run replays
 * exactly from its seed. A message is delivered only if its two ends can talk
 * both when it is sent and when it arrives (a partition cuts connections).
 */
export interface NetworkFaults {
  /** probability a message is lost */
  readonly dropRate: number;
  /** probability a message is delivered twice */
  readonly duplicateRate: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** probability of a long delay (reordering across many later messages) */
  readonly longDelayRate: number;
  readonly longDelayMaxMs: number;
}

export const RELIABLE: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 5,
  longDelayRate: 0,
  longDelayMaxMs: 0,
};

/** Roughly the "unreliable" network of the classic Raft labs. */
export const UNRELIABLE: NetworkFaults = {
  dropRate: 0.1,
  duplicateRate: 0.05,
  minDelayMs: 0,
  maxDelayMs: 27,
  longDelayRate: 0.05,
  longDelayMaxMs: 1500,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  bytes: number;
  byType: Record<string, number>;
}

export type Deliver<M> = (from: string, to: string, message: M) => void;

export class FakeNetwork<M> {
  private faults: NetworkFaults = RELIABLE;
  private readonly disconnected = new Set<string>();
  private group = new Map<string, number>();
  private readonly cutLinks = new Set<string>();
  /** A test's scalpel: return false to drop a specific message at send time. */
  filter: ((from: string, to: string, message: M) => boolean) | null = null;
  stats: NetworkStats = emptyStats();

  constructor(
    private readonly clock: FakeClock,
    private readonly random: SeededRandom,
    private readonly deliver: Deliver<M>,
    private readonly describe: (m: M) => { type: string; bytes: number } = () => ({
      type: 'message',
      bytes: 0,
    }),
  ) {}

  setFaults(faults: NetworkFaults): void {
    this.faults = faults;
  }

  get currentFaults(): NetworkFaults {
    return this.faults;
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  /** Cuts `id` off from everyone (its partition group is kept for when it reconnects). */
  disconnect(id: string): void {
    this.disconnected.add(id);
  }

  connect(id: string): void {
    this.disconnected.delete(id);
  }

  isConnected(id: string): boolean {
    return !this.disconnected.has(id);
  }

  /** Splits the nodes into groups that can only talk within themselves; unlisted nodes are alone. */
  partition(...groups: readonly (readonly string[])[]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i)));
  }

  /** Cuts the link between two nodes only (partitions that are not groups, e.g. a–b–c without a–c). */
  cut(a: string, b: string): void {
    this.cutLinks.add(linkKey(a, b));
  }

  mend(a: string, b: string): void {
    this.cutLinks.delete(linkKey(a, b));
  }

  /** Removes every partition, cut link and disconnection. */
  heal(): void {
    this.group = new Map();
    this.disconnected.clear();
    this.cutLinks.clear();
  }

  canTalk(a: string, b: string): boolean {
    if (this.disconnected.has(a) || this.disconnected.has(b)) return false;
    if (this.cutLinks.size > 0 && this.cutLinks.has(linkKey(a, b))) return false;
    if (this.group.size === 0) return true;
    const ga = this.group.get(a);
    const gb = this.group.get(b);
    return ga !== undefined && ga === gb;
  }

  send(from: string, to: string, message: M): void {
    const { type, bytes } = this.describe(message);
    this.stats.sent++;
    this.stats.bytes += bytes;
    this.stats.byType[type] = (this.stats.byType[type] ?? 0) + 1;
    if (
      !this.canTalk(from, to) ||
      (this.filter !== null && !this.filter(from, to, message)) ||
      this.random.chance(this.faults.dropRate)
    ) {
      this.stats.dropped++;
      return;
    }
    const copies = this.random.chance(this.faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      this.clock.schedule(this.delay(), () => {
        if (!this.canTalk(from, to)) {
          this.stats.dropped++;
          return;
        }
        this.stats.delivered++;
        this.deliver(from, to, message);
      });
    }
  }

  private delay(): number {
    const f = this.faults;
    if (f.longDelayRate > 0 && this.random.chance(f.longDelayRate)) {
      return this.random.int(f.maxDelayMs, Math.max(f.maxDelayMs + 1, f.longDelayMaxMs));
    }
    return this.random.int(f.minDelayMs, f.maxDelayMs + 1);
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function emptyStats(): NetworkStats {
  return { sent: 0, delivered: 0, dropped: 0, duplicated: 0, bytes: 0, byType: {} };
}
