import { Projection, type ProjectionStep } from '@/core/pipeline/projection';
import { runAndCheck } from './support/invariants';
import { World, type WorldOptions } from './support/world';

/**
 * The simulation must catch a broken projection: each mutation below runs the same
 * seeded worlds as projection.spec.ts and must break the invariant in some of them.
 */
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

/** Moves the cursor as soon as the write is handed out, before it succeeded. */
class CursorBeforeWrite extends Projection {
  override next(now: number): ProjectionStep {
    const step = super.next(now);
    if (step.kind === 'write') this.written(step.epoch);
    return step;
  }
}

function failingSeeds(opts: WorldOptions): { seeds: number[]; example: string } {
  const seeds: number[] = [];
  let example = '';
  for (const seed of SEEDS) {
    const broken = runAndCheck(new World(seed, opts));
    if (broken.length === 0) continue;
    seeds.push(seed);
    example ||= `seed ${seed}: ${broken[0]}`;
  }
  return { seeds, example };
}

describe('pipeline simulation mutations', () => {
  it('catches a cursor advanced before the write', () => {
    const r = failingSeeds({ projection: (log) => new CursorBeforeWrite(log) });
    console.log(`cursor-before-write: ${r.seeds.length}/${SEEDS.length} seeds fail, ${r.example}`);
    expect(r.seeds.length).toBeGreaterThan(0);
  });

  it('catches compaction past the projection floor', () => {
    const r = failingSeeds({ ignoreFloor: true });
    console.log(`no floor: ${r.seeds.length}/${SEEDS.length} seeds fail, ${r.example}`);
    expect(r.seeds.length).toBeGreaterThan(0);
  });
});
