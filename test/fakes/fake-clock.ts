import type { Clock } from '@/core/ports/clock.port';

/**
 * A simulated clock with a timer queue. Time only moves when a test moves it,
 * and timers due at the same instant fire in the order they were scheduled,
 * so a run is a pure function of its inputs (and its seed).
 */
export interface TimerHandle {
  cancel(): void;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: Timer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Runs `fn` after `delayMs` (0 = later at this same instant, after what is already queued). */
  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: Timer = {
      at: this.time + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Runs `fn` every `intervalMs`, first after `firstDelayMs`. */
  every(intervalMs: number, fn: () => void, firstDelayMs = intervalMs): TimerHandle {
    let current: TimerHandle | null = null;
    let stopped = false;
    const run = (): void => {
      if (stopped) return;
      current = this.schedule(intervalMs, run);
      fn();
    };
    current = this.schedule(firstDelayMs, run);
    return {
      cancel: () => {
        stopped = true;
        current?.cancel();
      },
    };
  }

  /** Fires every timer due at or before `until`, in time order; the clock ends at `until`. */
  runUntil(until: number, stop?: () => boolean): void {
    while (this.heap.length > 0 && this.heap[0].at <= until) {
      const t = this.pop();
      if (t.cancelled) continue;
      this.time = t.at;
      t.fn();
      if (stop?.()) return;
    }
    if (until > this.time) this.time = until;
  }

  advance(ms: number): void {
    this.runUntil(this.time + ms);
  }

  get pendingTimers(): number {
    return this.heap.length;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
