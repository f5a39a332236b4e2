import { readPush } from '@/modules/push/push-rule';

const window = { periodS: 4, graceS: 2 };
const beat = 1_000_000;

describe('push rule: UP iff now − last beat ≤ period + grace', () => {
  it('is UP up to and including period + grace after the beat', () => {
    expect(readPush(beat, window, beat).up).toBe(true);
    expect(readPush(beat, window, beat + 4_000).up).toBe(true);
    expect(readPush(beat, window, beat + 6_000)).toEqual({ up: true, ageMs: 6_000 });
  });

  it('is DOWN one millisecond later, saying how old the beat is', () => {
    const r = readPush(beat, window, beat + 6_001);
    expect(r.up).toBe(false);
    expect(r).toMatchObject({ ageMs: 6_001 });
    expect(!r.up && r.reason).toBe('no beat for 6 s (period 4 s + grace 2 s)');
  });

  it('is DOWN for a site with no committed beat (never armed)', () => {
    expect(readPush(undefined, window, beat)).toEqual({
      up: false,
      ageMs: null,
      reason: 'no beat committed for this site yet',
    });
  });

  it('reads a beat stamped ahead of this clock (leader skew) as fresh, not negative', () => {
    expect(readPush(beat + 500, window, beat)).toEqual({ up: true, ageMs: 0 });
  });

  it('with no grace, the period alone', () => {
    expect(readPush(beat, { periodS: 60, graceS: 0 }, beat + 60_000).up).toBe(true);
    expect(readPush(beat, { periodS: 60, graceS: 0 }, beat + 60_001).up).toBe(false);
  });
});
