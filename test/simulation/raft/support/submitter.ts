import type { TimerHandle } from '../../../fakes/fake-clock';
import type { SimCluster } from './sim-cluster';

/**
 * A client that keeps trying to get one value committed, driven by the fake
 * clock so several can run "concurrently": it offers the command to each node
 * in turn until one accepts as leader, waits up to 2 s for `expected` nodes to
 * apply it, and otherwise starts over (the classic lab's one(), asynchronous).
 */
export class Submitter {
  done = false;
  index = -1;
  private timer: TimerHandle | null = null;
  private next = 0;
  private readonly data: string;

  constructor(
    private readonly sim: SimCluster,
    readonly value: string,
    private readonly expected = 1,
  ) {
    this.data = sim.commandFor(value);
    this.next = sim.random.int(0, sim.ids.length);
    this.timer = sim.clock.schedule(0, () => this.attempt());
  }

  stop(): void {
    this.timer?.cancel();
  }

  private attempt(): void {
    for (let k = 0; k < this.sim.ids.length; k++) {
      const id = this.sim.ids[this.next];
      this.next = (this.next + 1) % this.sim.ids.length;
      if (!this.sim.node(id).alive) continue;
      const r = this.sim.propose(id, this.data);
      if (r.ok) {
        this.await(r.index, this.sim.clock.now() + 2_000);
        return;
      }
    }
    this.timer = this.sim.clock.schedule(50, () => this.attempt());
  }

  private await(index: number, deadline: number): void {
    const c = this.sim.nCommitted(index);
    if (c.count >= this.expected && c.data === this.data) {
      this.done = true;
      this.index = index;
      return;
    }
    if (this.sim.clock.now() >= deadline || (c.count > 0 && c.data !== this.data)) {
      this.timer = this.sim.clock.schedule(0, () => this.attempt());
      return;
    }
    this.timer = this.sim.clock.schedule(20, () => this.await(index, deadline));
  }
}

/**
 * The churn tests' client: proposes value after value to whoever leads and
 * records the ones it saw committed (acknowledged), until stopped.
 */
export class ChurnClient {
  readonly acknowledged: string[] = [];
  private timer: TimerHandle | null = null;
  private stopped = false;
  private n = 0;
  private current: { data: string; value: string; index: number; deadline: number } | null = null;

  constructor(
    private readonly sim: SimCluster,
    private readonly name: string,
  ) {
    this.timer = sim.clock.schedule(sim.random.int(0, 50), () => this.loop());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private loop(): void {
    if (this.stopped) return;
    if (this.current) {
      const c = this.sim.nCommitted(this.current.index);
      if (c.count > 0 && c.data === this.current.data) {
        this.acknowledged.push(this.current.value);
        this.current = null;
      } else if (
        (c.count > 0 && c.data !== this.current.data) ||
        this.sim.clock.now() > this.current.deadline
      ) {
        this.current = null; // lost to a leader change, or unknown: not acknowledged
      }
    } else {
      const value = `${this.name}-${this.n++}`;
      const data = this.sim.commandFor(value);
      for (const id of this.sim.random.shuffle(this.sim.ids)) {
        const r = this.sim.propose(id, data);
        if (r.ok) {
          this.current = { data, value, index: r.index, deadline: this.sim.clock.now() + 2_000 };
          break;
        }
      }
    }
    this.timer = this.sim.clock.schedule(this.current ? 10 : this.sim.random.int(5, 60), () =>
      this.loop(),
    );
  }
}
