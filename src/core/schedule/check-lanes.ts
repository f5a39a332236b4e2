/**
 * Admission for checks: at most `capacity` run at once, and checks of "suspect"
 * sites (ones that recently hung or crawled) never hold more than `suspectCap` of
 * those slots, so a wave of hanging sites cannot starve the healthy ones.
 */

export type Lane = 'main' | 'suspect';

/** FIFO with O(1) amortised shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class CheckLanes<J extends { dueAt: number }> {
  private readonly queues: Record<Lane, Fifo<J>> = { main: new Fifo(), suspect: new Fifo() };
  private readonly running: Record<Lane, number> = { main: 0, suspect: 0 };
  readonly suspectCap: number;

  /** @param suspectShare fraction of `capacity` suspect checks may occupy, in (0, 1] */
  constructor(
    readonly capacity: number,
    suspectShare: number,
  ) {
    this.suspectCap = Math.max(1, Math.floor(capacity * suspectShare));
  }

  get queued(): number {
    return this.queues.main.length + this.queues.suspect.length;
  }

  get inFlight(): number {
    return this.running.main + this.running.suspect;
  }

  inFlightOf(lane: Lane): number {
    return this.running[lane];
  }

  push(job: J, lane: Lane): void {
    this.queues[lane].push(job);
  }

  /**
   * The next job allowed to start, oldest due first among the lanes that may start
   * one; the caller must call done(lane) when it finishes (or is dropped).
   */
  take(): { job: J; lane: Lane } | undefined {
    if (this.inFlight >= this.capacity) return undefined;
    const main = this.queues.main.peek();
    const suspect = this.running.suspect < this.suspectCap ? this.queues.suspect.peek() : undefined;
    let lane: Lane;
    if (main && suspect) lane = suspect.dueAt < main.dueAt ? 'suspect' : 'main';
    else if (main) lane = 'main';
    else if (suspect) lane = 'suspect';
    else return undefined;
    this.running[lane] += 1;
    return { job: this.queues[lane].shift()!, lane };
  }

  done(lane: Lane): void {
    this.running[lane] = Math.max(0, this.running[lane] - 1);
  }

  /**
   * Removes the jobs at the front of each lane for which `stale` holds (ones that can no
   * longer start on time), while nothing may start; returns how many went.
   */
  dropStale(stale: (job: J) => boolean): number {
    let dropped = 0;
    for (const lane of ['main', 'suspect'] as const) {
      const q = this.queues[lane];
      for (let j = q.peek(); j !== undefined && stale(j); j = q.peek()) {
        q.shift();
        dropped++;
      }
    }
    return dropped;
  }

  /** Removes every queued job (shutdown); running ones are the caller's to settle. */
  drain(): J[] {
    const out: J[] = [];
    for (const lane of ['main', 'suspect'] as const) {
      for (let j = this.queues[lane].shift(); j !== undefined; j = this.queues[lane].shift()) {
        out.push(j);
      }
    }
    return out;
  }
}
