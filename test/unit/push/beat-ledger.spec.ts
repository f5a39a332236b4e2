import { SeededRandom } from '@/core/ports/seeded-random';
import type { LogEntry } from '@/core/raft/raft.types';
import { encodeCommand, ReplicatedState } from '@/modules/raft/replicated-state';
import { BEATS_MACHINE, BeatLedger, parseCommand } from '@/modules/push/beat-ledger';

const SEEDS = Number(process.env.BEATS_SEEDS ?? 50);

let index = 0;
const entry = (data: string): LogEntry => ({ index: ++index, term: 1, type: 'command', data });
const beats = (at: number, sites: string[]) => entry(JSON.stringify({ at, sites }));

describe('BeatLedger: site → last committed beat', () => {
  it('keeps the latest time of each site, never moving back', () => {
    const l = new BeatLedger();
    expect(l.apply(beats(1_000, ['a', 'b']))).toEqual({ kind: 'beats', applied: 2, ignored: 0 });
    l.apply(beats(3_000, ['a']));
    l.apply(beats(2_000, ['a', 'b'])); // an older leader's stamp
    expect(l.lastBeat('a')).toBe(3_000);
    expect(l.lastBeat('b')).toBe(2_000);
    expect(l.lastBeat('c')).toBeUndefined();
  });

  it('ignores beats of a forgotten (deleted) site and forgets one on request', () => {
    const gone = new Set(['gone']);
    const l = new BeatLedger((s) => gone.has(s));
    expect(l.apply(beats(1_000, ['a', 'gone']))).toEqual({
      kind: 'beats',
      applied: 1,
      ignored: 1,
    });
    expect(l.lastBeat('gone')).toBeUndefined();
    l.forget('a');
    expect(l.lastBeat('a')).toBeUndefined();
    expect(l.size).toBe(0);
  });

  it('skips a malformed command alike on every node', () => {
    const l = new BeatLedger();
    for (const bad of [
      '{"at":"soon","sites":["a"]}',
      '{"sites":["a"]}',
      '{"at":1,"sites":[1]}',
      '{"at":1,"sites":"a"}',
      'null',
    ])
      expect(l.apply(entry(bad))).toEqual({ kind: 'beats', applied: 0, ignored: 0 });
    expect(l.size).toBe(0);
    expect(parseCommand({ at: 1, sites: Array(10_001).fill('a') })).toBeNull();
  });

  it('goes into the ReplicatedState snapshot image and comes back from it', () => {
    const state = new ReplicatedState();
    const l = new BeatLedger();
    state.register(BEATS_MACHINE, l);
    state.apply({ ...entry(''), data: encodeCommand(BEATS_MACHINE, { at: 5, sites: ['x', 'y'] }) });
    const image = state.snapshot();
    const restoredState = new ReplicatedState();
    const restored = new BeatLedger();
    restoredState.register(BEATS_MACHINE, restored);
    restoredState.restore(image);
    expect(restored.lastBeat('x')).toBe(5);
    expect(restored.lastBeat('y')).toBe(5);
    // An image from before push monitors (no beats part) restores an empty ledger.
    restoredState.restore(new Uint8Array(Buffer.from(JSON.stringify({ kv: '' }))));
    expect(restored.size).toBe(0);
  });

  it(`replicas fed the same log agree, with or without a snapshot in between (${SEEDS} seeds)`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const rnd = new SeededRandom(seed);
      const sites = Array.from({ length: 8 }, (_, i) => `s${i}`);
      const forgotten = new Set<string>();
      const a = new BeatLedger((s) => forgotten.has(s));
      let b = new BeatLedger((s) => forgotten.has(s));
      const cut = rnd.int(1, 60);
      for (let step = 0; step < 80; step++) {
        if (step === cut) {
          const copy = new BeatLedger((s) => forgotten.has(s));
          copy.restore(b.snapshot());
          b = copy;
        }
        if (rnd.chance(0.1)) {
          const s = rnd.pick(sites);
          forgotten.add(s);
          a.forget(s);
          b.forget(s);
          continue;
        }
        const e = beats(
          rnd.int(0, 100_000),
          sites.filter(() => rnd.chance(0.4)),
        );
        a.apply(e);
        b.apply(e);
      }
      const view = (l: BeatLedger) => sites.map((s) => l.lastBeat(s) ?? null);
      if (JSON.stringify(view(a)) !== JSON.stringify(view(b)))
        throw new Error(`seed ${seed}: replicas differ; replay: BEATS_SEEDS=${seed}`);
      for (const s of forgotten) expect(a.lastBeat(s)).toBeUndefined();
    }
  });
});
