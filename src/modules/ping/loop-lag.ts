/**
 * How late this process's event loop runs, sampled by a short timer: the measure of
 * overload that every part of a node shares. Checks are the only load a node chooses
 * to take on; when the loop runs late, Raft heartbeats and votes, gossip and database
 * replies wait behind them, and past the election timeout the cluster loses its leader.
 * The scheduler starts no check while the loop is later than its limit (ping-scheduler).
 */

export interface LoopLagGauge {
  /** how late the loop ran at the latest sample, ms */
  lagMs(): number;
}

export const LOOP_SAMPLE_MS = 20;

export class LoopLagMonitor implements LoopLagGauge {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private latest = 0;

  constructor(
    private readonly sampleMs = LOOP_SAMPLE_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = this.clock();
    this.timer = setInterval(() => {
      const now = this.clock();
      this.latest = Math.max(0, now - this.last - this.sampleMs);
      this.last = now;
    }, this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.latest = 0;
  }

  lagMs(): number {
    if (!this.timer) return 0;
    // A loop stuck since the last sample is at least that late, before the timer can say so.
    return Math.max(this.latest, this.clock() - this.last - this.sampleMs);
  }
}
